// A customer cancels her own transfer while it waits for a manager: the hold is released, the
// status is `cancelled`, and both the parties and the managers hear of it on the socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { connectClient, type HubClient } from '../helpers/hub.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceBiz: any;
let bobAcct: any;
const sockets: HubClient[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  await seedReference(bank.db);
  const aliceId = await createCustomer(bank.db, 'Alice');
  const bobId = await createCustomer(bank.db, 'Bob');
  const t = await userWithSession(bank, 'teller');
  const m = await userWithSession(bank, 'manager');
  const a = await userWithSession(bank, 'customer', { customerId: aliceId });
  const b = await userWithSession(bank, 'customer', { customerId: bobId });
  teller = apiClient(srv.url, t.token);
  manager = apiClient(srv.url, m.token);
  alice = apiClient(srv.url, a.token);
  bob = apiClient(srv.url, b.token);
  aliceBiz = (await teller.post('/accounts', { customerId: aliceId, type: 'BIZ', branch: 'MAIN' })).body;
  bobAcct = (await teller.post('/accounts', { customerId: bobId, type: 'SAV', branch: 'MAIN' })).body;
  await teller.post('/deposits', { accountId: aliceBiz.id, amount: '50000' });
  for (const token of [a.token, b.token, m.token]) sockets.push(await connectClient(srv.url, { token }));
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await srv?.close();
});

describe('cancelling a transfer that waits for approval', () => {
  it('releases the hold, shows it as pending on the account, and tells parties and managers live', async () => {
    const r = await alice.post('/transfers', { fromAccountId: aliceBiz.id, toAccountNumber: bobAcct.number, amount: '15000' });
    expect(r.status).toBe(202);
    expect((await alice.get(`/accounts/${aliceBiz.id}`)).body).toMatchObject({ balance: '50000.00', availableBalance: '35000.00' });
    const pending = (await alice.get(`/accounts/${aliceBiz.id}/pending`)).body.items;
    expect(pending).toEqual([expect.objectContaining({ id: r.body.id, direction: 'out', mine: true, amount: '15000.00' })]);
    expect((await bob.get(`/accounts/${bobAcct.id}/pending`)).body.items).toEqual([
      expect.objectContaining({ id: r.body.id, direction: 'in', mine: false }),
    ]);

    // The manager's queue says whose money it is and what is left on the account.
    const queued = (await manager.get('/approvals?status=pending')).body.items.find((x: any) => x.id === r.body.id);
    expect(queued.from).toMatchObject({
      customerName: expect.stringContaining('Alice'),
      number: aliceBiz.number,
      balance: '50000.00',
      availableBalance: '35000.00',
    });
    expect(queued.to).toMatchObject({ customerName: expect.stringContaining('Bob'), number: bobAcct.number });

    const c = await alice.post(`/transactions/${r.body.id}/cancel`, {});
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body).toMatchObject({ id: r.body.id, status: 'cancelled', postedAt: null });
    expect((await alice.get(`/accounts/${aliceBiz.id}`)).body).toMatchObject({ balance: '50000.00', availableBalance: '50000.00' });
    expect((await alice.get(`/accounts/${aliceBiz.id}/pending`)).body.items).toEqual([]);
    expect((await manager.get('/approvals?status=pending')).body.items.map((x: any) => x.id)).not.toContain(r.body.id);

    for (const s of sockets) {
      const got = await s.waitFor('transaction.cancelled', (d) => d.transaction?.id === r.body.id);
      expect(got.data.transaction.status).toBe('cancelled');
    }
    await sockets[0].waitFor('balance.updated', (d) => d.accountId === aliceBiz.id && d.availableBalance === '50000.00');
    const audit = (await manager.get(`/audit?entity=transaction&entityId=${r.body.id}`)).body.items;
    expect(audit.map((x: any) => x.action)).toContain('transfer.cancelled');
  });

  it('refuses anyone but the maker, and anything no longer pending, with 422 conflict', async () => {
    const r = await alice.post('/transfers', { fromAccountId: aliceBiz.id, toAccountNumber: bobAcct.number, amount: '12000' });
    expect(r.status).toBe(202);
    // The payee is a party but did not make it; the manager may see it but did not make it.
    for (const who of [bob, manager]) {
      const res = await who.post(`/transactions/${r.body.id}/cancel`, {});
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('conflict');
    }
    expect((await manager.post(`/approvals/${r.body.id}/reject`, { note: 'not today' })).status).toBe(200);
    const late = await alice.post(`/transactions/${r.body.id}/cancel`, {});
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('conflict');
    const posted = await alice.post('/transfers', { fromAccountId: aliceBiz.id, toAccountNumber: bobAcct.number, amount: '10' });
    expect((await alice.post(`/transactions/${posted.body.id}/cancel`, {})).status).toBe(422);
    expect((await alice.post('/transactions/99999999/cancel', {})).status).toBe(404);
    expect((await alice.get(`/accounts/${aliceBiz.id}`)).body.availableBalance).toBe('49990.00');
  });

  it('lists entries newest first and narrows them by kind, words and size', async () => {
    const all = (await alice.get(`/accounts/${aliceBiz.id}/entries?order=desc`)).body.items;
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all[0].id).toBeGreaterThan(all[1].id);
    const page1 = (await alice.get(`/accounts/${aliceBiz.id}/entries?order=desc&limit=1`)).body;
    const page2 = (await alice.get(`/accounts/${aliceBiz.id}/entries?order=desc&limit=1&cursor=${page1.nextCursor}`)).body;
    expect([page1.items[0].id, page2.items[0].id]).toEqual([all[0].id, all[1].id]);
    expect((await alice.get(`/accounts/${aliceBiz.id}/entries?kind=deposit`)).body.items.map((e: any) => e.kind)).toEqual(['deposit']);
    expect((await alice.get(`/accounts/${aliceBiz.id}/entries?minAmount=100`)).body.items.map((e: any) => e.amount)).toEqual(['50000.00']);
    expect((await alice.get(`/accounts/${aliceBiz.id}/entries?maxAmount=100`)).body.items.map((e: any) => e.amount)).toEqual(['-10.00']);
    expect((await alice.get(`/accounts/${aliceBiz.id}/entries?minAmount=abc`)).status).toBe(400);
  });
});
