import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BankContext } from '../../bank/core/context.js';
import { SYSTEM } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { createStandingOrder, nextOccurrence, updateStandingOrder } from '../../bank/ledger/standing-orders.js';
import { addDays } from '../../bank/core/days.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, openTestAccount, seedReference, userWithSession } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

const datesFrom = (first: string, last: string, step: number) => {
  const out: string[] = [];
  for (let d = first; d <= last; d = addDays(d, step)) out.push(d);
  return out;
};

describe('nextOccurrence', () => {
  it('falls back to the last day of a shorter month and returns to the anchor day', () => {
    expect(nextOccurrence('monthly', 31, '2026-01-31')).toBe('2026-02-28');
    expect(nextOccurrence('monthly', 31, '2026-02-28')).toBe('2026-03-31');
    expect(nextOccurrence('monthly', 31, '2026-03-31')).toBe('2026-04-30');
    expect(nextOccurrence('monthly', 30, '2028-01-30')).toBe('2028-02-29');
    expect(nextOccurrence('monthly', 15, '2026-12-15')).toBe('2027-01-15');
    expect(nextOccurrence('weekly', 1, '2026-12-29')).toBe('2027-01-05');
    expect(nextOccurrence('daily', 1, '2026-02-28')).toBe('2026-03-01');
    expect(nextOccurrence('once', 1, '2026-02-28')).toBeNull();
  });
});

describe.each(DIALECTS)('standing orders on %s', (dialect) => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let jobs: Jobs;
  let mailDir: string;
  let owner: Awaited<ReturnType<typeof userWithSession>>;
  let payer: { id: number; number: string };
  let payee: { id: number; number: string };

  const run = async () => (await jobs.runNow('standing-orders')) as { posted: number; pendingApproval: number; failed: number };
  const day = (date: string, hour = 8) => clock.set(`${date}T${String(hour).padStart(2, '0')}:00:00.000Z`);
  const paid = async (orderId: number) =>
    (
      await t
        .db('transactions')
        .where('external_ref', 'like', `standing-order:${orderId}:%`)
        .orderBy('id')
        .select('external_ref', 'posted_at', 'amount', 'status')
    ).map((r) => ({
      date: String(r.external_ref).split(':')[2],
      postedOn: r.posted_at?.slice(0, 10) ?? null,
      amount: Number(r.amount),
      status: r.status,
    }));
  const balance = async (id: number) => Number((await t.db('accounts').where({ id }).first('balance')).balance);

  beforeAll(async () => {
    t = await createTestDb(dialect);
    ({ bank, clock, jobs, mailDir } = await bankWithClock(t.db, '2026-01-28T08:00:00.000Z'));
    await seedReference(t.db);
    const customer = await createCustomer(t.db, 'Payer');
    owner = await userWithSession(bank, 'customer', { customerId: customer });
    await t.db('customers').where({ id: customer }).update({ email: 'payer@example.com' });
    payer = await openTestAccount(bank, customer, 'CUR');
    payee = await openTestAccount(bank, await createCustomer(t.db, 'Payee'), 'CUR');
    await ledger.deposit(bank, SYSTEM, { accountId: payer.id, amount: '100000.00' });
  }, 60_000);
  afterAll(() => t?.destroy());

  it('a month and more of daily, weekly, monthly and one-off orders posts exactly the expected transfers, on their dates', async () => {
    const make = (frequency: 'once' | 'daily' | 'weekly' | 'monthly', startDate: string, amount: string, endDate?: string) =>
      createStandingOrder(bank, owner.actor, {
        fromAccountId: payer.id,
        toAccountNumber: payee.number,
        amount,
        frequency,
        startDate,
        endDate,
      });
    const daily = await make('daily', '2026-01-28', '1.00', '2026-02-28');
    const weekly = await make('weekly', '2026-01-29', '10.00');
    const on31st = await make('monthly', '2026-01-31', '100.00');
    const on30th = await make('monthly', '2026-01-30', '200.00', '2026-03-30');
    const once = await make('once', '2026-02-15', '50.00');
    const startPayer = await balance(payer.id);

    // Every day from 28 January to 31 March; some days the job runs twice, or at midnight and at noon.
    for (let d = '2026-01-28'; d <= '2026-03-31'; d = addDays(d, 1)) {
      day(d, 0);
      await run();
      if (Number(d.slice(8)) % 3 === 0) {
        day(d, 12);
        await run();
      }
    }

    const expectDates = async (orderId: number, dates: string[], amount: number) => {
      const got = await paid(orderId);
      expect(
        got.map((g) => g.date),
        `order ${orderId}`,
      ).toEqual(dates);
      // Paid on the day it was due, not later.
      expect(got.every((g) => g.postedOn === g.date && g.amount === amount && g.status === 'posted')).toBe(true);
    };
    await expectDates(daily.id, datesFrom('2026-01-28', '2026-02-28', 1), 100);
    await expectDates(weekly.id, datesFrom('2026-01-29', '2026-03-31', 7), 1_000);
    await expectDates(on31st.id, ['2026-01-31', '2026-02-28', '2026-03-31'], 10_000);
    await expectDates(on30th.id, ['2026-01-30', '2026-02-28', '2026-03-30'], 20_000);
    await expectDates(once.id, ['2026-02-15'], 5_000);

    const total = 32 * 100 + 9 * 1_000 + 3 * 10_000 + 3 * 20_000 + 5_000;
    expect(await balance(payer.id)).toBe(startPayer - total);
    const orders = new Map((await t.db('standing_orders').select('id', 'status', 'next_run_date')).map((o) => [o.id, o]));
    expect(orders.get(daily.id)).toMatchObject({ status: 'completed', next_run_date: null });
    expect(orders.get(on30th.id)).toMatchObject({ status: 'completed', next_run_date: null });
    expect(orders.get(once.id)).toMatchObject({ status: 'completed', next_run_date: null });
    expect(orders.get(weekly.id)).toMatchObject({ status: 'active', next_run_date: '2026-04-02' });
    expect(orders.get(on31st.id)).toMatchObject({ status: 'active', next_run_date: '2026-04-30' });
    const runs = await t.db('standing_order_runs').count({ n: '*' });
    expect(Number(runs[0].n)).toBe(32 + 9 + 3 + 3 + 1);
    expect((await verifyLedger(bank)).ok).toBe(true);
    for (const o of [daily, weekly, on31st, on30th, once])
      await updateStandingOrder(bank, owner.actor, o.id, { status: 'cancelled' }).catch(() => undefined);
  });

  it('after an outage of several days each missed date runs once; running again, even at once, doubles nothing', async () => {
    day('2026-05-04');
    const daily = await createStandingOrder(bank, owner.actor, {
      fromAccountId: payer.id,
      toAccountNumber: payee.number,
      amount: '3.00',
      frequency: 'daily',
      startDate: '2026-05-04',
    });
    const weekly = await createStandingOrder(bank, owner.actor, {
      fromAccountId: payer.id,
      toAccountNumber: payee.number,
      amount: '7.00',
      frequency: 'weekly',
      startDate: '2026-05-05',
    });
    expect((await run()).posted).toBe(1);
    // The worker is down from the 5th to the 12th.
    day('2026-05-12', 9);
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.posted + b.posted).toBe(8 + 2);
    expect((await run()).posted).toBe(0);
    expect((await paid(daily.id)).map((p) => p.date)).toEqual(datesFrom('2026-05-04', '2026-05-12', 1));
    expect((await paid(weekly.id)).map((p) => p.date)).toEqual(['2026-05-05', '2026-05-12']);
    // Caught-up runs are posted on the day the job ran.
    expect(new Set((await paid(daily.id)).slice(1).map((p) => p.postedOn))).toEqual(new Set(['2026-05-12']));
    const [{ n }] = await t.db('standing_order_runs').where({ standing_order_id: daily.id }).count({ n: '*' });
    expect(Number(n)).toBe(9);
    // A pause skips the dates it covers; resuming picks up from today.
    await updateStandingOrder(bank, owner.actor, daily.id, { status: 'paused' });
    day('2026-05-15');
    expect((await run()).posted).toBe(0);
    expect((await updateStandingOrder(bank, owner.actor, daily.id, { status: 'active' })).nextRunDate).toBe('2026-05-15');
    expect((await run()).posted).toBe(1);
    await updateStandingOrder(bank, owner.actor, daily.id, { status: 'cancelled' });
    await updateStandingOrder(bank, owner.actor, weekly.id, { status: 'cancelled' });
    expect((await verifyLedger(bank)).ok).toBe(true);
  });

  it('a refused run is recorded as failed, told to the owner live and by mail, and not retried that day', async () => {
    day('2026-06-01');
    const poor = await openTestAccount(bank, owner.actor.customerId!, 'BIZ');
    await ledger.deposit(bank, SYSTEM, { accountId: poor.id, amount: '5.00' });
    const order = await createStandingOrder(bank, owner.actor, {
      fromAccountId: poor.id,
      toAccountNumber: payee.number,
      amount: '20.00',
      frequency: 'monthly',
      startDate: '2026-06-01',
    });
    const seqBefore = Number((await t.db('events').max({ m: 'seq' }))[0].m);
    expect(await run()).toMatchObject({ posted: 0, failed: 1 });
    expect(await run()).toMatchObject({ posted: 0, failed: 0 });
    const runs = await t.db('standing_order_runs').where({ standing_order_id: order.id });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ date: '2026-06-01', status: 'failed', transaction_id: null, error_code: 'insufficient_funds' });
    expect(await paid(order.id)).toEqual([]);
    expect(await balance(poor.id)).toBe(500);
    const after = await t.db('standing_orders').where({ id: order.id }).first();
    expect(after).toMatchObject({ status: 'active', next_run_date: '2026-07-01' });
    // Live: the order's update and a notification to the owner's user.
    const events = await t.db('events').where('seq', '>', seqBefore).select('type', 'payload');
    const updated = events.filter((e) => e.type === 'standing_order.updated').map((e) => JSON.parse(e.payload).standingOrder);
    expect(updated.at(-1)).toMatchObject({
      id: order.id,
      lastRun: { date: '2026-06-01', status: 'failed', transactionId: null, error: { code: 'insufficient_funds' } },
    });
    const note = events
      .filter((e) => e.type === 'notification')
      .map((e) => JSON.parse(e.payload))
      .find((p) => p.kind === 'standing_order_failed');
    expect(note.title).toBe('Standing order not paid');
    const rooms = await t
      .db('event_rooms')
      .whereIn('seq', t.db('events').where('seq', '>', seqBefore).andWhere({ type: 'notification' }).select('seq'))
      .pluck('room');
    expect(rooms).toContain(`user:${owner.user.id}`);
    // By mail.
    await jobs.runNow('mail');
    const mails = fs
      .readdirSync(mailDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(mailDir, f), 'utf8')));
    const mail = mails.find((m) => m.subject === 'Standing order not paid');
    expect(mail, JSON.stringify(mails.map((m) => m.subject))).toBeDefined();
    expect(JSON.stringify(mail.to)).toContain('payer@example.com');
    expect(mail.text).toContain(`#${order.id}`);
    // The next month, with money in the account, it pays.
    await ledger.deposit(bank, SYSTEM, { accountId: poor.id, amount: '100.00' });
    day('2026-07-01');
    expect(await run()).toMatchObject({ posted: 1, failed: 0 });
    expect((await t.db('standing_order_runs').where({ standing_order_id: order.id }).orderBy('id')).map((r) => r.status)).toEqual([
      'failed',
      'posted',
    ]);
  });

  it('an order above the approval threshold is held for a manager, like any transfer', async () => {
    day('2026-08-03');
    const biz = await openTestAccount(bank, owner.actor.customerId!, 'BIZ');
    await ledger.deposit(bank, SYSTEM, { accountId: biz.id, amount: '50000.00' });
    const order = await createStandingOrder(bank, owner.actor, {
      fromAccountId: biz.id,
      toAccountNumber: payee.number,
      amount: '12000.00',
      frequency: 'once',
      startDate: '2026-08-03',
    });
    expect(await run()).toMatchObject({ pendingApproval: 1 });
    const [tx] = await paid(order.id);
    expect(tx.status).toBe('pending_approval');
    const acct = await t.db('accounts').where({ id: biz.id }).first('balance', 'held');
    expect([Number(acct.balance), Number(acct.held)]).toEqual([5_000_000, 1_200_000]);
    expect((await t.db('standing_orders').where({ id: order.id }).first()).status).toBe('completed');
  });

  it('an order from an account that was closed fails once and ends', async () => {
    day('2026-09-01');
    const gone = await openTestAccount(bank, owner.actor.customerId!, 'CUR');
    const order = await createStandingOrder(bank, owner.actor, {
      fromAccountId: gone.id,
      toAccountNumber: payee.number,
      amount: '5.00',
      frequency: 'daily',
      startDate: '2026-09-02',
    });
    await t.db('accounts').where({ id: gone.id }).update({ status: 'closed', closed_at: clock.at.toISOString() });
    day('2026-09-04');
    expect(await run()).toMatchObject({ failed: 1 });
    expect(await run()).toMatchObject({ failed: 0 });
    expect(await t.db('standing_order_runs').where({ standing_order_id: order.id }).pluck('error_code')).toEqual(['account_closed']);
    expect(await t.db('standing_orders').where({ id: order.id }).first()).toMatchObject({ status: 'cancelled', next_run_date: null });
  });
});
