import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type TestServer, type ApiClient } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceAcct: any;
let bobAcct: any;
let aliceBiz: any;

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  await seedReference(bank.db);
  const aliceId = await createCustomer(bank.db, 'Alice');
  const bobId = await createCustomer(bank.db, 'Bob');
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  alice = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: aliceId })).token);
  bob = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: bobId })).token);
  aliceAcct = (await teller.post('/accounts', { customerId: aliceId, type: 'CUR', branch: 'MAIN' })).body;
  aliceBiz = (await teller.post('/accounts', { customerId: aliceId, type: 'BIZ', branch: 'MAIN' })).body;
  bobAcct = (await teller.post('/accounts', { customerId: bobId, type: 'SAV', branch: 'MAIN' })).body;
});
afterAll(() => srv?.close());

describe('money over HTTP', () => {
  it('opens accounts with Luhn-checked 12-digit numbers', () => {
    expect(aliceAcct.number).toMatch(/^\d{12}$/);
    expect(aliceAcct).toMatchObject({
      type: 'CUR',
      branch: 'MAIN',
      currency: 'INR',
      balance: '0.00',
      availableBalance: '0.00',
      status: 'active',
      closedAt: null,
    });
  });

  it('deposits, transfers, and shows both parties the result', async () => {
    const dep = await teller.post('/deposits', { accountId: aliceAcct.id, amount: '1000.50', memo: 'cash' });
    expect(dep.status).toBe(201);
    expect(dep.body).toMatchObject({
      kind: 'deposit',
      status: 'posted',
      amount: '1000.50',
      toAccountNumber: aliceAcct.number,
      fromAccountNumber: null,
    });
    const tr = await alice.post('/transfers', { fromAccountId: aliceAcct.id, toAccountNumber: bobAcct.number, amount: '250.25' });
    expect(tr.status).toBe(201);
    expect(tr.body).toMatchObject({
      kind: 'transfer',
      status: 'posted',
      amount: '250.25',
      fromAccountNumber: aliceAcct.number,
      toAccountNumber: bobAcct.number,
    });
    expect((await alice.get(`/accounts/${aliceAcct.id}`)).body.balance).toBe('750.25');
    expect((await bob.get(`/accounts/${bobAcct.id}`)).body.balance).toBe('250.25');
    expect((await bob.get(`/transactions/${tr.body.id}`)).status).toBe(200);
  });

  it("hides other customers' accounts as not found", async () => {
    expect((await bob.get(`/accounts/${aliceAcct.id}`)).status).toBe(404);
    const r = await bob.post('/transfers', { fromAccountId: aliceAcct.id, toAccountNumber: bobAcct.number, amount: '1' });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('refuses bad amounts with invalid_amount', async () => {
    for (const amount of ['-1', '0', '1e3', '1.234', '', ' 1', 12, '1,000']) {
      const r = await teller.post('/deposits', { accountId: aliceAcct.id, amount });
      expect(r.status, String(amount)).toBe(400);
      expect(r.body.error.code, String(amount)).toBe('invalid_amount');
    }
  });

  it('replays an idempotent deposit and refuses another payload under the same key', async () => {
    const h = { 'Idempotency-Key': 'dep-1' };
    const a = await teller.post('/deposits', { accountId: bobAcct.id, amount: '10' }, h);
    const b = await teller.post('/deposits', { accountId: bobAcct.id, amount: '10' }, h);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    const c = await teller.post('/deposits', { accountId: bobAcct.id, amount: '11' }, h);
    expect(c.status).toBe(422);
    expect(c.body.error.code).toBe('idempotency_mismatch');
    expect((await bob.get(`/accounts/${bobAcct.id}`)).body.balance).toBe('260.25');
  });

  it('holds a large transfer for approval and posts it when a manager approves', async () => {
    await teller.post('/deposits', { accountId: aliceBiz.id, amount: '20000' });
    const r = await alice.post('/transfers', { fromAccountId: aliceBiz.id, toAccountNumber: bobAcct.number, amount: '15000' });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('pending_approval');
    const held = (await alice.get(`/accounts/${aliceBiz.id}`)).body;
    expect(held).toMatchObject({ balance: '20000.00', availableBalance: '5000.00' });
    const queue = await manager.get('/approvals?status=pending');
    expect(queue.body.items.map((t: any) => t.id)).toContain(r.body.id);
    const ok = await manager.post(`/approvals/${r.body.id}/approve`, { note: 'verified by phone' });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('posted');
    expect((await alice.get(`/accounts/${aliceBiz.id}`)).body).toMatchObject({ balance: '5000.00', availableBalance: '5000.00' });
  });

  it('runs an atomic batch all-or-nothing and reports the failing index', async () => {
    const before = (await alice.get(`/accounts/${aliceAcct.id}`)).body.balance;
    const r = await manager.post('/batch/transfers', {
      atomic: true,
      items: [
        { idempotencyKey: 'b1', fromAccountNumber: aliceAcct.number, toAccountNumber: bobAcct.number, amount: '1.00' },
        { idempotencyKey: 'b2', fromAccountNumber: aliceAcct.number, toAccountNumber: bobAcct.number, amount: '999999.00' },
      ],
    });
    expect(r.status).toBe(422);
    expect(r.body.error.details.index).toBe(1);
    expect((await alice.get(`/accounts/${aliceAcct.id}`)).body.balance).toBe(before);
  });

  it('counts each committed movement once in /metrics, replays not at all', async () => {
    const text = (await teller.get('/metrics')).text;
    const count = (labels: string) => Number(new RegExp(`^bank_ledger_transactions_total\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    // 1000.50, dep-1 (and its replay, not counted), 20000 into the business account.
    expect(count('kind="deposit",outcome="posted"')).toBe(3);
    expect(count('kind="transfer",outcome="pending_approval"')).toBe(1);
    expect(count('kind="transfer",outcome="approved"')).toBe(1);
    // Seven bad amounts reach the ledger; the number 12 is refused by the schema before it.
    expect(count('kind="deposit",outcome="invalid_amount"')).toBe(7);
  });
});
