import type { Server } from 'socket.io';
import type { BankContext } from '../bank/core/index.js';
import { invalidateSessionsLocally, liveSessionIds, type SessionPolicy } from '../bank/access/index.js';
import type { Logger } from '../log.js';
import type { HubSocket } from './auth.js';

/**
 * Disconnects this pod's sockets whose session has ended (revoked, expired, idle, user
 * deactivated). The session.revoked event does that at once on every pod; this sweep is
 * the safety net for what it cannot cover: expiry, and a revocation whose disconnect was
 * lost while Redis was down.
 */
export function startSessionSweep(io: Server, bank: BankContext, policy: SessionPolicy, logger: Logger, everyMs = 15_000) {
  let running: Promise<void> | null = null;
  const sweep = async () => {
    const sockets = [...io.of('/').sockets.values()] as unknown as HubSocket[];
    const ids = [...new Set(sockets.map((s) => s.data?.sessionId).filter((id): id is number => typeof id === 'number'))];
    const live = await liveSessionIds(bank, ids, policy);
    // What the sweep learned from the database also ends the session in this process's cache.
    const over = ids.filter((id) => !live.has(id));
    if (over.length) invalidateSessionsLocally(bank, { sessionIds: over });
    let ended = 0;
    for (const s of sockets) {
      if (typeof s.data?.sessionId === 'number' && !live.has(s.data.sessionId)) {
        s.disconnect(true);
        ended++;
      }
    }
    if (ended) logger.info({ sockets: ended }, 'disconnected sockets of ended sessions');
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((err) => logger.warn({ err }, 'session sweep failed'))
      .finally(() => (running = null));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
