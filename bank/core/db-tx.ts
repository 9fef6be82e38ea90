import type { Knex } from 'knex';
import type { Actor, BankContext } from './context.js';
import { writeEvents, type PendingEvent } from '../outbox/events.js';
import { trySqliteWriteLock } from '../../db/fast.js';

/**
 * One DATABASE transaction in progress: the knex transaction plus what it has recorded.
 * In this code `Tx`, `withTx` and `t` always mean the database transaction; the money kind
 * (a deposit, a transfer: the `transactions` table) is always spelled out: `TransactionRow`,
 * `TransactionDto`, `TransactionKind`, `transactionId`.
 */
export interface Tx {
  q: Knex.Transaction;
  ctx: BankContext;
  /** ISO timestamp fixed for the whole transaction. */
  now: string;
  /** Outbox events recorded by the work, written just before commit. */
  events: PendingEvent[];
  /** Outbox seqs written in this transaction, signalled after commit. */
  seqs: number[];
  /** Run once the transaction has committed (cache invalidation); never for a rolled-back one. */
  afterCommit: (() => void)[];
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** Another connection (process) holds SQLite's write lock: roll back, wait, try again. */
class WriteLockBusy extends Error {
  constructor(readonly busyTimeoutMs: number) {
    super('database is locked');
  }
}
const busyError = (ms: number) =>
  Object.assign(new Error(`database is locked (another connection held the write lock for ${ms} ms)`), { code: 'SQLITE_BUSY' });

/**
 * Runs fn in one database transaction. On SQLite the write lock is taken up front
 * (the equivalent of BEGIN IMMEDIATE) so two processes sharing a file never deadlock on
 * lock upgrade; while another process holds it, this one waits on timers (1 ms, doubling to
 * 20 ms, for as long as the connection's busy_timeout) without stopping its event loop. On PostgreSQL a
 * serialization failure or deadlock is retried.
 * After commit the outbox seqs (and the events) are signalled: nothing is pushed that was
 * not committed.
 */
export async function withTx<T>(ctx: BankContext, fn: (t: Tx) => Promise<T>): Promise<T> {
  let busySince = 0;
  let busyWait = 1;
  for (let attempt = 1; ; attempt++) {
    const seqs: number[] = [];
    const afterCommit: (() => void)[] = [];
    let written: PendingEvent[] = [];
    try {
      const result = await ctx.db.transaction(async (q) => {
        if (ctx.dialect === 'sqlite') {
          const lock = await trySqliteWriteLock(q);
          if (!lock.locked) throw new WriteLockBusy(lock.busyTimeoutMs);
        }
        const t: Tx = { q, ctx, now: ctx.now().toISOString(), events: [], seqs, afterCommit };
        const value = await fn(t);
        written = t.events.splice(0);
        if (written.length) await writeEvents(t, written);
        return value;
      });
      for (const fn of afterCommit) fn();
      if (seqs.length) ctx.signals.emit('committed', seqs, written);
      return result;
    } catch (err) {
      if (err instanceof WriteLockBusy) {
        busySince ||= Date.now();
        if (Date.now() - busySince >= err.busyTimeoutMs) throw busyError(err.busyTimeoutMs);
        await new Promise((r) => setTimeout(r, busyWait));
        busyWait = Math.min(20, busyWait * 2);
        attempt--;
        continue;
      }
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < 5) continue;
      throw err;
    }
  }
}

export function actorIp(a: Actor): string | null {
  return a.ip ?? null;
}

/** JSON columns are text on both databases. */
export function toJson(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}
export function fromJson<T = unknown>(v: unknown): T | null {
  if (v === null || v === undefined) return null;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
