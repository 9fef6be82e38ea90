import type { Actor, BankContext } from '../core/context.js';
import type { StandingOrderInput } from '../../shared/api.js';
import { SYSTEM, isStaff } from '../core/context.js';
import { Conflict, DomainError, Invalid, NotFound, RuleViolation } from '../core/errors.js';
import { audit, auditMany, type AuditInput } from '../audit/chain.js';
import { findVisibleAccount } from '../accounts/operations.js';
import { type AccountRow, lockAccounts } from '../accounts/records.js';
import { addDays, dayOf, isDate, lastDayOf, nextPeriod, periodOf } from '../core/days.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { Journal } from './journal.js';
import { planTransfer } from './transactions.js';
import { displayAmount, formatAmount, maskedAccount, parseAmount } from '../core/money.js';
import { notifyCustomers, type NotificationText } from '../notifications/send.js';
import { toPage } from '../core/paging.js';
import { requireCan } from '../access/permissions.js';
import type { Progress } from './snapshots.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Row, StandingOrder, StandingOrderRun } from '../../db/models.js';

export const FREQUENCIES = ['once', 'daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export type OrderStatus = StandingOrder['status'];
type RunStatus = StandingOrderRun['status'];

type OrderRow = Row<StandingOrder>;

type RunRow = Row<StandingOrderRun>;

const runDto = (r: RunRow) => ({
  date: r.date,
  status: r.status,
  transactionId: r.transaction_id === null ? null : Number(r.transaction_id),
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
});
export type RunDto = ReturnType<typeof runDto>;

function orderDto(o: OrderRow, toNumber: string, lastRun: RunRow | null) {
  return {
    id: o.id,
    fromAccountId: o.from_account_id,
    toAccountNumber: toNumber,
    amount: formatAmount(Number(o.amount), o.currency),
    currency: o.currency,
    memo: o.memo,
    frequency: o.frequency,
    startDate: o.start_date,
    endDate: o.end_date,
    nextRunDate: o.next_run_date,
    status: o.status,
    lastRun: lastRun ? runDto(lastRun) : null,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
  };
}
export type StandingOrderDto = ReturnType<typeof orderDto>;

/** The date after `date` on which the order is due again; null when it is not. The 31st falls back to a shorter month's last day. */
export function nextOccurrence(frequency: Frequency, dayOfMonth: number, date: string): string | null {
  switch (frequency) {
    case 'once':
      return null;
    case 'daily':
      return addDays(date, 1);
    case 'weekly':
      return addDays(date, 7);
    case 'monthly': {
      const period = nextPeriod(periodOf(date));
      const last = Number(lastDayOf(period).slice(8, 10));
      return `${period}-${String(Math.min(dayOfMonth, last)).padStart(2, '0')}`;
    }
  }
}

/** The order's schedule after a run on `date`: its next date, or completed. */
function advance(o: Pick<OrderRow, 'frequency' | 'day_of_month' | 'end_date'>, date: string): Pick<OrderRow, 'next_run_date' | 'status'> {
  const next = nextOccurrence(o.frequency, o.day_of_month, date);
  if (next === null || (o.end_date !== null && next > o.end_date)) return { next_run_date: null, status: 'completed' };
  return { next_run_date: next, status: 'active' };
}

async function dtosOf(q: Tx['q'] | BankContext['db'], orders: OrderRow[]): Promise<StandingOrderDto[]> {
  if (!orders.length) return [];
  const ids = orders.map((o) => o.id);
  const numbers = new Map(
    (
      await q('accounts')
        .whereIn('id', [...new Set(orders.map((o) => o.to_account_id))])
        .select('id', 'number')
    ).map((a) => [a.id as number, a.number as string]),
  );
  const latest: RunRow[] = await q('standing_order_runs').whereIn(
    'id',
    q('standing_order_runs').whereIn('standing_order_id', ids).groupBy('standing_order_id').max('id'),
  );
  const last = new Map(latest.map((r) => [r.standing_order_id, r]));
  return orders.map((o) => orderDto(o, numbers.get(o.to_account_id) ?? '', last.get(o.id) ?? null));
}

/** The order if the actor may see it (customers: orders from their own accounts). */
async function visibleOrder(
  q: Tx['q'] | BankContext['db'],
  actor: Actor,
  id: number,
  lock?: Tx,
): Promise<{ order: OrderRow; from: AccountRow }> {
  let sel = q<OrderRow>('standing_orders').where({ id });
  if (lock && lock.ctx.dialect === 'pg') sel = sel.forUpdate();
  const order = await sel.first();
  if (!order) throw new NotFound('Standing order');
  try {
    return { order, from: await findVisibleAccount(q, actor, order.from_account_id) };
  } catch (err) {
    if (err instanceof NotFound) throw new NotFound('Standing order');
    throw err;
  }
}

function orderRooms(from: Pick<AccountRow, 'id' | 'customer_id'>) {
  return [rooms.account(from.id), ...(from.customer_id !== null ? [rooms.customer(from.customer_id)] : [])];
}

async function announce(t: Tx, order: OrderRow, from: Pick<AccountRow, 'id' | 'customer_id'>): Promise<StandingOrderDto> {
  const [dto] = await dtosOf(t.q, [order]);
  recordEvent(t, 'standing_order.updated', orderRooms(from), { standingOrder: dto });
  return dto;
}

/** A new standing order as it is sent: shared/api.ts defines it for the server and the client. */
export type CreateOrderInput = StandingOrderInput;

export async function createStandingOrder(ctx: BankContext, actor: Actor, input: CreateOrderInput): Promise<StandingOrderDto> {
  requireCan(actor, 'standingOrders.manage');
  return withTx(ctx, async (t) => {
    const from = await findVisibleAccount(t.q, actor, input.fromAccountId);
    if (from.status === 'closed') throw new RuleViolation('account_closed', `Account ${from.number} is closed`);
    const to = await t.q<AccountRow>('accounts').where({ number: input.toAccountNumber, kind: 'customer' }).first();
    if (!to || to.status === 'closed') throw new NotFound('Destination account');
    if (to.id === from.id) throw new RuleViolation('same_account', 'Cannot pay an account to itself');
    if (to.currency !== from.currency)
      throw new RuleViolation('currency_mismatch', `Cannot pay ${from.currency} to a ${to.currency} account`);
    const amount = parseAmount(input.amount, from.currency);
    const memo = (input.memo ?? '').trim();
    if (memo.length > 500) throw new Invalid('memo must be at most 500 characters', { fields: ['memo'] });
    if (!FREQUENCIES.includes(input.frequency)) throw new Invalid('frequency is not known', { fields: ['frequency'] });
    const today = dayOf(t.now);
    if (!isDate(input.startDate)) throw new Invalid('startDate must be a date, YYYY-MM-DD', { fields: ['startDate'] });
    if (input.startDate < today) throw new Invalid('startDate cannot be in the past', { fields: ['startDate'] });
    const endDate = input.frequency === 'once' ? null : (input.endDate ?? null);
    if (endDate !== null && (!isDate(endDate) || endDate < input.startDate))
      throw new Invalid('endDate must be a date on or after startDate', { fields: ['endDate'] });
    const row: Omit<OrderRow, 'id'> = {
      from_account_id: from.id,
      to_account_id: to.id,
      amount,
      currency: from.currency,
      memo,
      frequency: input.frequency,
      start_date: input.startDate,
      end_date: endDate,
      day_of_month: Number(input.startDate.slice(8, 10)),
      next_run_date: input.startDate,
      status: 'active',
      created_by: actor.userId,
      created_at: t.now,
      updated_at: t.now,
    };
    const [ins] = await t.q('standing_orders').insert(row, ['id']);
    const order = { id: Number(typeof ins === 'object' ? ins.id : ins), ...row };
    const dto = await announce(t, order, from);
    await audit(t, actor, { action: 'standing_order.created', entity: 'standing_order', entityId: order.id, after: dto });
    return dto;
  });
}

export async function listStandingOrders(ctx: BankContext, actor: Actor, f: { accountId?: number; limit: number; cursor?: number | null }) {
  requireCan(actor, 'standingOrders.manage');
  let q = ctx.db<OrderRow>('standing_orders as o').join('accounts as a', 'a.id', 'o.from_account_id').select('o.*');
  if (f.accountId !== undefined) {
    await findVisibleAccount(ctx.db, actor, f.accountId);
    q = q.where('o.from_account_id', f.accountId);
  }
  if (!isStaff(actor)) q = q.where('a.customer_id', actor.customerId ?? -1);
  if (f.cursor) q = q.where('o.id', '>', f.cursor);
  const rows = await q.orderBy('o.id').limit(f.limit + 1);
  return toPage(rows.length, await dtosOf(ctx.db, rows.slice(0, f.limit)), f.limit);
}

export async function getStandingOrder(ctx: BankContext, actor: Actor, id: number): Promise<StandingOrderDto> {
  requireCan(actor, 'standingOrders.manage');
  const { order } = await visibleOrder(ctx.db, actor, id);
  return (await dtosOf(ctx.db, [order]))[0];
}

export async function standingOrderRuns(ctx: BankContext, actor: Actor, id: number, f: { limit: number; cursor?: number | null }) {
  requireCan(actor, 'standingOrders.manage');
  await visibleOrder(ctx.db, actor, id);
  let q = ctx.db<RunRow>('standing_order_runs').where({ standing_order_id: id });
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const items = rows.slice(0, f.limit).map((r) => ({ id: Number(r.id), ...runDto(r) }));
  return toPage(rows.length, items, f.limit);
}

export interface UpdateOrderInput {
  status?: 'active' | 'paused' | 'cancelled';
  amount?: string;
  endDate?: string | null;
}

export async function updateStandingOrder(ctx: BankContext, actor: Actor, id: number, input: UpdateOrderInput): Promise<StandingOrderDto> {
  requireCan(actor, 'standingOrders.manage');
  return withTx(ctx, async (t) => {
    const { order, from } = await visibleOrder(t.q, actor, id, t);
    const before = (await dtosOf(t.q, [order]))[0];
    if (order.status === 'cancelled' || order.status === 'completed')
      throw new Conflict(`Standing order ${id} is ${order.status}; it cannot be changed`);
    const today = dayOf(t.now);
    const next: OrderRow = { ...order };
    if (input.amount !== undefined) next.amount = parseAmount(input.amount, order.currency);
    if (input.endDate !== undefined) {
      if (input.endDate !== null && (!isDate(input.endDate) || input.endDate < order.start_date || input.endDate < today)) {
        throw new Invalid('endDate must be a date, not before the start date or today', { fields: ['endDate'] });
      }
      if (order.frequency !== 'once') next.end_date = input.endDate;
    }
    if (input.status === 'cancelled') {
      Object.assign(next, { status: 'cancelled', next_run_date: null });
    } else if (input.status === 'paused') {
      next.status = 'paused';
    } else if (input.status === 'active' && order.status === 'paused') {
      // Dates that fell due while paused are skipped, not paid late in a heap.
      next.status = 'active';
      let date = order.next_run_date;
      while (date !== null && date < today) date = nextOccurrence(order.frequency, order.day_of_month, date);
      next.next_run_date = date;
    }
    if (next.status !== 'cancelled' && next.next_run_date !== null && next.end_date !== null && next.next_run_date > next.end_date) {
      Object.assign(next, { status: 'completed', next_run_date: null });
    }
    if (next.status === 'active' && next.next_run_date === null) next.status = 'completed';
    next.updated_at = t.now;
    await t
      .q('standing_orders')
      .where({ id })
      .update({ amount: next.amount, end_date: next.end_date, status: next.status, next_run_date: next.next_run_date, updated_at: t.now });
    const dto = await announce(t, next, from);
    await audit(t, actor, {
      action: next.status === order.status ? 'standing_order.edited' : `standing_order.${next.status}`,
      entity: 'standing_order',
      entityId: id,
      before,
      after: dto,
    });
    return dto;
  });
}

// ---- the job --------------------------------------------------------------------------------

/** Orders run together in one database transaction (their accounts locked once, their transfers written together). */
const CHUNK = 200;

export interface StandingOrderRunSummary {
  today: string;
  posted: number;
  pendingApproval: number;
  failed: number;
  /** Orders that broke in an unexpected way (not a business rule): retried on the next run. */
  errors: { orderId: number; error: string }[];
}

/**
 * Runs every active order due on or before today, one date per order per pass, oldest first,
 * until none is due: a worker that was down for days catches up on each missed date.
 *
 * A chunk of orders is one transaction: the orders and their accounts are locked, each order's
 * transfer is checked in memory by the ledger's own rules (holds and the approval threshold,
 * frozen and closed accounts, funds) against the balances the orders before it left, and the
 * journal writes what passed together with every run row. The run row's unique (order, date)
 * key and the transfer's external reference make a date run at most once, however often or
 * concurrently the job runs. A refusal by a rule is a failed run: the owner is told, and the
 * order moves on to its next date (it is not retried that day). If a chunk breaks for another
 * reason, its orders are run one by one, so one bad order cannot hold up the rest.
 */
export async function runDueStandingOrders(ctx: BankContext, opts: { progress?: Progress } = {}): Promise<StandingOrderRunSummary> {
  const today = dayOf(ctx.now());
  const summary: StandingOrderRunSummary = { today, posted: 0, pendingApproval: 0, failed: 0, errors: [] };
  const broken = new Set<number>();
  const count = (outcomes: RunStatus[]) => {
    for (const o of outcomes) {
      if (o === 'posted') summary.posted++;
      else if (o === 'pending_approval') summary.pendingApproval++;
      else summary.failed++;
    }
  };
  for (;;) {
    let q = ctx.db('standing_orders').where({ status: 'active' }).andWhere('next_run_date', '<=', today);
    if (broken.size) q = q.whereNotIn('id', [...broken]);
    const due: number[] = (
      await q
        .orderBy('next_run_date')
        .orderBy('id')
        .limit(CHUNK * 5)
        .select('id')
    ).map((r) => r.id as number);
    if (!due.length) break;
    for (let i = 0; i < due.length; i += CHUNK) {
      const ids = due.slice(i, i + CHUNK);
      try {
        count(await withTx(ctx, (t) => runChunk(t, ids, today)));
      } catch {
        for (const id of ids) {
          try {
            count(await withTx(ctx, (t) => runChunk(t, [id], today)));
          } catch (err) {
            broken.add(id);
            summary.errors.push({ orderId: id, error: (err as Error).message });
          }
        }
      }
      await opts.progress?.();
    }
  }
  return summary;
}

/** Runs the next due date of each of these orders (those no longer due are skipped). */
async function runChunk(t: Tx, ids: number[], today: string): Promise<RunStatus[]> {
  let q = t.q<OrderRow>('standing_orders').whereIn('id', ids).orderBy('id');
  if (t.ctx.dialect === 'pg') q = q.forUpdate();
  const orders = (await q).filter((o) => o.status === 'active' && o.next_run_date !== null && o.next_run_date <= today);
  if (!orders.length) return [];
  const done = new Set(
    (
      await t
        .q('standing_order_runs')
        .whereIn(
          'standing_order_id',
          orders.map((o) => o.id),
        )
        .select('standing_order_id', 'date')
    ).map((r) => `${r.standing_order_id}:${r.date}`),
  );
  const locked = await lockAccounts(
    t,
    orders.flatMap((o) => [o.from_account_id, o.to_account_id]),
  );
  const journal = new Journal();
  const runs: { order: OrderRow; date: string; move: number | null; error: DomainError | null }[] = [];
  for (const order of orders) {
    const date = order.next_run_date!;
    if (done.has(`${order.id}:${date}`)) {
      // Already run for this date (the schedule was not moved on): only move it on.
      await t
        .q('standing_orders')
        .where({ id: order.id })
        .update({ ...advance(order, date), updated_at: t.now });
      continue;
    }
    try {
      const move = planTransfer(
        SYSTEM,
        locked.get(order.from_account_id),
        locked.get(order.to_account_id),
        formatAmount(Number(order.amount), order.currency),
        order.memo || `Standing order #${order.id}`,
      );
      runs.push({ order, date, move: journal.add({ ...move, externalRef: `standing-order:${order.id}:${date}` }), error: null });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      runs.push({ order, date, move: null, error: err });
    }
  }
  const txs = await journal.flush(t, SYSTEM);
  const rows: Omit<RunRow, 'id'>[] = runs.map((r) => {
    const transaction = r.move === null ? null : txs[r.move];
    return {
      standing_order_id: r.order.id,
      date: r.date,
      created_at: t.now,
      status: transaction ? (transaction.status === 'pending_approval' ? 'pending_approval' : 'posted') : 'failed',
      transaction_id: transaction ? transaction.id : null,
      error_code: r.error?.code ?? null,
      error_message: r.error ? r.error.message.slice(0, 500) : null,
    };
  });
  for (let i = 0; i < rows.length; i += 100) await t.q('standing_order_runs').insert(rows.slice(i, i + 100));
  const notes: ({ customerId: number | null } & NotificationText)[] = [];
  const audits: AuditInput[] = [];
  // An order from an account that has been closed ends with that refusal.
  const schedule = (r: (typeof runs)[number]): Pick<OrderRow, 'next_run_date' | 'status'> =>
    r.error && locked.get(r.order.from_account_id)?.status === 'closed'
      ? { next_run_date: null, status: 'cancelled' }
      : advance(r.order, r.date);
  runs.forEach((r, i) => {
    const run = rows[i];
    const next: OrderRow = { ...r.order, ...schedule(r), updated_at: t.now };
    const from = locked.get(r.order.from_account_id)!;
    const toNumber = locked.get(r.order.to_account_id)?.number ?? '';
    const dto = orderDto(next, toNumber, { id: 0, ...run });
    recordEvent(t, 'standing_order.updated', orderRooms(from), { standingOrder: dto });
    notes.push({ customerId: from.customer_id, ...runNotice(next, from.number, toNumber, run) });
    audits.push({
      action: `standing_order.run.${run.status}`,
      entity: 'standing_order',
      entityId: r.order.id,
      after: { date: r.date, ...dto.lastRun },
    });
  });
  for (const r of runs)
    await t
      .q('standing_orders')
      .where({ id: r.order.id })
      .update({ ...schedule(r), updated_at: t.now });
  await notifyCustomers(t, notes);
  await auditMany(t, SYSTEM, audits);
  return rows.map((r) => r.status);
}

/** What the owner is told about one run. */
function runNotice(
  order: OrderRow,
  fromNumber: string,
  toNumber: string,
  run: Pick<RunRow, 'date' | 'status' | 'error_message'>,
): NotificationText {
  const what = `${displayAmount(Number(order.amount), order.currency)} from account ${maskedAccount(fromNumber)} to ${maskedAccount(toNumber)}`;
  if (run.status === 'posted')
    return { kind: 'standing_order', title: 'Standing order paid', body: `Your standing order #${order.id} paid ${what} on ${run.date}.` };
  if (run.status === 'pending_approval') {
    return {
      kind: 'standing_order',
      title: 'Standing order awaiting approval',
      body: `Your standing order #${order.id} of ${what} on ${run.date} is above the approval limit; the money is held until a manager decides.`,
    };
  }
  return {
    kind: 'standing_order_failed',
    title: 'Standing order not paid',
    body: `Your standing order #${order.id} of ${what} could not be paid on ${run.date}: ${(run.error_message ?? '').replace(/\.?$/, '.')}${order.next_run_date ? ` The next payment is due on ${order.next_run_date}.` : ''}`,
  };
}
