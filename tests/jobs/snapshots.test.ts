import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankContext, SYSTEM } from '../../bank/core/context.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { deposit, withdraw } from '../../bank/ledger/transactions.js';
import { addDays, dayOf } from '../../bank/core/days.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { bankWithClock } from './clock.js';

describe.each(DIALECTS)('balance snapshots on %s', (dialect) => {
  let t: TestDb;
  afterAll(() => t?.destroy());

  it('snapshots each closed day once, with the balance after its last entry', async () => {
    t = await createTestDb(dialect);
    const { bank, clock, jobs } = await bankWithClock(t.db, '2026-03-01T08:00:00.000Z');
    await seedReference(t.db);
    const cust = await createCustomer(t.db, 'Snap');
    const a = (await openAccount(bank, SYSTEM, { customerId: cust, type: 'CUR', branch: 'MAIN' })).id;
    const move = async (iso: string, fn: () => Promise<unknown>) => {
      clock.set(iso);
      await fn();
    };
    await move('2026-03-01T09:00:00.000Z', () => deposit(bank, SYSTEM, { accountId: a, amount: '100.00' }));
    await move('2026-03-03T01:00:00.000Z', () => deposit(bank, SYSTEM, { accountId: a, amount: '50.00' }));
    await move('2026-03-03T23:59:59.999Z', () => withdraw(bank, SYSTEM, { accountId: a, amount: '20.00' }));
    await move('2026-03-04T00:00:00.000Z', () => withdraw(bank, SYSTEM, { accountId: a, amount: '600.00' })); // into the overdraft
    const snaps = () => t.db('balance_snapshots').where({ account_id: a }).orderBy('date').select('date', 'balance');

    clock.set('2026-03-04T00:01:00.000Z'); // the 3rd has ended but not settled yet
    let r = (await jobs.runNow('balance-snapshot')) as any;
    expect(r.through).toBe('2026-03-02');
    clock.set('2026-03-04T00:05:00.000Z');
    r = (await jobs.runNow('balance-snapshot')) as any;
    expect(r.through).toBe('2026-03-03');
    expect((await snaps()).map((s) => [s.date, Number(s.balance)])).toEqual([
      ['2026-03-01', 10_000],
      ['2026-03-02', 10_000],
      ['2026-03-03', 13_000],
    ]);

    clock.set('2026-03-06T10:00:00.000Z');
    await jobs.runNow('balance-snapshot');
    const rows = await snaps();
    expect(rows.map((s) => [s.date, Number(s.balance)])).toEqual([
      ['2026-03-01', 10_000],
      ['2026-03-02', 10_000],
      ['2026-03-03', 13_000],
      ['2026-03-04', -47_000],
      ['2026-03-05', -47_000],
    ]);
    const all = await t.db('balance_snapshots').orderBy(['account_id', 'date']);
    r = (await jobs.runNow('balance-snapshot')) as any;
    expect(r.rows).toBe(0);
    expect(await t.db('balance_snapshots').orderBy(['account_id', 'date'])).toEqual(all);
  });
});

describe('GET /accounts/:id/balances serves the snapshots', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv?.close());

  it('after the job ran over HTTP', async () => {
    const { db } = srv.running.bank;
    await seedReference(db);
    const cust = await createCustomer(db, 'Hist');
    // Make history three days ago on a clock of our own, in the server's database.
    const today = dayOf(new Date());
    const d3 = addDays(today, -3);
    const d2 = addDays(today, -2);
    let at = new Date(`${d3}T10:00:00.000Z`);
    const past = createBankContext(db, { currency: 'INR', now: () => at });
    const acct = await openAccount(past, SYSTEM, { customerId: cust, type: 'CUR', branch: 'MAIN' });
    await deposit(past, SYSTEM, { accountId: acct.id, amount: '1234.56' });
    at = new Date(`${d2}T12:00:00.000Z`);
    await withdraw(past, SYSTEM, { accountId: acct.id, amount: '34.56' });

    const admin = apiClient(srv.url, (await userWithSession(srv.running.bank, 'admin')).token);
    const run = await admin.post('/jobs/balance-snapshot/run');
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ name: 'balance-snapshot', ok: true });
    const snaps = await db('balance_snapshots').where({ account_id: acct.id }).orderBy('date');
    // Up to yesterday (or the day before, in the first two minutes after midnight UTC).
    expect(snaps.map((s) => s.date).slice(0, 2)).toEqual([d3, d2]);
    expect(snaps.map((s) => Number(s.balance)).slice(0, 2)).toEqual([123_456, 120_000]);
    expect(snaps.every((s) => s.date < today)).toBe(true);

    // A snapshot is what the endpoint answers for its day (mark one to tell it from a recomputation).
    await db('balance_snapshots').where({ account_id: acct.id, date: d3 }).update({ balance: 123_457 });
    const teller = apiClient(srv.url, (await userWithSession(srv.running.bank, 'teller')).token);
    const res = await teller.get(`/accounts/${acct.id}/balances?from=${d3}&to=${today}`);
    expect(res.status).toBe(200);
    expect(res.body.slice(0, 3)).toEqual([
      { date: d3, balance: '1234.57' },
      { date: d2, balance: '1200.00' },
      { date: addDays(today, -1), balance: '1200.00' },
    ]);
    expect(res.body[3]).toEqual({ date: today, balance: '1200.00' });
  });
});
