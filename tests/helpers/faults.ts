import type { Knex } from 'knex';
import { verifyAudit } from '../../bank/audit/chain.js';
import { verifyLedger } from '../../bank/ledger/verify.js';

/**
 * Latency bounds for "stays responsive". The machine the suite runs on is shared (load far
 * above its cores), so the worst case is bounded loosely; the median must stay low. Without
 * the socket bounds the worst case was over 6 s on a quiet machine, 44 s in the issue.
 */
export const RESPONSIVE = { worstMs: 5_000, medianMs: 1_000 } as const;

/**
 * Calls `fn` again and again (one at a time, `everyMs` apart) until stopped, recording how
 * long each call took: the latency another user sees while a fault or a hostile client runs.
 */
export function latencyProbe(fn: () => Promise<unknown>, everyMs = 50) {
  const times: number[] = [];
  const failures: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        await fn();
      } catch (err) {
        failures.push((err as Error).message);
      }
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    times,
    failures,
    async stop() {
      stopped = true;
      await loop;
      const sorted = [...times].sort((a, b) => a - b);
      const medianMs = Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
      return { count: times.length, worstMs: Math.round(Math.max(0, ...times)), medianMs, failures };
    },
  };
}

/** Fetches a URL and throws unless it answers 2xx. */
export async function ok(url: string, init?: RequestInit): Promise<void> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
}

/** The two invariants every fault test ends with: the ledger balances and the audit chain holds. */
export async function invariants(db: Knex) {
  const audit = await verifyAudit({ db });
  const ledger = await verifyLedger({ db });
  return { audit, ledger };
}

/** Prints a measured figure so the test run's log carries it (the report quotes them). */
export function figure(name: string, value: unknown) {
  console.log(`[figure] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}
