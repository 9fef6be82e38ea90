import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import type { BankContext } from '../bank/core/index.js';
import { invalidateSessionsLocally, type SessionInvalidation } from '../bank/access/index.js';
import type { Logger } from '../log.js';

/**
 * Carries session invalidations between processes over Redis pub/sub: a logout, revocation or
 * user change committed on one pod drops the cached session on every pod at once. While Redis
 * is away the cache's short lifetime (bank/access/sessions.ts) still bounds how long a pod may serve it.
 */
export function startSessionBus(bank: BankContext, url: string, prefix: string, logger: Logger): { close(): Promise<void> } {
  const channel = `${prefix}:sessions`;
  const origin = crypto.randomBytes(8).toString('hex');
  const retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const pub = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, connectionName: 'sessions-pub' });
  const sub = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, connectionName: 'sessions-sub' });
  for (const c of [pub, sub]) c.on('error', (err) => logger.debug({ err }, 'session bus: redis error'));
  sub.on('message', (_ch: string, message: string) => {
    try {
      const m = JSON.parse(message) as { origin: string } & SessionInvalidation;
      if (m.origin !== origin) invalidateSessionsLocally(bank, { sessionIds: m.sessionIds, userIds: m.userIds });
    } catch {
      // Not ours: ignore.
    }
  });
  // Never waits for Redis: the subscription is made (again) whenever the connection is up.
  sub.subscribe(channel).catch((err) => logger.warn({ err }, 'session bus: subscribe failed'));
  const onInvalidated = (what: SessionInvalidation) => {
    pub
      .publish(channel, JSON.stringify({ origin, ...what }))
      .catch((err) => logger.warn({ err }, 'session bus: publish failed (other pods drop it within the cache lifetime)'));
  };
  bank.signals.on('sessions.invalidated', onInvalidated);
  return {
    async close() {
      bank.signals.off('sessions.invalidated', onInvalidated);
      pub.disconnect();
      sub.disconnect();
    },
  };
}
