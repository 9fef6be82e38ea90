import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { isValidAccountNumber } from '../../bank/accounts/account-numbers.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let owner: ApiClient;
let stranger: ApiClient;
let anon: ApiClient;
let customerId: number;

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  await seedReference(bank.db);
  await bank
    .db('branches')
    .insert({ code: 'WEST', name: 'West', city: 'Pune', created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
  customerId = await createCustomer(bank.db, 'Holder');
  const other = await createCustomer(bank.db, 'Stranger');
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  owner = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId })).token);
  stranger = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: other })).token);
  anon = apiClient(srv.url);
});
afterAll(() => srv?.close());

const open = async (type = 'CUR', currency?: string) =>
  (await teller.post('/accounts', { customerId, type, branch: 'MAIN', ...(currency ? { currency } : {}) })).body;

describe('accounts', () => {
  it('opens an account with a Luhn-checked number and refuses bad references', async () => {
    const r = await teller.post('/accounts', { customerId, type: 'SAV', branch: 'MAIN' });
    expect(r.status).toBe(201);
    expect(isValidAccountNumber(r.body.number)).toBe(true);
    expect(r.body).toMatchObject({
      customerId,
      type: 'SAV',
      branch: 'MAIN',
      currency: 'INR',
      balance: '0.00',
      availableBalance: '0.00',
      status: 'active',
      closedAt: null,
    });
    expect((await teller.post('/accounts', { customerId: 999999, type: 'SAV', branch: 'MAIN' })).body.error.code).toBe('not_found');
    const badType = await teller.post('/accounts', { customerId, type: 'NOPE', branch: 'MAIN' });
    expect([badType.status, badType.body.error.details.fields]).toEqual([400, ['type']]);
    expect((await teller.post('/accounts', { customerId, type: 'SAV', branch: 'MAIN', currency: 'inr' })).status).toBe(400);
    expect((await owner.post('/accounts', { customerId, type: 'SAV', branch: 'MAIN' })).status).toBe(403);
    expect((await anon.post('/accounts', { customerId, type: 'SAV', branch: 'MAIN' })).status).toBe(401);
  });

  it('lists a customer their own accounts and lets staff filter', async () => {
    const usd = await open('CUR', 'USD');
    const mine = await owner.get('/accounts?limit=500');
    expect(mine.body.items.every((a: any) => a.customerId === customerId)).toBe(true);
    expect(mine.body.items.map((a: any) => a.id)).toContain(usd.id);
    expect((await stranger.get('/accounts')).body.items.map((a: any) => a.id)).not.toContain(usd.id);
    const filtered = await teller.get(`/accounts?customerId=${customerId}&branch=MAIN&status=active&limit=1`);
    expect(filtered.body.items).toHaveLength(1);
    expect(filtered.body.nextCursor).toEqual(expect.any(String));
    const next = await teller.get(`/accounts?customerId=${customerId}&limit=1&cursor=${filtered.body.nextCursor}`);
    expect(next.body.items[0].id).toBeGreaterThan(filtered.body.items[0].id);
    expect((await teller.get('/accounts?status=sleeping')).status).toBe(400);
    expect((await teller.get('/accounts?limit=501')).status).toBe(400);
    expect((await stranger.get(`/accounts/${usd.id}`)).status).toBe(404);
    expect((await teller.get('/accounts/abc')).status).toBe(404);
  });

  it('freezes and unfreezes with every change kept', async () => {
    const a = await open();
    const frozen = await teller.patch(`/accounts/${a.id}`, { status: 'frozen', note: 'suspected fraud' });
    expect(frozen.body.status).toBe('frozen');
    expect((await teller.post('/deposits', { accountId: a.id, amount: '1' })).body.error.code).toBe('account_frozen');
    await teller.patch(`/accounts/${a.id}`, { status: 'active', branch: 'WEST', type: 'SAV' });
    const edits = (await teller.get(`/accounts/${a.id}/edits`)).body;
    expect(edits).toHaveLength(2);
    expect(edits[0]).toMatchObject({
      changes: { status: ['active', 'frozen'] },
      note: 'suspected fraud',
      by: expect.any(Number),
      at: expect.any(String),
    });
    expect(edits[1].changes).toEqual({ status: ['frozen', 'active'], branch: ['MAIN', 'WEST'], type: ['CUR', 'SAV'] });
    expect((await teller.patch(`/accounts/${a.id}`, { status: 'closed' })).status).toBe(400);
    expect((await teller.patch(`/accounts/${a.id}`, { branch: 'NOWHERE' })).status).toBe(400);
    expect((await owner.patch(`/accounts/${a.id}`, { status: 'frozen' })).status).toBe(403);
    expect((await owner.get(`/accounts/${a.id}/edits`)).status).toBe(403);
  });

  it('closes only at a zero balance, keeps the rows and archives a snapshot', async () => {
    const a = await open();
    await teller.post('/deposits', { accountId: a.id, amount: '25.50' });
    const refused = await manager.post(`/accounts/${a.id}/close`, { reason: 'moving abroad' });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'nonzero_balance']);
    expect((await teller.post(`/accounts/${a.id}/close`, { reason: 'x' })).status).toBe(403);
    await teller.post('/withdrawals', { accountId: a.id, amount: '25.50' });
    expect((await manager.post(`/accounts/${a.id}/close`, { reason: '  ' })).status).toBe(400);
    const closed = await manager.post(`/accounts/${a.id}/close`, { reason: 'moving abroad' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closedAt: expect.any(String), balance: '0.00' });
    expect((await manager.post(`/accounts/${a.id}/close`, { reason: 'again' })).body.error.code).toBe('account_closed');
    expect((await teller.patch(`/accounts/${a.id}`, { status: 'active' })).body.error.code).toBe('account_closed');
    const archive = (await manager.get('/closed-accounts')).body.items.find((r: any) => r.accountId === a.id);
    expect(archive).toMatchObject({
      accountNumber: a.number,
      reason: 'moving abroad',
      snapshot: { account: { status: 'closed' }, entries: 2 },
    });
    expect((await owner.get(`/accounts/${a.id}/entries`)).body.items).toHaveLength(2);
    expect((await teller.get('/closed-accounts')).status).toBe(403);
  });

  it('serves entries, statements (JSON and CSV) and daily balances', async () => {
    const a = await open();
    const b = await open();
    await teller.post('/deposits', { accountId: a.id, amount: '1000.00', memo: 'salary' });
    await owner.post('/transfers', { fromAccountId: a.id, toAccountNumber: b.number, amount: '250.25', memo: 'rent, "March"' });
    const entries = (await owner.get(`/accounts/${a.id}/entries`)).body.items;
    expect(entries.map((e: any) => [e.kind, e.amount, e.balanceAfter, e.counterparty])).toEqual([
      ['deposit', '1000.00', '1000.00', null],
      ['transfer', '-250.25', '749.75', b.number],
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const json = (await owner.get(`/accounts/${a.id}/statement?from=${today}&to=${today}`)).body;
    expect(json).toMatchObject({ openingBalance: '0.00', closingBalance: '749.75', totalCredits: '1000.00', totalDebits: '250.25' });
    expect(json.entries).toHaveLength(2);
    const later = (await owner.get(`/accounts/${a.id}/statement?from=2099-01-01`)).body;
    expect(later).toMatchObject({ openingBalance: '749.75', closingBalance: '749.75', entries: [] });
    const csv = await owner.get(`/accounts/${a.id}/statement?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain(a.number);
    expect(csv.text).toContain('opening_balance,0.00');
    expect(csv.text).toContain('"rent, ""March"""');
    expect(csv.text).toContain('closing_balance,749.75');
    const balances = (await owner.get(`/accounts/${a.id}/balances?from=${today}`)).body;
    expect(balances).toEqual([{ date: today, balance: '749.75' }]);
    expect((await owner.get(`/accounts/${a.id}/statement?format=xlsx`)).status).toBe(400);
    expect((await owner.get(`/accounts/${a.id}/entries?from=tomorrow`)).status).toBe(400);
    expect((await owner.get(`/accounts/${a.id}/entries?from=2026-02-01&to=2026-01-01`)).status).toBe(400);
    expect((await stranger.get(`/accounts/${a.id}/statement`)).status).toBe(404);
  });

  it('lets staff search transactions and parties read their own', async () => {
    const a = await open();
    const dep = (await teller.post('/deposits', { accountId: a.id, amount: '5.00' })).body;
    const list = (await teller.get(`/transactions?accountId=${a.id}&kind=deposit`)).body.items;
    expect(list.map((t: any) => t.id)).toEqual([dep.id]);
    expect((await teller.get(`/transactions?accountId=${a.id}&kind=transfer`)).body.items).toEqual([]);
    expect((await owner.get(`/transactions/${dep.id}`)).body).toEqual(dep);
    expect((await stranger.get(`/transactions/${dep.id}`)).status).toBe(404);
    expect((await owner.get('/transactions')).status).toBe(403);
    expect((await teller.get('/transactions?kind=gift')).status).toBe(400);
  });
});

describe('operations endpoints', () => {
  it('answers health, readiness, metrics and the API description', async () => {
    expect((await anon.get('/healthz')).body).toEqual({ ok: true });
    expect((await anon.get('/readyz')).body).toMatchObject({ ok: true, checks: { database: true } });
    expect((await anon.get('/metrics')).text).toMatch(/^bank_http_request_duration_seconds_count/m);
    const doc = (await anon.get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/transfers'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('toAccountNumber');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
    const docs = await anon.get('/api/docs');
    expect(docs.headers.get('content-type')).toMatch(/html/);
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await anon.get('/api/v1/nothing-here')).body.error.code).toBe('not_found');
  });

  it('refuses cross-origin browsers and oversized or malformed bodies with 4xx', async () => {
    const cors = await fetch(`${srv.url}/api/v1/auth/me`, { headers: { Origin: 'https://evil.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBeNull();
    const big = await teller.call('POST', '/deposits', JSON.stringify({ accountId: 1, amount: '1', memo: 'x'.repeat(7_000_000) }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('invalid_request');
    const broken = await teller.call('POST', '/deposits', '{"accountId": 1,');
    expect([broken.status, broken.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('answers listed origins with CORS headers (CORS_ORIGINS), and only them', async () => {
    const open = await startTestServer({ env: { CORS_ORIGINS: 'https://app.example' } });
    try {
      const pre = await fetch(`${open.url}/api/v1/transfers`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'idempotency-key,content-type',
        },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/i);
      const other = await fetch(`${open.url}/api/v1/auth/me`, { headers: { Origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await open.close();
    }
  });
});
