import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { DIALECTS } from '../helpers/db.js';

describe.each(DIALECTS)('batch transfers and idempotency over HTTP on %s', (dialect) => {
  let srv: TestServer;
  let teller: ApiClient;
  let manager: ApiClient;
  const accounts: { id: number; number: string }[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ dialect });
    const { bank } = srv.running;
    await seedReference(bank.db);
    const customer = await createCustomer(bank.db, 'Batch');
    teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
    manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
    for (const type of ['CUR', 'CUR', 'CUR', 'BIZ', 'CUR']) {
      accounts.push((await teller.post('/accounts', { customerId: customer, type, branch: 'MAIN' })).body);
    }
    for (const a of accounts.slice(0, 4)) await teller.post('/deposits', { accountId: a.id, amount: '100000.00' });
  });
  afterAll(() => srv?.close());

  const balance = async (i: number) => (await teller.get(`/accounts/${accounts[i].id}`)).body.balance;
  const item = (key: string, from: number, to: number, amount: string) => ({
    idempotencyKey: key,
    fromAccountNumber: accounts[from].number,
    toAccountNumber: accounts[to].number,
    amount,
  });

  it('answers each item of a non-atomic batch on its own', async () => {
    const r = await manager.post('/batch/transfers', {
      atomic: false,
      items: [
        item('p1', 0, 1, '10.00'),
        item('p2', 1, 0, '999999.00'), // beyond the overdraft
        { ...item('p3', 0, 1, '1.00'), toAccountNumber: '000000000000' },
        item('p4', 2, 2, '1.00'),
        item('p5', 3, 0, '15000.00'), // BIZ above its approval threshold
        item('p6', 0, 2, '0.001'),
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => [x.index, x.status, x.error?.code ?? null])).toEqual([
      [0, 'posted', null],
      [1, 'failed', 'insufficient_funds'],
      [2, 'failed', 'not_found'],
      [3, 'failed', 'same_account'],
      [4, 'pending_approval', null],
      [5, 'failed', 'invalid_amount'],
    ]);
    expect(r.body.results[0].transactionId).toEqual(expect.any(Number));
    expect(r.body.results[1].transactionId).toBeNull();
    expect(await balance(0)).toBe('99990.00');
  });

  it('replays a retried batch item by item and refuses a reused key with another payload', async () => {
    const first = await manager.post('/batch/transfers', { atomic: false, items: [item('r1', 0, 1, '5.00'), item('r2', 1, 0, '2.00')] });
    const again = await manager.post('/batch/transfers', {
      atomic: false,
      items: [item('r1', 0, 1, '5.00'), item('r2', 1, 0, '2.00'), item('r3', 1, 0, '1.00')],
    });
    expect(again.body.results.map((x: any) => x.status)).toEqual(['replayed', 'replayed', 'posted']);
    expect(again.body.results[0].transactionId).toBe(first.body.results[0].transactionId);
    const mismatch = await manager.post('/batch/transfers', { atomic: false, items: [item('r1', 0, 1, '6.00')] });
    expect(mismatch.body.results[0]).toMatchObject({ status: 'failed', error: { code: 'idempotency_mismatch' } });
    expect(await balance(0)).toBe('99988.00');
  });

  it('posts an atomic batch all or nothing', async () => {
    const before = [await balance(0), await balance(1)];
    const bad = await manager.post('/batch/transfers', {
      atomic: true,
      items: [item('a1', 0, 1, '1.00'), item('a2', 0, 1, '2.00'), item('a3', 1, 0, '999999.00')],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: 'insufficient_funds', details: { index: 2 } });
    expect([await balance(0), await balance(1)]).toEqual(before);
    // Nothing of the refused batch was kept: the same keys now post.
    const good = await manager.post('/batch/transfers', { atomic: true, items: [item('a1', 0, 1, '1.00'), item('a2', 0, 1, '2.00')] });
    expect(good.status).toBe(200);
    expect(good.body.results.map((x: any) => x.status)).toEqual(['posted', 'posted']);
    const replay = await manager.post('/batch/transfers', { atomic: true, items: [item('a1', 0, 1, '1.00'), item('a2', 0, 1, '2.00')] });
    expect(replay.body.results.map((x: any) => x.status)).toEqual(['replayed', 'replayed']);
    expect(await balance(0)).toBe('99985.00');
    const unknown = await manager.post('/batch/transfers', {
      atomic: true,
      items: [item('a4', 0, 1, '1.00'), { ...item('a5', 0, 1, '1.00'), fromAccountNumber: '000000000000' }],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', details: { index: 1 } });
  });

  it('checks each item against the balance the items before it left', async () => {
    await teller.post('/deposits', { accountId: accounts[2].id, amount: '100.00' });
    const start = Number(await balance(2));
    // CUR may go down to -500.00: two payments of half the room fit, the third does not.
    const half = ((start + 500) / 2).toFixed(2);
    const r = await manager.post('/batch/transfers', {
      atomic: false,
      items: [item('drain1', 2, 0, half), item('drain2', 2, 0, half), item('drain3', 2, 0, '0.01')],
    });
    expect(r.body.results.map((x: any) => x.error?.code ?? x.status)).toEqual(['posted', 'posted', 'insufficient_funds']);
    expect(await balance(2)).toBe('-500.00');
    expect((await verifyLedger(srv.running.bank)).ok).toBe(true);
    await teller.post('/deposits', { accountId: accounts[2].id, amount: String(start + 500) });
  });

  it('refuses malformed batches whole', async () => {
    for (const body of [
      { atomic: false, items: [] },
      { atomic: true, items: Array.from({ length: 10_001 }, (_, i) => item(`x${i}`, 0, 1, '1')) },
      { atomic: false, items: [item('d', 0, 1, '1'), item('d', 0, 1, '1')] },
      { items: [item('y', 0, 1, '1')] },
      { atomic: false, items: [{ ...item('z', 0, 1, '1'), extra: 1 }] },
    ]) {
      const r = await manager.post('/batch/transfers', body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect((await teller.post('/batch/transfers', { atomic: false, items: [item('t', 0, 1, '1')] })).status).toBe(403);
  });

  it('moves a batch of 10,000 transfers and keeps the ledger exact', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => item(`big-${i}`, i % 3, (i + 1) % 3, '0.01'));
    const started = Date.now();
    const r = await manager.post('/batch/transfers', { atomic: false, items });
    console.log(`[${dialect}] batch of 10,000 transfers: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(r.status).toBe(200);
    expect(r.body.results).toHaveLength(10_000);
    expect(r.body.results.every((x: any, i: number) => x.index === i && x.status === 'posted')).toBe(true);
    expect(new Set(r.body.results.map((x: any) => x.transactionId)).size).toBe(10_000);
    expect((await verifyLedger(srv.running.bank)).ok).toBe(true);
  }, 180_000);

  it('posts a deposit once when the same key arrives many times at once', async () => {
    const h = { 'Idempotency-Key': `conc-${dialect}` };
    const before = await balance(4);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => teller.post('/deposits', { accountId: accounts[4].id, amount: '7.00' }, h)),
    );
    const statuses = answers.map((a) =>
      a.status === 409 ? a.body.error.code : a.headers.get('idempotent-replayed') ? 'replayed' : a.status,
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 'replayed' || s === 'idempotency_in_flight')).toBe(true);
    if (dialect === 'pg') expect(statuses).toContain('idempotency_in_flight');
    expect(Number(await balance(4))).toBe(Number(before) + 7);
  });
});
