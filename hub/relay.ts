import type { BankContext } from '../bank/core/index.js';
import type { Logger } from '../log.js';
import type { Deliver } from './deliver.js';
import { claimStale, unclaim } from '../bank/outbox/index.js';
import type { Link } from './redis.js';

export interface RelayOptions {
  /** How long an event may wait for the live path before the relay takes it. */
  graceMs?: number;
  everyMs?: number;
}

const BATCH = 500;
const MAX_BATCHES_PER_TICK = 20;

/**
 * Publishes events the live path left behind: a pod died between commit and emit, Redis
 * was down, or the commit happened in a process without a hub (a worker). Runs on every
 * web pod at once; claiming is exclusive (see claimStale). While Redis is unreachable it
 * waits: an emit now would reach this pod only.
 */
export function startRelay(bank: BankContext, link: Link, deliver: Deliver, logger: Logger, opts: RelayOptions = {}) {
  const graceMs = opts.graceMs ?? 2_000;
  const everyMs = opts.everyMs ?? 1_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const tick = async () => {
    if (!link.ready()) return;
    for (let i = 0; i < MAX_BATCHES_PER_TICK && !stopped; i++) {
      const now = Date.now();
      const claimed = await claimStale(bank, new Date(now - graceMs).toISOString(), new Date(now).toISOString(), BATCH);
      if (!claimed.length) return;
      const { failed } = await deliver(claimed, 'relay');
      if (failed.length) {
        await unclaim(bank.db, failed);
        return;
      }
      logger.debug({ events: claimed.length }, 'relayed events the live path left behind');
      if (claimed.length < BATCH) return;
    }
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err) => logger.warn({ err }, 'outbox relay tick failed'))
      .finally(() => {
        running = null;
        if (!stopped) {
          timer = setTimeout(loop, everyMs);
          timer.unref();
        }
      });
  };
  loop();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
