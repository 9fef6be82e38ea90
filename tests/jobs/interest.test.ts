import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, type BankContext } from '../../bank/core/context.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { deposit, transfer, withdraw } from '../../bank/ledger/transactions.js';
import { dailyAccrualMicro } from '../../bank/ledger/interest.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

// March 2026 (31 days, 365-day year). Account A is savings (SAV): 3.50 % until the 15th,
// 5.00 % from the 16th. Account O is an interest-bearing type with an overdraft (ODI, 2.00 %)
// that spends most of the month below zero. D is a current account (CUR, 0 %).
//
// Daily accrual in millionths of a minor unit (paise), floored:
//   accrued = floor(closing_balance * annual_rate_micro / (100 * 365))
const A_MARCH: Array<[from: number, to: number, balance: number, rate: number, accrued: number]> = [
  // 1–4:   10,000.00 deposited on the 1st.   1,000,000 * 3,500,000 / 36,500 = 95,890,410.95… -> 95,890,410
  [1, 4, 1_000_000, 3_500_000, 95_890_410],
  // 5–9:   + 2,500.50 on the 5th.            1,250,050 * 3,500,000 / 36,500 = 119,867,808.21… -> 119,867,808
  [5, 9, 1_250_050, 3_500_000, 119_867_808],
  // 10–15: − 1,000.25 and + 0.75 on the 10th (the day's last entry counts).
  //                                          1,150,100 * 3,500,000 / 36,500 = 110,283,561.64… -> 110,283,561
  [10, 15, 1_150_100, 3_500_000, 110_283_561],
  // 16–19: the new rate.                     1,150,100 * 5,000,000 / 36,500 = 157,547,945.20… -> 157,547,945
  [16, 19, 1_150_100, 5_000_000, 157_547_945],
  // 20:    + 0.01 at 23:59:59.999.           1,150,101 * 5,000,000 / 36,500 = 157,548,082.19… -> 157,548,082
  [20, 20, 1_150_101, 5_000_000, 157_548_082],
  // 21–31: − 150.00 transferred to O at 00:00:00.000 on the 21st.
  //                                          1,135,101 * 5,000,000 / 36,500 = 155,493,287.67… -> 155,493,287
  [21, 31, 1_135_101, 5_000_000, 155_493_287],
];
// Sum: 4*95,890,410 + 5*119,867,808 + 6*110,283,561 + 4*157,547,945 + 157,548,082 + 11*155,493,287
//    = 383,561,640 + 599,339,040 + 661,701,366 + 630,191,780 + 157,548,082 + 1,710,426,157 = 4,142,768,065
const A_MARCH_TOTAL = 4_142_768_065;
// Posted on 1 April: floor(4,142,768,065 / 1,000,000) = 4,142 paise = 41.42; carried: 768,065.
const A_MARCH_POSTED = 4_142;
const A_MARCH_CARRY = 768_065;
// April: 1,135,101 + 4,142 = 1,139,243 all month at 5 %: 1,139,243 * 5,000,000 / 36,500 = 156,060,684.93… -> 156,060,684
// 30 days = 4,681,820,520; + the carry 768,065 = 4,682,588,585 -> 4,682 paise (46.82), carry 588,585.
// Without the carry it would have been 4,681: the fraction from March shows up as one paisa.
const A_APRIL_DAILY = 156_060_684;
const A_APRIL_POSTED = 4_682;
const A_APRIL_CARRY = 588_585;
// O: 0 on the 1st, −300.00 from the 2nd, −150.00 from the 21st (A's transfer): nothing accrues on
// a balance at or below zero. + 500.00 on the 28th -> 35,000 for 28–31 at 2 %:
// 35,000 * 2,000,000 / 36,500 = 1,917,808.21… -> 1,917,808; 4 days = 7,671,232 -> 7 paise, carry 671,232.
const O_DAILY_POSITIVE = 1_917_808;
// April: 35,007 * 2,000,000 / 36,500 = 1,918,191.78… -> 1,918,191; 30 days + 671,232 = 58,216,962 -> 58 paise, carry 216,962.
const O_APRIL_POSTED = 58;
const O_APRIL_CARRY = 216_962;

const day = (n: number, month = '03') => `2026-${month}-${String(n).padStart(2, '0')}`;

describe.each(DIALECTS)('interest on %s', (dialect) => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let jobs: Jobs;
  let A: number;
  let O: number;
  let D: number;
  let midMonth: any;

  const at = async <T>(iso: string, fn: () => Promise<T>): Promise<T> => {
    clock.set(iso);
    return fn();
  };
  const accruals = (accountId: number) => t.db('interest_accruals').where({ account_id: accountId }).orderBy('date');
  const interestTxs = () => t.db('transactions').where({ kind: 'interest' }).orderBy('id');
  const balance = async (id: number) => Number((await t.db('accounts').where({ id }).first('balance')).balance);

  beforeAll(async () => {
    t = await createTestDb(dialect);
    ({ bank, clock, jobs } = await bankWithClock(t.db, '2026-03-01T08:00:00.000Z'));
    await seedReference(t.db);
    const now = new Date().toISOString();
    await t.db('account_types').insert({
      code: 'ODI',
      name: 'Overdraft saver',
      min_balance: 0,
      overdraft_limit: 100_000,
      approval_threshold: null,
      created_at: now,
      updated_at: now,
    });
    await t
      .db('interest_rates')
      .insert({ account_type: 'ODI', annual_rate_micro: 2_000_000, effective_from: '2020-01-01', created_at: now });
    const alice = await createCustomer(t.db, 'Alice');
    const bob = await createCustomer(t.db, 'Bob');
    A = (await openAccount(bank, SYSTEM, { customerId: alice, type: 'SAV', branch: 'MAIN' })).id;
    D = (await openAccount(bank, SYSTEM, { customerId: alice, type: 'CUR', branch: 'MAIN' })).id;
    O = (await openAccount(bank, SYSTEM, { customerId: bob, type: 'ODI', branch: 'MAIN' })).id;
    const oNumber = (await t.db('accounts').where({ id: O }).first('number')).number;
    await at('2026-03-01T09:00:00.000Z', () => deposit(bank, SYSTEM, { accountId: A, amount: '10000.00' }));
    await at('2026-03-01T09:05:00.000Z', () => deposit(bank, SYSTEM, { accountId: D, amount: '5000.00' }));
    await at('2026-03-02T10:00:00.000Z', () => withdraw(bank, SYSTEM, { accountId: O, amount: '300.00' }));
    await at('2026-03-05T15:30:00.000Z', () => deposit(bank, SYSTEM, { accountId: A, amount: '2500.50' }));
    await at('2026-03-10T12:00:00.000Z', () => withdraw(bank, SYSTEM, { accountId: A, amount: '1000.25' }));
    await at('2026-03-10T18:00:00.000Z', () => deposit(bank, SYSTEM, { accountId: A, amount: '0.75' }));
    // A mid-month run: accrues the 1st to the 11th (the 12th has not ended).
    midMonth = await at('2026-03-12T00:05:00.000Z', () => jobs.runNow('interest-accrual'));
    await t
      .db('interest_rates')
      .insert({ account_type: 'SAV', annual_rate_micro: 5_000_000, effective_from: '2026-03-16', created_at: clock.at.toISOString() });
    await at('2026-03-20T23:59:59.999Z', () => deposit(bank, SYSTEM, { accountId: A, amount: '0.01' }));
    await at('2026-03-21T00:00:00.000Z', () => transfer(bank, SYSTEM, { fromAccountId: A, toAccountNumber: oNumber, amount: '150.00' }));
    await at('2026-03-28T10:00:00.000Z', () => deposit(bank, SYSTEM, { accountId: O, amount: '500.00' }));
  });
  afterAll(() => t?.destroy());

  it('the rule itself: floor of balance × rate / (100 × days in the year), nothing below zero', () => {
    expect(dailyAccrualMicro(1_000_000, 3_500_000, '2026-03-01')).toBe(95_890_410);
    expect(dailyAccrualMicro(1_000_000, 3_500_000, '2028-03-01')).toBe(95_628_415); // 3.5e12 / 36,600 = 95,628,415.3…
    expect(dailyAccrualMicro(-5_000, 3_500_000, '2026-03-01')).toBe(0);
    expect(dailyAccrualMicro(5_000, 0, '2026-03-01')).toBe(0);
  });

  it('the mid-month run accrued the closed days only', async () => {
    const rows = await t.db('interest_accruals').where({ account_id: A }).andWhere('date', '<=', '2026-03-11').orderBy('date');
    expect(rows.map((r) => r.date)).toEqual(Array.from({ length: 11 }, (_, i) => day(i + 1)));
    // A and O, 11 days each; D (0 %) gets no rows.
    expect(midMonth).toMatchObject({ through: '2026-03-11', accounts: 2, rows: 22, failures: [] });
  });

  it('posts March on 1 April: every day of A matches the hand-computed table', async () => {
    const r = (await at('2026-04-01T00:30:00.000Z', () => jobs.runNow('interest-posting'))) as any;
    expect(r.accrual.through).toBe('2026-03-31');
    expect(r.before).toBe('2026-04');

    const expected = A_MARCH.flatMap(([from, to, closing, rate, accrued]) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({
        date: day(from + i),
        closing_balance: closing,
        annual_rate_micro: rate,
        accrued_micro: accrued,
      })),
    );
    const rows = await accruals(A);
    expect(
      rows.map((r) => ({
        date: r.date,
        closing_balance: Number(r.closing_balance),
        annual_rate_micro: Number(r.annual_rate_micro),
        accrued_micro: Number(r.accrued_micro),
      })),
    ).toEqual(expected);
    expect(rows.reduce((s, r) => s + Number(r.accrued_micro), 0)).toBe(A_MARCH_TOTAL);

    const [txA] = await t.db('transactions').where({ kind: 'interest', to_account_id: A });
    expect(Number(txA.amount)).toBe(A_MARCH_POSTED);
    expect(txA.external_ref).toBe(`interest:${A}:2026-03`);
    expect(rows.every((r) => r.posted_transaction_id === txA.id)).toBe(true);
    const posting = await t.db('interest_postings').where({ account_id: A, period: '2026-03' }).first();
    expect(Number(posting.accrued_micro)).toBe(A_MARCH_TOTAL);
    expect(Number(posting.carry_in_micro)).toBe(0);
    expect(Number(posting.posted_minor)).toBe(A_MARCH_POSTED);
    expect(Number(posting.carry_out_micro)).toBe(A_MARCH_CARRY);
    expect(await balance(A)).toBe(1_135_101 + A_MARCH_POSTED);
  });

  it('accrues nothing on an overdrawn balance, and nothing on a zero-rate type', async () => {
    const rows = await accruals(O);
    expect(rows).toHaveLength(31);
    for (const r of rows) {
      const d = Number(r.date.slice(8));
      expect(Number(r.accrued_micro), r.date).toBe(d >= 28 ? O_DAILY_POSITIVE : 0);
      if (d >= 2 && d < 28) expect(Number(r.closing_balance)).toBeLessThan(0);
    }
    expect(Number((await t.db('interest_postings').where({ account_id: O, period: '2026-03' }).first()).posted_minor)).toBe(7);
    expect(await accruals(D)).toHaveLength(0);
    expect(await t.db('transactions').where({ kind: 'interest', to_account_id: D })).toHaveLength(0);
  });

  it('tells the customer: balance.updated, transaction.posted and a notification', async () => {
    const [txA] = await t.db('transactions').where({ kind: 'interest', to_account_id: A });
    const events = await t.db('events').where('type', 'balance.updated').orderBy('seq', 'desc').limit(10);
    expect(events.some((e) => JSON.parse(e.payload).transactionId === txA.id)).toBe(true);
  });

  it('running accrual and posting again changes nothing', async () => {
    const before = {
      rows: await t.db('interest_accruals').orderBy(['account_id', 'date']),
      txs: await interestTxs(),
      a: await balance(A),
      o: await balance(O),
      postings: await t.db('interest_postings').orderBy(['account_id', 'period']),
    };
    const again = (await jobs.runNow('interest-accrual')) as any;
    expect(again.rows).toBe(0);
    const posted = (await jobs.runNow('interest-posting')) as any;
    expect(posted.postings).toBe(0);
    clock.advance(3 * 3600_000);
    await jobs.runNow('interest-posting');
    expect(await t.db('interest_accruals').orderBy(['account_id', 'date'])).toEqual(before.rows);
    expect(await interestTxs()).toEqual(before.txs);
    expect(await t.db('interest_postings').orderBy(['account_id', 'period'])).toEqual(before.postings);
    expect(await balance(A)).toBe(before.a);
    expect(await balance(O)).toBe(before.o);
  });

  it('carries the remainder into April', async () => {
    await at('2026-05-01T00:30:00.000Z', () => jobs.runNow('interest-posting'));
    const aprilA = await t.db('interest_accruals').where({ account_id: A }).andWhere('date', '>=', '2026-04-01');
    expect(aprilA).toHaveLength(30);
    expect(aprilA.every((r) => Number(r.accrued_micro) === A_APRIL_DAILY)).toBe(true);
    const pA = await t.db('interest_postings').where({ account_id: A, period: '2026-04' }).first();
    expect(Number(pA.carry_in_micro)).toBe(A_MARCH_CARRY);
    expect(Number(pA.posted_minor)).toBe(A_APRIL_POSTED);
    expect(Number(pA.carry_out_micro)).toBe(A_APRIL_CARRY);
    const pO = await t.db('interest_postings').where({ account_id: O, period: '2026-04' }).first();
    expect(Number(pO.posted_minor)).toBe(O_APRIL_POSTED);
    expect(Number(pO.carry_out_micro)).toBe(O_APRIL_CARRY);
    const txs = await t.db('transactions').where({ kind: 'interest', to_account_id: A }).orderBy('id');
    expect(txs.map((x) => [x.external_ref, Number(x.amount)])).toEqual([
      [`interest:${A}:2026-03`, A_MARCH_POSTED],
      [`interest:${A}:2026-04`, A_APRIL_POSTED],
    ]);
    expect(await balance(A)).toBe(1_135_101 + A_MARCH_POSTED + A_APRIL_POSTED);
  });

  it('leaves the ledger balanced', async () => {
    const v = await verifyLedger(bank);
    expect(v.mismatches).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
