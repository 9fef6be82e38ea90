import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { addAddress } from '../../bank/customers/customers.js';
import { SYSTEM } from '../../bank/core/context.js';
import { LOOKUPS_PER_MINUTE } from '../../bank/accounts/payees.js';
import { pdfText } from '../helpers/pdf.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let manager2: ApiClient;
let admin: ApiClient;
let owner: ApiClient;
let stranger: ApiClient;
let anon: ApiClient;
let customerId: number;
let ownerToken: string;
let strangerId: number;

const today = () => new Date().toISOString().slice(0, 10);
const daysFromNow = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  srv = await startTestServer({ env: { BANK_NAME: 'Test Bank of Pune' } });
  const { bank } = srv.running;
  await seedReference(bank.db);
  customerId = await createCustomer(bank.db, 'Holder');
  strangerId = await createCustomer(bank.db, 'Stranger');
  await addAddress(bank, SYSTEM, customerId, { line1: '7 Lake View Road', city: 'Pune', postalCode: '411001', country: 'IN' });
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  manager2 = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  admin = apiClient(srv.url, (await userWithSession(bank, 'admin')).token);
  ownerToken = (await userWithSession(bank, 'customer', { customerId })).token;
  owner = apiClient(srv.url, ownerToken);
  stranger = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: strangerId })).token);
  anon = apiClient(srv.url);
});
afterAll(() => srv?.close());

async function open(forCustomer = customerId, type = 'CUR', amount = '1000.00') {
  const a = (await teller.post('/accounts', { customerId: forCustomer, type, branch: 'MAIN' })).body;
  if (amount !== '0') expect((await teller.post('/deposits', { accountId: a.id, amount })).status).toBe(201);
  return a as { id: number; number: string };
}

describe('self-service freeze', () => {
  it('the owner freezes: debits are refused, money still comes in, and the owner lifts it', async () => {
    const a = await open();
    const other = await open(strangerId);
    const frozen = await owner.post(`/accounts/${a.id}/freeze`, { reason: 'lost my card' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ id: a.id, status: 'frozen', frozenBy: 'customer' });
    expect((await owner.get(`/accounts/${a.id}`)).body.frozenBy).toBe('customer');
    const out = await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: other.number, amount: '1.00' });
    expect([out.status, out.body.error.code]).toEqual([422, 'account_frozen']);
    expect((await teller.post('/withdrawals', { accountId: a.id, amount: '1.00' })).body.error.code).toBe('account_frozen');
    expect((await teller.post('/deposits', { accountId: a.id, amount: '5.00' })).status).toBe(201);
    expect((await stranger.post('/transfers', { fromAccountId: other.id, toAccountNumber: a.number, amount: '2.00' })).status).toBe(201);
    // Freezing again changes nothing.
    expect((await owner.post(`/accounts/${a.id}/freeze`, {})).body.frozenBy).toBe('customer');
    const lifted = await owner.post(`/accounts/${a.id}/unfreeze`, {});
    expect(lifted.body).toMatchObject({ status: 'active', frozenBy: null, balance: '1007.00' });
    expect((await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: other.number, amount: '1.00' })).status).toBe(201);
    const edits = (await teller.get(`/accounts/${a.id}/edits`)).body;
    expect(edits.map((e: any) => e.changes.frozen_by)).toEqual([
      [null, 'customer'],
      ['customer', null],
    ]);
    expect(edits[0].note).toBe('lost my card');
  });

  it('a bank freeze stops both directions and only staff lift it', async () => {
    const a = await open();
    expect((await owner.post(`/accounts/${a.id}/freeze`, {})).body.frozenBy).toBe('customer');
    // The bank takes over the customer's freeze.
    expect((await teller.post(`/accounts/${a.id}/freeze`, { reason: 'suspicious activity' })).body).toMatchObject({
      status: 'frozen',
      frozenBy: 'bank',
    });
    expect((await teller.post('/deposits', { accountId: a.id, amount: '5.00' })).body.error.code).toBe('account_frozen');
    const refused = await owner.post(`/accounts/${a.id}/unfreeze`, {});
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    expect((await owner.post(`/accounts/${a.id}/freeze`, {})).body.frozenBy).toBe('bank');
    expect((await teller.post(`/accounts/${a.id}/unfreeze`, {})).body).toMatchObject({ status: 'active', frozenBy: null });
    // The staff edit screen's freeze is the bank's too.
    expect((await teller.patch(`/accounts/${a.id}`, { status: 'frozen' })).body).toMatchObject({ status: 'frozen', frozenBy: 'bank' });
    expect((await owner.post(`/accounts/${a.id}/unfreeze`, {})).status).toBe(403);
    expect((await teller.patch(`/accounts/${a.id}`, { status: 'active' })).body.frozenBy).toBeNull();
  });

  it('refuses strangers, the signed out, bad bodies and closed accounts', async () => {
    const a = await open();
    expect((await stranger.post(`/accounts/${a.id}/freeze`, {})).status).toBe(404);
    expect((await anon.post(`/accounts/${a.id}/freeze`, {})).status).toBe(401);
    expect((await owner.post(`/accounts/${a.id}/freeze`, { reason: 7 })).status).toBe(400);
    expect((await owner.post(`/accounts/${a.id}/freeze`, { extra: true })).status).toBe(400);
    expect((await owner.post('/accounts/99999999/freeze', {})).status).toBe(404);
    const empty = await open(customerId, 'CUR', '0');
    expect((await manager.post(`/accounts/${empty.id}/close`, { reason: 'done' })).status).toBe(200);
    expect((await owner.post(`/accounts/${empty.id}/freeze`, {})).body.error.code).toBe('account_closed');
    expect((await owner.get(`/accounts/${a.id}`)).body.frozenBy).toBeNull();
  });
});

describe('confirmation of payee and payees', () => {
  it("looks up a number: the holder's masked name, 404 unless an active customer account", async () => {
    const a = await open(strangerId);
    const r = await owner.get(`/accounts/lookup?number=${a.number}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accountNumber: a.number, holderName: 'S. Test', currency: 'INR' });
    expect((await teller.get(`/accounts/lookup?number=${a.number}`)).body.holderName).toBe('S. Test');
    expect((await owner.get('/accounts/lookup?number=123456789012')).status).toBe(404);
    expect((await owner.get('/accounts/lookup?number=12345')).status).toBe(400);
    expect((await owner.get('/accounts/lookup')).status).toBe(400);
    expect((await anon.get(`/accounts/lookup?number=${a.number}`)).status).toBe(401);
    await teller.post(`/accounts/${a.id}/freeze`, {});
    expect((await owner.get(`/accounts/lookup?number=${a.number}`)).status).toBe(404);
  });

  it(`allows ${LOOKUPS_PER_MINUTE} look-ups a minute per user, then 429 with Retry-After`, async () => {
    const a = await open(strangerId);
    const { bank } = srv.running;
    const harvester = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId })).token);
    for (let i = 0; i < LOOKUPS_PER_MINUTE; i++) {
      const r = await harvester.get(`/accounts/lookup?number=${i % 2 ? a.number : '123456789012'}`);
      expect(r.status).toBe(i % 2 ? 200 : 404);
    }
    const limited = await harvester.get(`/accounts/lookup?number=${a.number}`);
    expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Saving a payee is a look-up too.
    expect((await harvester.post('/payees', { accountNumber: a.number, nickname: 'x' })).status).toBe(429);
    // Another user has their own minute.
    expect((await owner.get(`/accounts/lookup?number=${a.number}`)).status).toBe(200);
  });

  it("saves, lists and deletes payees; never another customer's", async () => {
    const a = await open(strangerId);
    const created = await owner.post('/payees', { accountNumber: a.number, nickname: '  Flat mate ' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      accountNumber: a.number,
      nickname: 'Flat mate',
      holderName: 'S. Test',
      createdAt: expect.any(String),
    });
    expect((await owner.post('/payees', { accountNumber: a.number, nickname: 'Again' })).status).toBe(409);
    expect((await owner.post('/payees', { accountNumber: '123456789012', nickname: 'Nobody' })).status).toBe(404);
    expect((await owner.post('/payees', { accountNumber: a.number, nickname: '' })).status).toBe(400);
    expect((await owner.post('/payees', { accountNumber: a.number })).status).toBe(400);
    expect((await teller.post('/payees', { accountNumber: a.number, nickname: 'Staff' })).status).toBe(403);
    expect((await owner.get('/payees')).body.items.map((p: any) => p.id)).toContain(created.body.id);
    expect((await stranger.get('/payees')).body).toEqual({ items: [], nextCursor: null });
    expect((await teller.get(`/payees?customerId=${customerId}`)).body.items.map((p: any) => p.id)).toContain(created.body.id);
    expect((await teller.get('/payees')).body.items).toEqual([]);
    expect((await stranger.del(`/payees/${created.body.id}`)).status).toBe(404);
    expect((await teller.del(`/payees/${created.body.id}`)).status).toBe(403);
    expect((await owner.del(`/payees/${created.body.id}`)).status).toBe(204);
    expect((await owner.del(`/payees/${created.body.id}`)).status).toBe(404);
    expect((await owner.get('/payees')).body.items.map((p: any) => p.id)).not.toContain(created.body.id);
    const audit = (await manager.get(`/audit?entity=payee&entityId=${created.body.id}`)).body.items.map((x: any) => x.action);
    expect(audit.sort()).toEqual(['payee.created', 'payee.deleted']);
  });
});

describe('balance alerts', () => {
  it('the owner adds, lists and removes alerts; bad input is refused', async () => {
    const a = await open();
    const r = await owner.post(`/accounts/${a.id}/alerts`, { kind: 'balance_below', threshold: '500.00' });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(Number),
      accountId: a.id,
      kind: 'balance_below',
      threshold: '500.00',
      active: true,
      lastTriggeredAt: null,
      createdAt: expect.any(String),
    });
    expect((await owner.post(`/accounts/${a.id}/alerts`, { kind: 'balance_sideways', threshold: '1' })).status).toBe(400);
    const bad = await owner.post(`/accounts/${a.id}/alerts`, { kind: 'debit_over', threshold: '1e3' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_amount']);
    expect((await owner.post(`/accounts/${a.id}/alerts`, { kind: 'debit_over', threshold: '0' })).body.error.code).toBe('invalid_amount');
    expect((await owner.post(`/accounts/${a.id}/alerts`, { kind: 'balance_below', threshold: '0' })).status).toBe(201);
    expect((await stranger.post(`/accounts/${a.id}/alerts`, { kind: 'debit_over', threshold: '1' })).status).toBe(404);
    expect((await teller.post(`/accounts/${a.id}/alerts`, { kind: 'debit_over', threshold: '1' })).status).toBe(403);
    expect((await teller.get(`/accounts/${a.id}/alerts`)).body.items).toHaveLength(2);
    const paged = (await owner.get(`/accounts/${a.id}/alerts?limit=1`)).body;
    expect([paged.items.length, typeof paged.nextCursor]).toEqual([1, 'string']);
    expect((await stranger.get(`/accounts/${a.id}/alerts`)).status).toBe(404);
    expect((await stranger.del(`/accounts/${a.id}/alerts/${r.body.id}`)).status).toBe(404);
    expect((await owner.del(`/accounts/${a.id}/alerts/${r.body.id}`)).status).toBe(204);
    expect((await owner.del(`/accounts/${a.id}/alerts/${r.body.id}`)).status).toBe(404);
    expect((await owner.get(`/accounts/${a.id}/alerts`)).body.items.map((x: any) => x.kind)).toEqual(['balance_below']);
    // The account counts its alerts: postings to accounts without any skip the look-up.
    expect(Number((await srv.running.bank.db('accounts').where({ id: a.id }).first('alert_count')).alert_count)).toBe(1);
  });

  it('a crossing sends the owner an alert notification and stamps the alert', async () => {
    const a = await open();
    const alert = (await owner.post(`/accounts/${a.id}/alerts`, { kind: 'balance_below', threshold: '500.00' })).body;
    const alerts = async () => (await owner.get('/notifications?limit=500')).body.items.filter((n: any) => n.kind === 'alert');
    const before = (await alerts()).length;
    await teller.post('/withdrawals', { accountId: a.id, amount: '400.00' }); // 1000 → 600: no crossing
    expect((await alerts()).length).toBe(before);
    await teller.post('/withdrawals', { accountId: a.id, amount: '200.00' }); // 600 → 400: crossing
    await teller.post('/withdrawals', { accountId: a.id, amount: '100.00' }); // still below: nothing
    const got = await alerts();
    expect(got.length).toBe(before + 1);
    expect(got[0]).toMatchObject({ title: 'Balance below your alert' });
    expect(got[0].body).toContain('₹500.00');
    expect((await owner.get(`/accounts/${a.id}/alerts`)).body.items[0].lastTriggeredAt).toEqual(expect.any(String));
    expect(alert.id).toBeGreaterThan(0);
  });
});

describe('standing orders', () => {
  it('creates, reads, edits and lists orders; refuses what a bank would', async () => {
    const a = await open();
    const b = await open(strangerId);
    const body = {
      fromAccountId: a.id,
      toAccountNumber: b.number,
      amount: '25.00',
      memo: 'Rent',
      frequency: 'monthly',
      startDate: daysFromNow(3),
      endDate: daysFromNow(200),
    };
    const r = await owner.post('/standing-orders', body);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      id: expect.any(Number),
      fromAccountId: a.id,
      toAccountNumber: b.number,
      amount: '25.00',
      memo: 'Rent',
      frequency: 'monthly',
      startDate: body.startDate,
      endDate: body.endDate,
      nextRunDate: body.startDate,
      status: 'active',
      lastRun: null,
      createdAt: expect.any(String),
    });
    const id = r.body.id;
    expect((await owner.post('/standing-orders', { ...body, startDate: daysFromNow(-1) })).body.error.details.fields).toEqual([
      'startDate',
    ]);
    expect((await owner.post('/standing-orders', { ...body, endDate: daysFromNow(1) })).status).toBe(400);
    expect((await owner.post('/standing-orders', { ...body, startDate: '2026-02-30' })).status).toBe(400);
    expect((await owner.post('/standing-orders', { ...body, frequency: 'hourly' })).status).toBe(400);
    expect((await owner.post('/standing-orders', { ...body, amount: '-1' })).body.error.code).toBe('invalid_amount');
    expect((await owner.post('/standing-orders', { ...body, toAccountNumber: a.number })).body.error.code).toBe('same_account');
    expect((await owner.post('/standing-orders', { ...body, toAccountNumber: '123456789012' })).status).toBe(404);
    expect((await stranger.post('/standing-orders', body)).status).toBe(404);
    expect((await teller.post('/standing-orders', { ...body, startDate: today() })).status).toBe(201);

    expect((await owner.get(`/standing-orders/${id}`)).body.id).toBe(id);
    expect((await stranger.get(`/standing-orders/${id}`)).status).toBe(404);
    expect((await owner.get(`/standing-orders?accountId=${a.id}`)).body.items.map((o: any) => o.id)).toContain(id);
    expect((await stranger.get('/standing-orders')).body.items.map((o: any) => o.id)).not.toContain(id);
    expect((await stranger.get(`/standing-orders?accountId=${a.id}`)).status).toBe(404);

    expect((await owner.patch(`/standing-orders/${id}`, { amount: '30.50' })).body.amount).toBe('30.50');
    expect((await owner.patch(`/standing-orders/${id}`, { status: 'paused' })).body.status).toBe('paused');
    expect((await owner.patch(`/standing-orders/${id}`, { status: 'active' })).body).toMatchObject({
      status: 'active',
      nextRunDate: body.startDate,
    });
    expect((await owner.patch(`/standing-orders/${id}`, { endDate: null })).body.endDate).toBeNull();
    expect((await owner.patch(`/standing-orders/${id}`, { status: 'completed' })).status).toBe(400);
    expect((await owner.patch(`/standing-orders/${id}`, { amount: '0' })).body.error.code).toBe('invalid_amount');
    expect((await stranger.patch(`/standing-orders/${id}`, { status: 'cancelled' })).status).toBe(404);
    expect((await owner.patch(`/standing-orders/${id}`, { status: 'cancelled' })).body).toMatchObject({
      status: 'cancelled',
      nextRunDate: null,
    });
    const again = await owner.patch(`/standing-orders/${id}`, { status: 'active' });
    expect([again.status, again.body.error.code]).toEqual([409, 'conflict']);
    expect((await owner.get(`/standing-orders/${id}/runs`)).body).toEqual({ items: [], nextCursor: null });
    expect((await owner.get('/standing-orders/abc')).status).toBe(404);
  });

  it('the job (run on demand) pays an order due today once, and the owner sees the run', async () => {
    const a = await open();
    const b = await open(strangerId);
    const order = (
      await owner.post('/standing-orders', {
        fromAccountId: a.id,
        toAccountNumber: b.number,
        amount: '10.00',
        frequency: 'weekly',
        startDate: today(),
      })
    ).body;
    const run = await admin.post('/jobs/standing-orders/run');
    expect(run.status).toBe(200);
    expect(run.body.result.posted).toBeGreaterThanOrEqual(1);
    expect((await admin.post('/jobs/standing-orders/run')).body.result).toMatchObject({ posted: 0, failed: 0 });
    const after = (await owner.get(`/standing-orders/${order.id}`)).body;
    expect(after).toMatchObject({
      nextRunDate: daysFromNow(7),
      lastRun: { date: today(), status: 'posted', transactionId: expect.any(Number), error: null },
    });
    const runs = (await owner.get(`/standing-orders/${order.id}/runs`)).body.items;
    expect(runs).toHaveLength(1);
    expect((await owner.get(`/transactions/${runs[0].transactionId}`)).body).toMatchObject({
      kind: 'transfer',
      amount: '10.00',
      toAccountNumber: b.number,
    });
    expect((await owner.get(`/accounts/${a.id}`)).body.balance).toBe('990.00');
  });
});

describe('reversals (maker-checker)', () => {
  it('a teller asks, funds are held, another manager approves: the opposite entries post', async () => {
    const a = await open(customerId, 'CUR', '300.00');
    const dep = (await teller.post('/deposits', { accountId: a.id, amount: '120.00' })).body;
    expect((await owner.post(`/transactions/${dep.id}/reverse`, { reason: 'x' })).status).toBe(403);
    expect((await teller.post(`/transactions/${dep.id}/reverse`, { reason: '' })).status).toBe(400);
    const r = await teller.post(`/transactions/${dep.id}/reverse`, { reason: 'Deposited to the wrong account' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      kind: 'reversal',
      status: 'pending_approval',
      amount: '120.00',
      reversalOf: dep.id,
      reversedBy: null,
      fromAccountNumber: a.number,
      toAccountNumber: null,
    });
    expect((await owner.get(`/accounts/${a.id}`)).body).toMatchObject({ balance: '420.00', availableBalance: '300.00' });
    const twice = await manager.post(`/transactions/${dep.id}/reverse`, { reason: 'again' });
    expect([twice.status, twice.body.error.code]).toEqual([422, 'already_reversed']);
    expect((await manager.get('/approvals?status=pending&limit=500')).body.items.map((x: any) => x.id)).toContain(r.body.id);
    const approved = await manager.post(`/approvals/${r.body.id}/approve`, { note: 'checked' });
    expect(approved.body).toMatchObject({ status: 'posted', kind: 'reversal', reversalOf: dep.id });
    expect((await owner.get(`/accounts/${a.id}`)).body).toMatchObject({ balance: '300.00', availableBalance: '300.00' });
    expect((await owner.get(`/transactions/${dep.id}`)).body.reversedBy).toBe(r.body.id);
    expect((await owner.get(`/transactions/${r.body.id}`)).body.reversalOf).toBe(dep.id);
    expect((await teller.post(`/transactions/${dep.id}/reverse`, { reason: 'third' })).body.error.code).toBe('already_reversed');
    const ofReversal = await teller.post(`/transactions/${r.body.id}/reverse`, { reason: 'undo' });
    expect([ofReversal.status, ofReversal.body.error.code]).toEqual([422, 'conflict']);
    const statement = (await owner.get(`/accounts/${a.id}/statement`)).body;
    expect(statement.entries.map((e: any) => [e.kind, e.amount])).toEqual([
      ['deposit', '300.00'],
      ['deposit', '120.00'],
      ['reversal', '-120.00'],
    ]);
    expect((await manager.get(`/audit?entity=transaction&entityId=${r.body.id}`)).body.items.map((x: any) => x.action).sort()).toEqual([
      'reversal.approved',
      'reversal.requested',
    ]);
    expect((await admin.get('/ledger/verify')).body.ok).toBe(true);
  });

  it('the maker cannot approve their own; a rejection releases the hold and allows a new request', async () => {
    const a = await open(customerId, 'CUR', '50.00');
    const b = await open(strangerId, 'CUR', '0');
    const tx = (await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: b.number, amount: '20.00' })).body;
    const r = (await manager.post(`/transactions/${tx.id}/reverse`, { reason: 'customer dispute' })).body;
    expect(r).toMatchObject({ fromAccountNumber: b.number, toAccountNumber: a.number });
    const own = await manager.post(`/approvals/${r.id}/approve`, {});
    expect([own.status, own.body.error.code]).toEqual([403, 'forbidden']);
    expect((await manager2.post(`/approvals/${r.id}/reject`, { note: 'no proof' })).body.status).toBe('rejected');
    expect((await stranger.get(`/accounts/${b.id}`)).body).toMatchObject({ balance: '20.00', availableBalance: '20.00' });
    const again = await teller.post(`/transactions/${tx.id}/reverse`, { reason: 'proof arrived' });
    expect(again.status).toBe(202);
    expect((await manager2.post(`/approvals/${again.body.id}/approve`, {})).body.status).toBe('posted');
    expect((await stranger.get(`/accounts/${b.id}`)).body.balance).toBe('0.00');
    expect((await owner.get(`/accounts/${a.id}`)).body.balance).toBe('50.00');
  });

  it('refuses transactions that are not posted, unknown ones, and reversals it cannot fund', async () => {
    const a = await open(customerId, 'BIZ', '20000.00');
    const b = await open(strangerId, 'BIZ', '0');
    const pending = (await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: b.number, amount: '15000.00' })).body;
    expect(pending.status).toBe('pending_approval');
    const r = await teller.post(`/transactions/${pending.id}/reverse`, { reason: 'no' });
    expect([r.status, r.body.error.code]).toEqual([422, 'conflict']);
    expect((await teller.post('/transactions/99999999/reverse', { reason: 'no' })).status).toBe(404);
    const paid = (await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: b.number, amount: '100.00' })).body;
    await stranger.post('/transfers', { fromAccountId: b.id, toAccountNumber: a.number, amount: '100.00' });
    const broke = await teller.post(`/transactions/${paid.id}/reverse`, { reason: 'spent already' });
    expect([broke.status, broke.body.error.code]).toEqual([422, 'insufficient_funds']);
  });
});

describe('PDF statements', () => {
  it('streams a PDF whose text has the bank, the customer, the period, balances and every entry', async () => {
    const a = await open(customerId, 'CUR', '1234567.50');
    await teller.post('/withdrawals', { accountId: a.id, amount: '0.50', memo: 'Cash at counter' });
    const res = await fetch(`${srv.url}/api/v1/accounts/${a.id}/statement?format=pdf&from=${today()}&to=${today()}`, {
      headers: { Authorization: `Bearer ${ownerToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain(`statement-${a.number}.pdf`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(bytes);
    for (const want of [
      'Test Bank of Pune',
      'Holder Test',
      '7 Lake View Road',
      'Pune 411001',
      a.number,
      `${today()} to ${today()}`,
      'Opening balance',
      '0.00 INR',
      'Closing balance',
      '1,234,567.00 INR',
      'Cash at counter',
      '1,234,567.50',
      '-0.50',
    ]) {
      expect(text, want).toContain(want);
    }
    expect((await stranger.get(`/accounts/${a.id}/statement?format=pdf`)).status).toBe(404);
    expect((await anon.get(`/accounts/${a.id}/statement?format=pdf`)).status).toBe(401);
    expect((await owner.get(`/accounts/${a.id}/statement?format=doc`)).status).toBe(400);
  });
});
