import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, type Actor, type BankContext } from '../../bank/core/context.js';
import { closeAccount, openAccount } from '../../bank/accounts/operations.js';
import { deposit, withdraw } from '../../bank/ledger/transactions.js';
import { postInterest, settleInterestForClosing } from '../../bank/ledger/interest.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { toHttpError } from '../../rest/errors.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

// March 2026 (365-day year), savings (SAV) at 3.50 % as seeded. Daily accrual in micro-paise:
//   floor(closing_balance * 3,500,000 / 36,500)
//
// A: 20,000.00 from the 1st: 2,000,000 * 3,500,000 / 36,500 = 191,780,821.9… -> 191,780,821 (days 1–4)
//    + 1,234.56 on the 5th:  2,123,456 * 3,500,000 / 36,500 = 203,619,068.4… -> 203,619,068 (days 5–9)
//    Closed on the 10th (the 9th is the last closed day):
//    4 * 191,780,821 + 5 * 203,619,068 = 767,123,284 + 1,018,095,340 = 1,785,218,624 -> 1,785 paise (17.85).
const A_CREDITED = 1_785;
// B: 10,000.00 from the 1st: 1,000,000 * 3,500,000 / 36,500 = 95,890,410.9… -> 95,890,410.
//    Settled on the 10th (days 1–9): 9 * 95,890,410 = 863,013,690 -> 863 paise, carry 13,690.
//    Not closed: days 10–31 on 1,000,863: 1,000,863 * 3,500,000 / 36,500 = 95,973,164.3… -> 95,973,164;
//    22 days = 2,111,409,608 + the carry 13,690 = 2,111,423,298 -> 2,111 paise on 1 April, carry 423,298.
const B_SETTLED = 863;
const B_SETTLED_CARRY = 13_690;
const B_DAILY_AFTER = 95_973_164;
const B_MARCH_POSTED = 2_111;
const B_MARCH_CARRY = 423_298;

describe.each(DIALECTS)('interest at closing on %s', (dialect) => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let manager: Actor;
  let A: number;
  let B: number;

  const balance = async (id: number) => Number((await t.db('accounts').where({ id }).first('balance')).balance);
  const interestTxs = (id: number) => t.db('transactions').where({ kind: 'interest', to_account_id: id }).orderBy('id');
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err).not.toBeNull();
    return toHttpError(err)!;
  };

  beforeAll(async () => {
    t = await createTestDb(dialect);
    ({ bank, clock } = await bankWithClock(t.db, '2026-03-01T08:00:00.000Z'));
    await seedReference(t.db);
    manager = (await userWithSession(bank, 'manager')).actor;
    const alice = await createCustomer(t.db, 'Alice');
    A = (await openAccount(bank, SYSTEM, { customerId: alice, type: 'SAV', branch: 'MAIN' })).id;
    B = (await openAccount(bank, SYSTEM, { customerId: alice, type: 'SAV', branch: 'MAIN' })).id;
    clock.set('2026-03-01T09:00:00.000Z');
    await deposit(bank, SYSTEM, { accountId: A, amount: '20000.00' });
    await deposit(bank, SYSTEM, { accountId: B, amount: '10000.00' });
    clock.set('2026-03-05T15:00:00.000Z');
    await deposit(bank, SYSTEM, { accountId: A, amount: '1234.56' });
  });
  afterAll(() => t?.destroy());

  it('credits the interest to date on close, refuses until paid out, then closes', async () => {
    clock.set('2026-03-10T12:00:00.000Z');
    const r = await refusal(closeAccount(bank, manager, A, 'moving abroad'));
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'nonzero_balance', details: { interestCredited: '17.85', balance: '21252.41' } });
    expect(r.body.error.message).toMatch(/interest to date was credited/);
    const [tx] = await interestTxs(A);
    expect(Number(tx.amount)).toBe(A_CREDITED);
    expect(tx.external_ref).toBe(`interest:${A}:2026-03-09-close`);
    const rows = await t.db('interest_accruals').where({ account_id: A }).orderBy('date');
    expect(rows.map((x) => x.date)).toEqual(Array.from({ length: 9 }, (_, i) => `2026-03-0${i + 1}`));
    expect(rows.every((x) => Number(x.posted_transaction_id) === Number(tx.id))).toBe(true);
    expect(await balance(A)).toBe(2_123_456 + A_CREDITED);

    clock.set('2026-03-10T12:05:00.000Z');
    await withdraw(bank, manager, { accountId: A, amount: '21252.41' });
    const closed = await closeAccount(bank, manager, A, 'moving abroad');
    expect(closed.status).toBe('closed');
    expect(await interestTxs(A)).toHaveLength(1);
  });

  it('settling twice pays once', async () => {
    const r = await refusal(closeAccount(bank, manager, B, 'changed mind later'));
    expect(r.body.error.details).toMatchObject({ interestCredited: '8.63' });
    expect(await settleInterestForClosing(bank, B)).toEqual({ postedMinor: 0, transactionId: null });
    const again = await refusal(closeAccount(bank, manager, B, 'again'));
    expect(again.body.error.details).not.toHaveProperty('interestCredited');
    expect((await interestTxs(B)).map((x) => Number(x.amount))).toEqual([B_SETTLED]);
    expect(await balance(B)).toBe(1_000_000 + B_SETTLED);
    // Nothing marks the month done: the rest of March still accrues and is posted.
    expect(await t.db('interest_postings').where({ account_id: B })).toHaveLength(0);
  });

  it('the monthly posting pays only what the settlement did not, and nothing for the closed account', async () => {
    clock.set('2026-04-01T00:30:00.000Z');
    const result = await postInterest(bank);
    expect(result.failures).toEqual([]);
    expect(await interestTxs(A)).toHaveLength(1);
    expect(await t.db('interest_postings').where({ account_id: A })).toHaveLength(0);

    const after = await t.db('interest_accruals').where({ account_id: B }).andWhere('date', '>=', '2026-03-10');
    expect(after).toHaveLength(22);
    expect(after.every((x) => Number(x.accrued_micro) === B_DAILY_AFTER)).toBe(true);
    const txs = await interestTxs(B);
    expect(txs.map((x) => [x.external_ref, Number(x.amount)])).toEqual([
      [`interest:${B}:2026-03-09-close`, B_SETTLED],
      [`interest:${B}:2026-03`, B_MARCH_POSTED],
    ]);
    expect(after.every((x) => Number(x.posted_transaction_id) === Number(txs[1].id))).toBe(true);
    const p = await t.db('interest_postings').where({ account_id: B, period: '2026-03' }).first();
    expect([Number(p.accrued_micro), Number(p.carry_in_micro), Number(p.posted_minor), Number(p.carry_out_micro)]).toEqual([
      22 * B_DAILY_AFTER,
      B_SETTLED_CARRY,
      B_MARCH_POSTED,
      B_MARCH_CARRY,
    ]);
    expect(await balance(B)).toBe(1_000_000 + B_SETTLED + B_MARCH_POSTED);

    expect((await postInterest(bank)).postings).toBe(0);
    expect(await interestTxs(B)).toHaveLength(2);
  });

  it('leaves the ledger balanced', async () => {
    const v = await verifyLedger(bank);
    expect(v.mismatches).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
