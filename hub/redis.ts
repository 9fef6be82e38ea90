import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * How emits leave this process. Without Redis everything is local; with Redis the
 * Socket.IO adapter carries each emit to every pod.
 */
export interface Link {
  /** The Socket.IO adapter constructor to install, if any. */
  adapter?: ReturnType<typeof createAdapter>;
  /** True when an emit made now would reach every pod. */
  ready(): boolean;
  /** Each Redis client's state (pub, sub); none without Redis. */
  clients(): Record<string, boolean>;
  /**
   * Runs `emit` (which emits synchronously) and resolves true when every Redis publish it
   * caused succeeded. Local sockets are served by the adapter either way; false means other
   * pods may have missed it, so the outbox row must stay unpublished for the relay.
   */
  published(emit: () => void): Promise<boolean>;
  readiness(): Promise<[name: string, ok: boolean]>;
  /**
   * Called when this pod's subscription to the other pods' emits is back after a gap
   * (and once at start), with the time the gap began: what was emitted meanwhile never
   * reached this pod's sockets.
   */
  onResubscribed(cb: (downSince: number) => void): void;
  close(): Promise<void>;
}

export const localLink = (): Link => ({
  ready: () => true,
  clients: () => ({}),
  published: async (emit) => {
    emit();
    return true;
  },
  readiness: async () => ['redis', true],
  onResubscribed: () => undefined,
  close: async () => undefined,
});

/** A publish that has not settled by then counts as failed (Redis is going away). */
const PUBLISH_SETTLE_MS = 1_500;

/**
 * Two ioredis clients for the adapter. A Redis outage must not crash the process, stall
 * REST or stall local pushes:
 *  - both clients have 'error' handlers and reconnect forever (capped backoff);
 *  - the publisher has no offline queue, so an emit during an outage fails at once instead
 *    of piling up; its rejected promise is caught here (the adapter ignores it, and an
 *    unhandled rejection would kill the process);
 *  - the subscriber keeps its queue so its subscriptions are (re)made when Redis returns.
 */
export async function redisLink(url: string, prefix: string, logger: Logger): Promise<Link> {
  const retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const pub = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, connectionName: 'hub-pub' });
  const sub = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, connectionName: 'hub-sub' });

  let up = false;
  let closing = false;
  const watch = (client: Redis, name: string) => {
    client.on('error', (err: Error) => {
      // ioredis reports every failed reconnect; say it once per outage.
      if (up) logger.warn({ err: err.message, client: name }, 'redis error');
    });
    client.on('ready', () => {
      const wasUp = up;
      up = pub.status === 'ready' && sub.status === 'ready';
      if (up && !wasUp) logger.info('redis connected: the hub reaches every pod');
    });
    client.on('close', () => {
      if (up && !closing) logger.warn({ client: name }, 'redis connection lost: pushes stay local, the relay catches up later');
      up = false;
    });
  };
  watch(pub, 'pub');
  watch(sub, 'sub');

  // The subscriber's gaps: from when it was lost until its subscriptions are made again.
  const resubscribed: ((downSince: number) => void)[] = [];
  let subDownSince: number | null = Date.now();
  sub.on('close', () => {
    subDownSince ??= Date.now();
  });
  sub.on('ready', () => {
    const since = subDownSince;
    if (since === null) return;
    // 'ready' comes before ioredis re-sends the subscriptions; a PING queued now is answered
    // after them, so once it returns every later emit reaches us.
    setImmediate(() => {
      sub.ping().then(
        () => {
          if (sub.status !== 'ready' || subDownSince !== since) return;
          subDownSince = null;
          for (const cb of resubscribed) cb(since);
        },
        () => undefined,
      );
    });
  });

  // Every publish made while `capturing` is set is collected, so an emit can be checked.
  let capturing: Promise<unknown>[] | null = null;
  const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<unknown>;
  (pub as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args: unknown[]) => {
    let p: Promise<unknown>;
    try {
      p = publish(...args);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.catch(() => undefined);
    capturing?.push(p);
    return p;
  };

  // Start serving even when Redis is down: REST must work, and the relay catches up later.
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 3_000);
    const check = () => {
      if (pub.status === 'ready' && sub.status === 'ready') {
        clearTimeout(t);
        resolve();
      }
    };
    pub.on('ready', check);
    sub.on('ready', check);
    check();
  });
  if (!up) logger.warn('redis not reachable at start: serving local sockets only until it is');

  const adapter = createAdapter(pub, sub, { key: prefix, requestsTimeout: 2_000 });

  return {
    adapter,
    ready: () => pub.status === 'ready' && sub.status === 'ready',
    clients: () => ({ pub: pub.status === 'ready', sub: sub.status === 'ready' }),
    async published(emit) {
      const mine: Promise<unknown>[] = [];
      capturing = mine;
      try {
        emit();
      } finally {
        capturing = null;
      }
      if (!mine.length) return true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PUBLISH_SETTLE_MS);
      });
      const settled = Promise.all(mine).then(
        () => true,
        () => false,
      );
      const ok = await Promise.race([settled, timeout]);
      clearTimeout(timer);
      return ok;
    },
    async readiness() {
      if (pub.status !== 'ready' || sub.status !== 'ready') return ['redis', false];
      const ping = pub.ping().then(
        () => true,
        () => false,
      );
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000).unref());
      return ['redis', await Promise.race([ping, timeout])];
    },
    onResubscribed(cb) {
      resubscribed.push(cb);
    },
    async close() {
      closing = true;
      resubscribed.length = 0;
      const quit = async (c: Redis) => {
        if (c.status === 'ready') {
          await Promise.race([c.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
        }
        c.disconnect();
      };
      await Promise.all([quit(pub), quit(sub)]);
    },
  };
}
