import type { Server } from 'socket.io';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';
import { payloadOf, type OutboxEvent } from '../bank/outbox/index.js';
import type { Link } from './redis.js';

export type PublishPath = 'live' | 'relay';
export type Deliver = (events: OutboxEvent[], path: PublishPath) => Promise<{ delivered: number[]; failed: number[] }>;

/**
 * Emits outbox events to their rooms, in seq order. Each event goes out in ONE emit to the
 * union of its rooms, so a socket in several of them receives it once. An event whose
 * Redis publish failed still reached this pod's sockets; it is reported as failed so its
 * row stays unpublished and the relay re-emits it to every pod once Redis is back
 * (clients de-duplicate by seq).
 */
export function deliverer(io: Server, link: Link, metrics: Metrics, logger: Logger): Deliver {
  // Without Redis this process is the only one: an event none of whose rooms has a socket
  // here reaches nobody, so it is not encoded at all (under write load most events are not
  // watched by anyone connected).
  const alone = !link.adapter;
  const unwatched = (rooms: string[]) => {
    const here = io.of('/').adapter.rooms;
    return rooms.every((r) => !here.has(r));
  };
  const counted = (e: OutboxEvent, path: PublishPath) => {
    metrics.eventsPublished.inc({ path, type: e.type });
    const lag = (Date.now() - Date.parse(e.createdAt)) / 1000;
    if (Number.isFinite(lag)) metrics.publishLag.observe(Math.max(0, lag));
  };
  return async (events, path) => {
    const outcomes: Promise<boolean>[] = [];
    for (const e of events) {
      if (!e.rooms.length) {
        outcomes.push(Promise.resolve(true));
        continue;
      }
      if (alone && unwatched(e.rooms)) {
        outcomes.push(Promise.resolve(true));
        counted(e, path);
        continue;
      }
      const payload = payloadOf(e);
      outcomes.push(link.published(() => io.to(e.rooms).emit(e.type, payload)));
      if (e.type === 'session.revoked') {
        for (const room of e.rooms.filter((r) => r.startsWith('session:'))) {
          // Every pod (through the adapter), and this one directly in case Redis is down.
          io.in(room).disconnectSockets(true);
          io.local.in(room).disconnectSockets(true);
        }
      }
      counted(e, path);
    }
    const ok = await Promise.all(outcomes);
    const delivered: number[] = [];
    const failed: number[] = [];
    ok.forEach((good, i) => (good ? delivered : failed).push(events[i].seq));
    metrics.redisPublishFailures.inc(failed.length);
    if (failed.length) logger.debug({ failed: failed.length, path }, 'events reached local sockets only; left for the relay');
    return { delivered, failed };
  };
}
