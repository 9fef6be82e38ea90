import type { Knex } from 'knex';
import { SYSTEM, type BankContext } from '../core/context.js';
import {
  addDays,
  dayOf,
  daysBetween,
  daysInYear,
  endOfDay,
  firstDayOf,
  lastClosedDay,
  lastDayOf,
  nextPeriod,
  periodOf,
} from '../core/days.js';
import { postInterestIn } from './transactions.js';
import { auditRun } from '../core/maintenance.js';
import { closingBalances, type Progress } from './snapshots.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Account, Row } from '../../db/models.js';

// Interest, in integers only.
//
// Rates are percent per year in millionths of a percent (3.50 % -> 3_500_000). Each day an
// account earns, in millionths of a minor unit ("micro"):
//
//   accrued_micro = floor(closing_balance_minor * annual_rate_micro / (100 * days_in_year))
//
// (balance * rate_micro / 1e6 / 100 / days is the day's interest in minor units; times 1e6
// for micro, the two 1e6 cancel). BigInt, then floor: at most one micro (a millionth of a
// paisa) is dropped per account and day. days_in_year is 365 or 366, the year the day is in
// (Actual/Actual). The closing balance is the balance after the day's last entry (UTC day).
// A zero or negative balance (overdraft) earns nothing; overdraft interest is not charged.
// The rate is the one in force that day for the account's current type.
//
// Monthly, the month's accrued micro plus the fraction carried from the month before is
// posted as floor(total / 1e6) minor units and the rest (< 1e6 micro) carries into the next
// month, so over time not a micro is lost. interest_postings holds one row per account and
// month: it marks the month done, and carries the remainder.
//
// Closing an account settles early (settleInterestForClosing): complete months are posted as
// above, then the current month's unpaid days plus the carry are paid in a transaction with
// its own external_ref and those accrual rows are marked with it. No interest_postings row is
// written for that: the row means "month done", and would stop the rest of the month accruing
// and being posted if the account stays open. The carry after a settlement is derived instead:
//
//   carry into a month's next payment = carry_out of the month before
//                                       + micro of the month's rows already paid (settled)
//                                       - 1e6 * minor units those settlements paid
//
// and each payment (settlement or monthly posting) pays only rows still unpaid plus that
// carry, so no day and no carry is paid twice. With no settlement both extra terms are zero
// and the monthly posting is exactly as before; its row then records the unpaid rows as
// accrued_micro and the derived carry as carry_in_micro.
//
// Values must stay below 2^53 micro per day and per month (a balance of about 10 billion
// major units at 10 %); beyond that the account's run fails loudly instead of rounding.

export const MICRO_PER_MINOR = 1_000_000n;

export interface RatePoint {
  from: string;
  rate: number;
}

/** Every rate of every type, oldest first (the table is small: a few rows per type). */
export async function loadRates(q: Knex | Knex.Transaction): Promise<Map<string, RatePoint[]>> {
  const rows = await q('interest_rates')
    .orderBy([{ column: 'account_type' }, { column: 'effective_from' }])
    .select('account_type', 'annual_rate_micro', 'effective_from');
  const out = new Map<string, RatePoint[]>();
  for (const r of rows) {
    const list = out.get(r.account_type) ?? [];
    list.push({ from: r.effective_from, rate: Number(r.annual_rate_micro) });
    out.set(r.account_type, list);
  }
  return out;
}

/** The rate in force on a date: the latest one effective on or before it (0 when none). */
export function rateOn(points: RatePoint[] | undefined, date: string): number {
  let rate = 0;
  for (const p of points ?? []) {
    if (p.from > date) break;
    rate = p.rate;
  }
  return rate;
}

/** The same for one type and day, straight from the table. */
export async function rateInForceOn(q: Knex | Knex.Transaction, accountType: string, date: string): Promise<number> {
  const row = await q('interest_rates')
    .where('account_type', accountType)
    .andWhere('effective_from', '<=', date)
    .orderBy('effective_from', 'desc')
    .first('annual_rate_micro');
  return row ? Number(row.annual_rate_micro) : 0;
}

const safe = (v: bigint, what: string): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} is too large for exact arithmetic (${v})`);
  return Number(v);
};

/** One day's interest in micro (see the rule at the top of this file). */
export function dailyAccrualMicro(closingBalanceMinor: number, annualRateMicro: number, date: string): number {
  if (closingBalanceMinor <= 0 || annualRateMicro <= 0) return 0;
  return safe((BigInt(closingBalanceMinor) * BigInt(annualRateMicro)) / (100n * BigInt(daysInYear(date))), 'daily interest');
}

export interface AccountFailure {
  accountId: number;
  error: string;
}

export interface AccrualResult {
  through: string;
  accounts: number;
  rows: number;
  failures: AccountFailure[];
}

const PAGE = 500;

/** Pages through customer accounts that are not closed (optionally only some types). */
async function eachOpenAccount(
  ctx: BankContext,
  opts: { types?: string[]; openedBy: string },
  fn: (a: AccountToAccrue) => Promise<void>,
): Promise<void> {
  let after = 0;
  for (;;) {
    let q = ctx
      .db('accounts')
      .where('kind', 'customer')
      .whereNot('status', 'closed')
      .andWhere('id', '>', after)
      .andWhere('opened_at', '<=', opts.openedBy);
    if (opts.types) q = q.whereIn('type', opts.types);
    const page: AccountToAccrue[] = await q.orderBy('id').limit(PAGE).select('id', 'type', 'opened_at');
    if (!page.length) return;
    for (const a of page) {
      after = a.id;
      await fn(a);
    }
  }
}

type AccountToAccrue = Pick<Row<Account>, 'id' | 'type' | 'opened_at'>;

/**
 * Accrues every day not yet accrued, for every open interest-bearing account, from the later
 * of its opening, its last accrual and its last posted month, through the last closed day
 * (yesterday, by default). Catching up after downtime and re-running are the same thing:
 * rows are keyed by (account, date) and inserted with ON CONFLICT DO NOTHING, and each
 * account is one transaction. Days whose rate is zero get no row.
 * Closed accounts are skipped: closing requires a zero balance, so they earn nothing more.
 */
export async function accrueInterest(ctx: BankContext, opts: { through?: string; progress?: Progress } = {}): Promise<AccrualResult> {
  const closed = lastClosedDay(ctx.now());
  const through = opts.through && opts.through < closed ? opts.through : closed;
  const rates = await loadRates(ctx.db);
  const bearing = [...rates].filter(([, points]) => points.some((p) => p.rate > 0 && p.from <= through)).map(([type]) => type);
  const result: AccrualResult = { through, accounts: 0, rows: 0, failures: [] };
  if (!bearing.length) return result;
  await eachOpenAccount(ctx, { types: bearing, openedBy: endOfDay(through) }, async (a) => {
    try {
      const n = await accrueAccount(ctx, a, rates.get(a.type!), through);
      if (n) result.accounts++;
      result.rows += n;
    } catch (err) {
      result.failures.push({ accountId: a.id, error: (err as Error).message });
    }
    await opts.progress?.();
  });
  if (result.rows)
    await auditRun(ctx, SYSTEM, 'interest.accrued', { through, accounts: result.accounts, rows: result.rows }, 'interest-accrual');
  return result;
}

async function accrueAccount(ctx: BankContext, a: AccountToAccrue, points: RatePoint[] | undefined, through: string): Promise<number> {
  return withTx(ctx, async (t) => {
    const last = await t.q('interest_accruals').where('account_id', a.id).max({ d: 'date' }).first();
    const posted = await t.q('interest_postings').where('account_id', a.id).max({ p: 'period' }).first();
    let start = dayOf(a.opened_at);
    if (last?.d && addDays(last.d, 1) > start) start = addDays(last.d, 1);
    // Never add to a month already settled.
    if (posted?.p && firstDayOf(nextPeriod(posted.p)) > start) start = firstDayOf(nextPeriod(posted.p));
    const days = daysBetween(start, through).map((date) => ({ date, rate: rateOn(points, date) }));
    const first = days.findIndex((d) => d.rate > 0);
    if (first < 0) return 0;
    const balances = new Map(await closingBalances(t.q, a.id, days[first].date, through));
    const rows = days
      .slice(first)
      .filter((d) => d.rate > 0)
      .map((d) => {
        const balance = balances.get(d.date)!;
        return {
          account_id: a.id,
          date: d.date,
          accrued_micro: dailyAccrualMicro(balance, d.rate, d.date),
          closing_balance: balance,
          annual_rate_micro: d.rate,
          posted_transaction_id: null,
          created_at: t.now,
        };
      });
    let inserted = 0;
    for (let i = 0; i < rows.length; i += PAGE) {
      const res = await t
        .q('interest_accruals')
        .insert(rows.slice(i, i + PAGE), ['account_id'])
        .onConflict(['account_id', 'date'])
        .ignore();
      inserted += Array.isArray(res) ? res.length : 0;
    }
    return inserted;
  });
}

export interface PostingResult {
  /** Accrual runs first, so the months being posted are complete. */
  accrual: AccrualResult;
  /** Months before this one are complete and may be posted. */
  before: string;
  postings: number;
  transactions: number;
  failures: AccountFailure[];
}

/**
 * Posts each complete month's interest, once per account and month (interest_postings and
 * the ledger's external_ref both guard it), in one transaction per account and month that
 * also marks that month's accrual rows with the transaction. Runs the accrual first.
 */
export async function postInterest(ctx: BankContext, opts: { progress?: Progress } = {}): Promise<PostingResult> {
  const accrual = await accrueInterest(ctx, opts);
  const failedAccrual = new Set(accrual.failures.map((f) => f.accountId));
  // A month is complete once its last day has closed.
  const before = firstDayOf(periodOf(addDays(accrual.through, 1)));
  const result: PostingResult = { accrual, before: periodOf(before), postings: 0, transactions: 0, failures: [] };
  await eachOpenAccount(ctx, { openedBy: before }, async (a) => {
    if (failedAccrual.has(a.id)) return;
    try {
      for (const period of await unpostedPeriods(ctx, a.id, before)) {
        const posted = await postAccountPeriod(ctx, a.id, period);
        if (!posted) continue;
        result.postings++;
        if (posted.transactionId !== null) result.transactions++;
      }
    } catch (err) {
      result.failures.push({ accountId: a.id, error: (err as Error).message });
    }
    await opts.progress?.();
  });
  return result;
}

/** Months with accruals after the account's last posted month and before `before`, oldest first. */
async function unpostedPeriods(ctx: BankContext, accountId: number, before: string): Promise<string[]> {
  const posted = await ctx.db('interest_postings').where('account_id', accountId).max({ p: 'period' }).first();
  const from = posted?.p ? firstDayOf(nextPeriod(posted.p)) : '0000-01-01';
  if (from >= before) return [];
  const rows = await ctx
    .db('interest_accruals')
    .where('account_id', accountId)
    .andWhere('date', '>=', from)
    .andWhere('date', '<', before)
    .select('date');
  return [...new Set(rows.map((r) => periodOf(r.date as string)))].sort();
}

export interface AccountPosting {
  accountId: number;
  period: string;
  accruedMicro: number;
  carryInMicro: number;
  postedMinor: number;
  carryOutMicro: number;
  transactionId: number | null;
}

/** Settles one account's month; null when it was settled already (or the account closed). */
export async function postAccountPeriod(ctx: BankContext, accountId: number, period: string): Promise<AccountPosting | null> {
  return withTx(ctx, async (t) => {
    // Serializes posting per account across workers (SQLite's write lock already does).
    let lock = t.q('accounts').where('id', accountId);
    if (t.ctx.dialect === 'pg') lock = lock.forUpdate();
    const acct = await lock.first('id', 'status');
    if (!acct || acct.status === 'closed') return null;
    if (await t.q('interest_postings').where({ account_id: accountId, period }).first('period')) return null;

    const unpaid = () => unpaidInPeriod(t, accountId, period);
    const accrued = (await unpaid().select('accrued_micro')).reduce((s, r) => s + BigInt(r.accrued_micro), 0n);
    const carryIn = await carryInto(t, accountId, period);
    const total = accrued + carryIn;
    let postedMinor = total / MICRO_PER_MINOR;
    let transactionId: number | null = null;
    if (postedMinor > 0n) {
      const res = await postInterestIn(t, SYSTEM, { accountId, amountMinor: safe(postedMinor, 'monthly interest'), period });
      if (!res) return null;
      transactionId = res.transaction.id;
      // Posted before this table knew (by hand, or an older version): keep what was paid.
      if (!res.created) postedMinor = BigInt((await t.q('transactions').where('id', transactionId).first('amount')).amount);
      await unpaid().update({ posted_transaction_id: transactionId });
    }
    const carryOut = total - postedMinor * MICRO_PER_MINOR;
    const row = {
      account_id: accountId,
      period,
      accrued_micro: safe(accrued, 'accrued interest'),
      carry_in_micro: Number(carryIn),
      posted_minor: Number(postedMinor),
      carry_out_micro: Number(carryOut > 0n ? carryOut : 0n),
      transaction_id: transactionId,
      created_at: t.now,
    };
    await t.q('interest_postings').insert(row);
    return {
      accountId,
      period,
      accruedMicro: row.accrued_micro,
      carryInMicro: row.carry_in_micro,
      postedMinor: row.posted_minor,
      carryOutMicro: row.carry_out_micro,
      transactionId,
    };
  });
}

const unpaidInPeriod = (t: Tx, accountId: number, period: string) =>
  t
    .q('interest_accruals')
    .where('account_id', accountId)
    .whereBetween('date', [firstDayOf(period), lastDayOf(period)])
    .whereNull('posted_transaction_id');

/** The micro carried into the month's next payment (see the top of this file). */
async function carryInto(t: Tx, accountId: number, period: string): Promise<bigint> {
  const prev = await t
    .q('interest_postings')
    .where('account_id', accountId)
    .andWhere('period', '<', period)
    .orderBy('period', 'desc')
    .first('carry_out_micro');
  const settled = await t
    .q('interest_accruals')
    .where('account_id', accountId)
    .whereBetween('date', [firstDayOf(period), lastDayOf(period)])
    .whereNotNull('posted_transaction_id')
    .select('accrued_micro', 'posted_transaction_id');
  const settledMicro = settled.reduce((s, r) => s + BigInt(r.accrued_micro), 0n);
  const txIds = [...new Set(settled.map((r) => Number(r.posted_transaction_id)))];
  const paid = txIds.length
    ? (await t.q('transactions').whereIn('id', txIds).select('amount')).reduce((s, r) => s + BigInt(r.amount), 0n)
    : 0n;
  return BigInt(prev?.carry_out_micro ?? 0) + settledMicro - paid * MICRO_PER_MINOR;
}

export interface ClosingSettlement {
  postedMinor: number;
  transactionId: number | null;
}

/**
 * Pays an account's interest to date before it closes: accrues through the last closed day,
 * posts complete months as the monthly job would, then pays the current month's unpaid days
 * plus the carry (floored to minor units) under external_ref interest:<id>:<through>-close.
 * Safe to repeat: a second run finds nothing unpaid and less than one minor unit of carry.
 * If the account stays open, the monthly posting later pays only what this did not.
 */
export async function settleInterestForClosing(ctx: BankContext, accountId: number): Promise<ClosingSettlement> {
  const none: ClosingSettlement = { postedMinor: 0, transactionId: null };
  const a: (AccountToAccrue & { status: string; kind: string }) | undefined = await ctx
    .db('accounts')
    .where('id', accountId)
    .first('id', 'type', 'opened_at', 'status', 'kind');
  if (!a || a.kind !== 'customer' || a.status === 'closed') return none;
  const through = lastClosedDay(ctx.now());
  await accrueAccount(ctx, a, (await loadRates(ctx.db)).get(a.type!), through);
  // Whole months first, each as its own monthly posting: a settlement covers one month only,
  // so the carry rule above can attribute what it paid.
  for (const period of await unpostedPeriods(ctx, accountId, firstDayOf(periodOf(addDays(through, 1)))))
    await postAccountPeriod(ctx, accountId, period);
  const period = periodOf(through);
  return withTx(ctx, async (t) => {
    let lock = t.q('accounts').where('id', accountId);
    if (t.ctx.dialect === 'pg') lock = lock.forUpdate();
    const acct = await lock.first('status');
    if (!acct || acct.status === 'closed') return none;
    // Posted already (the month completed meanwhile): the monthly job owns it.
    if (await t.q('interest_postings').where({ account_id: accountId, period }).first('period')) return none;
    const rows = await unpaidInPeriod(t, accountId, period).andWhere('date', '<=', through).select('date', 'accrued_micro');
    const total = rows.reduce((s, r) => s + BigInt(r.accrued_micro), 0n) + (await carryInto(t, accountId, period));
    const minor = total / MICRO_PER_MINOR;
    if (minor <= 0n) return none;
    const res = await postInterestIn(t, SYSTEM, {
      accountId,
      amountMinor: safe(minor, 'interest at closing'),
      period: `${through}-close`,
      memo: `Interest to ${through} (closing)`,
    });
    // Already paid under this reference: nothing new to pay (its rows are marked).
    if (!res || !res.created) return none;
    await t
      .q('interest_accruals')
      .where('account_id', accountId)
      .whereIn(
        'date',
        rows.map((r) => r.date),
      )
      .update({ posted_transaction_id: res.transaction.id });
    return { postedMinor: Number(minor), transactionId: res.transaction.id };
  });
}
