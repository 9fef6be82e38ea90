import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankContext, SYSTEM } from '../../bank/core/context.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { deposit } from '../../bank/ledger/transactions.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let admin: ApiClient;
let adminId: number;
let manager: ApiClient;
let teller: ApiClient;
let customer: ApiClient;

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  await seedReference(bank.db);
  const a = await userWithSession(bank, 'admin');
  admin = apiClient(srv.url, a.token);
  adminId = a.user.id;
  manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  const custId = await createCustomer(bank.db, 'Ops');
  customer = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: custId })).token);
  const acct = (await teller.post('/accounts', { customerId: custId, type: 'SAV', branch: 'MAIN' })).body;
  await teller.post('/deposits', { accountId: acct.id, amount: '500.00' });
});
afterAll(() => srv?.close());

describe('POST /jobs/:name/run', () => {
  it('runs a job for an admin', async () => {
    const r = await admin.post('/jobs/interest-accrual/run');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'interest-accrual', ok: true, result: { failures: [] } });
    expect(r.body.result.through).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('refuses everyone else with 403, and unknown jobs with 404', async () => {
    for (const c of [teller, manager, customer]) {
      const r = await c.post('/jobs/interest-accrual/run');
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect((await apiClient(srv.url).post('/jobs/interest-accrual/run')).status).toBe(401);
    for (const name of ['nope', 'Interest-Accrual', '..%2F..', 'x'.repeat(300)]) {
      const r = await admin.post(`/jobs/${name}/run`);
      expect(r.status, name).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('lists the jobs', async () => {
    const r = await admin.get('/jobs');
    expect(r.status).toBe(200);
    expect(r.body.items.map((j: { name: string }) => j.name).sort()).toEqual([
      'balance-snapshot',
      'cleanup',
      'interest-accrual',
      'interest-posting',
      'mail',
      'standing-orders',
      'ticket-escalation',
    ]);
    expect((await teller.get('/jobs')).status).toBe(403);
  });

  it('counts runs in the metrics', async () => {
    const r = await apiClient(srv.url).get('/metrics');
    expect(r.text).toMatch(/bank_job_runs_total\{job_name="interest-accrual",outcome="success"\} 1/);
    expect(r.text).toMatch(/bank_job_duration_seconds_count\{job_name="interest-accrual"\} 1/);
  });
});

describe('GET /audit', () => {
  it('lists newest first, filters, and pages', async () => {
    const r = await manager.get('/audit?entity=job');
    expect(r.status).toBe(200);
    expect(r.body.items[0]).toMatchObject({
      actorId: adminId,
      action: 'job.run',
      entity: 'job',
      entityId: 'interest-accrual',
      after: { ok: true },
    });
    expect(r.body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);

    const all = (await manager.get('/audit?limit=500')).body.items;
    expect(all.length).toBeGreaterThan(3);
    const ids = all.map((x: { id: number }) => x.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const p1 = await manager.get('/audit?limit=2');
    expect(p1.body.items.map((x: { id: number }) => x.id)).toEqual(ids.slice(0, 2));
    const p2 = await manager.get(`/audit?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items.map((x: { id: number }) => x.id)).toEqual(ids.slice(2, 4));

    expect((await manager.get(`/audit?actorId=${adminId}`)).body.items.every((x: { actorId: number }) => x.actorId === adminId)).toBe(true);
    expect((await manager.get('/audit?from=2000-01-01&to=2000-01-02')).body).toEqual({ items: [], nextCursor: null });
  });

  it('refuses tellers and bad queries without a 5xx', async () => {
    expect((await teller.get('/audit')).status).toBe(403);
    for (const q of [
      'from=yesterday',
      'actorId=abc',
      'limit=0',
      'limit=501',
      'cursor=abc',
      'from=2026-02-02&to=2026-02-01',
      `entity=${'x'.repeat(100)}`,
    ]) {
      const r = await manager.get(`/audit?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
  });
});

describe('verification', () => {
  it('GET /audit/verify (admin)', async () => {
    const r = await admin.get('/audit/verify');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, firstBrokenId: null });
    expect(r.body.checked).toBeGreaterThan(0);
    expect((await manager.get('/audit/verify')).status).toBe(403);
  });

  it('GET /ledger/verify (admin)', async () => {
    const r = await admin.get('/ledger/verify');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, mismatches: [] });
    expect(r.body.transactions).toBeGreaterThan(0);
    expect(r.body.accounts).toBeGreaterThan(0);
    expect((await manager.get('/ledger/verify')).status).toBe(403);
  });
});

describe('a job that fails', () => {
  it('answers ok: false with the reason, after doing the work it could', async () => {
    const { db } = srv.running.bank;
    const now = new Date().toISOString();
    await db('account_types').insert({
      code: 'HUGE',
      name: 'Absurd saver',
      min_balance: 0,
      overdraft_limit: 0,
      approval_threshold: null,
      created_at: now,
      updated_at: now,
    });
    await db('interest_rates').insert({
      account_type: 'HUGE',
      annual_rate_micro: 999_999_999,
      effective_from: '2020-01-01',
      created_at: now,
    });
    const custId = await createCustomer(db, 'Rich');
    // Opened and funded two days ago, so yesterday has a closing balance.
    let at = new Date(Date.now() - 2 * 86_400_000);
    const past = createBankContext(db, { currency: 'INR', now: () => at });
    const acct = await openAccount(past, SYSTEM, { customerId: custId, type: 'HUGE', branch: 'MAIN' });
    await deposit(past, SYSTEM, { accountId: acct.id, amount: '999999999999.99' });
    at = new Date();
    const r = await admin.post('/jobs/interest-accrual/run');
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.result.error).toMatch(
      new RegExp(`interest accrual failed for 1 account\\(s\\): #${acct.id}: daily interest is too large`),
    );
    const audit = (await manager.get('/audit?entity=job')).body.items[0];
    expect(audit).toMatchObject({ action: 'job.run', entityId: 'interest-accrual', after: { ok: false } });
    expect((await apiClient(srv.url).get('/metrics')).text).toMatch(
      /bank_job_runs_total\{job_name="interest-accrual",outcome="failure"\} 1/,
    );
  });
});
