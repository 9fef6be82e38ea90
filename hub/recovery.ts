import type { Server } from 'socket.io';
import type { BankContext } from '../bank/core/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';
import { loadPublishedSince, payloadOf } from '../bank/outbox/index.js';

const SKEW_MARGIN_MS = 5_000;
const MAX_REPLAY = 5_000;

/**
 * After this pod's Redis subscription was down, its sockets — still connected, so they
 * will not sync by themselves — missed what other pods emitted meanwhile. Re-emit locally
 * every event published since the gap began (clients de-duplicate by seq); events never
 * published are the relay's. Past MAX_REPLAY, close the sockets' transports instead: the
 * clients reconnect at once and `sync` from their last seq.
 */
export async function replayLocally(io: Server, bank: BankContext, metrics: Metrics, logger: Logger, downSince: number): Promise<void> {
  if (io.of('/').sockets.size === 0) return;
  const events = await loadPublishedSince(bank.db, new Date(downSince - SKEW_MARGIN_MS).toISOString(), MAX_REPLAY + 1);
  if (events.length > MAX_REPLAY) {
    logger.warn({ events: events.length }, 'too much missed during the Redis gap: asking local clients to reconnect and sync');
    for (const s of io.of('/').sockets.values()) s.conn.close();
    return;
  }
  for (const e of events) {
    if (!e.rooms.length) continue;
    io.local.to(e.rooms).emit(e.type, payloadOf(e));
    metrics.eventsPublished.inc({ path: 'relay', type: e.type });
    if (e.type === 'session.revoked') {
      for (const room of e.rooms.filter((r) => r.startsWith('session:'))) io.local.in(room).disconnectSockets(true);
    }
  }
  if (events.length) logger.info({ events: events.length }, 're-emitted to local sockets what the Redis gap hid');
}
