import type { Knex } from 'knex';
import type { BankContext } from '../core/context.js';
import { addDays, dayOf, daysBetween, endOfDay, lastClosedDay, startOfDay } from '../core/days.js';
import { withTx } from '../core/db-tx.js';

type Q = Knex | Knex.Transaction;

/** Called between accounts by long runs, so a job can renew its lock. */
export type Progress = () => Promise<void>;

/**
 * The closing balance of each day from..to of one account: the balance after its last
 * entry at or before the end of that day, walking entries in id order exactly as
 * GET /accounts/:id/balances does (0 before the first entry).
 */
export async function closingBalances(q: Q, accountId: number, from: string, to: string): Promise<Array<[date: string, balance: number]>> {
  const prior = await q('entries')
    .where('account_id', accountId)
    .andWhere('at', '<', startOfDay(from))
    .orderBy([
      { column: 'at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .first('balance_after');
  let running = prior ? Number(prior.balance_after) : 0;
  const entries = await q('entries')
    .where('account_id', accountId)
    .whereBetween('at', [startOfDay(from), endOfDay(to)])
    .orderBy('id')
    .select('at', 'balance_after');
  const out: Array<[string, number]> = [];
  let i = 0;
  for (const date of daysBetween(from, to)) {
    while (i < entries.length && (entries[i].at as string).slice(0, 10) <= date) running = Number(entries[i++].balance_after);
    out.push([date, running]);
  }
  return out;
}

export interface SnapshotResult {
  accounts: number;
  rows: number;
  through: string;
}

const PAGE = 500;

/**
 * End-of-day balance snapshots: for every account, every closed day not yet snapshotted
 * since it opened (or since its last snapshot), up to the last closed day. Today is never
 * snapshotted (it is not over). Rows are keyed by (account, date) and inserted with
 * ON CONFLICT DO NOTHING, so a second run, a concurrent run or a run after a crash adds
 * only what is missing.
 */
export async function snapshotBalances(ctx: BankContext, opts: { through?: string; progress?: Progress } = {}): Promise<SnapshotResult> {
  const closed = lastClosedDay(ctx.now());
  const through = opts.through && opts.through < closed ? opts.through : closed;
  let after = 0;
  let accounts = 0;
  let rows = 0;
  for (;;) {
    const page = await ctx
      .db('accounts')
      .where('id', '>', after)
      .andWhere('opened_at', '<=', endOfDay(through))
      .orderBy('id')
      .limit(PAGE)
      .select('id', 'opened_at', 'closed_at');
    if (!page.length) break;
    for (const a of page) {
      after = a.id;
      const n = await snapshotAccount(ctx, a, through);
      if (n) accounts++;
      rows += n;
      await opts.progress?.();
    }
  }
  return { accounts, rows, through };
}

async function snapshotAccount(
  ctx: BankContext,
  a: { id: number; opened_at: string; closed_at: string | null },
  through: string,
): Promise<number> {
  return withTx(ctx, async (t) => {
    const last = await t.q('balance_snapshots').where('account_id', a.id).max({ d: 'date' }).first();
    const start = last?.d ? addDays(last.d as string, 1) : dayOf(a.opened_at);
    const end = a.closed_at && dayOf(a.closed_at) < through ? dayOf(a.closed_at) : through;
    if (start > end) return 0;
    const balances = await closingBalances(t.q, a.id, start, end);
    const rows = balances.map(([date, balance]) => ({ account_id: a.id, date, balance, created_at: t.now }));
    let inserted = 0;
    for (let i = 0; i < rows.length; i += PAGE) {
      const res = await t
        .q('balance_snapshots')
        .insert(rows.slice(i, i + PAGE), ['account_id'])
        .onConflict(['account_id', 'date'])
        .ignore();
      inserted += Array.isArray(res) ? res.length : 0;
    }
    return inserted;
  });
}
