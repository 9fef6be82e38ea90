import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';

let srv: TestServer;
let customer: ApiClient;
let teller: ApiClient;
let manager: ApiClient;
let admin: ApiClient;
let managerId: number;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const audits = (action: string) => srv.running.bank.db('audit_log').where({ action }).orderBy('id');

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  await seedReference(bank.db);
  const custId = await createCustomer(bank.db, 'Carol');
  customer = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: custId })).token);
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  const m = await userWithSession(bank, 'manager');
  managerId = m.user.id;
  manager = apiClient(srv.url, m.token);
  admin = apiClient(srv.url, (await userWithSession(bank, 'admin')).token);
});
afterAll(() => srv?.close());

describe('branches', () => {
  it('lists for anyone signed in', async () => {
    for (const c of [customer, teller]) {
      const r = await c.get('/branches');
      expect(r.status).toBe(200);
      expect(r.body.nextCursor).toBeNull();
      expect(r.body.items).toEqual([
        {
          id: expect.any(Number),
          code: 'MAIN',
          name: 'Main branch',
          city: 'Mumbai',
          address: '1 Bank Street',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ]);
    }
    expect((await apiClient(srv.url).get('/branches')).status).toBe(401);
  });

  it('creates (manager+), refusing duplicates and bad codes, and edits', async () => {
    const r = await manager.post('/branches', { code: 'PUNE1', name: 'Pune Camp', city: 'Pune' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ code: 'PUNE1', name: 'Pune Camp', city: 'Pune', address: null });
    expect(await audits('branch.created')).toHaveLength(1);

    const dup = await admin.post('/branches', { code: 'PUNE1', name: 'Again', city: 'Pune' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');

    for (const code of ['p1', 'X', 'TOO-LONG', 'A'.repeat(17), '']) {
      const bad = await manager.post('/branches', { code, name: 'N', city: 'C' });
      expect(bad.status, code).toBe(400);
      expect(bad.body.error.details.fields).toEqual(['code']);
    }

    const edit = await manager.patch(`/branches/${r.body.id}`, { address: '4 Camp Road', name: 'Pune Camp Branch' });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ code: 'PUNE1', name: 'Pune Camp Branch', address: '4 Camp Road' });
    const [row] = await audits('branch.updated');
    expect(JSON.parse(row.before)).toMatchObject({ name: 'Pune Camp', address: null });
    expect(JSON.parse(row.after)).toMatchObject({ name: 'Pune Camp Branch', address: '4 Camp Road' });

    const codeChange = await manager.patch(`/branches/${r.body.id}`, { code: 'PUNE2' });
    expect(codeChange.status).toBe(400);
    expect(codeChange.body.error.details.fields).toEqual(['code']);
    expect((await manager.patch('/branches/99999', { name: 'Ghost' })).status).toBe(404);
  });

  it('refuses writes to customers and tellers with 403', async () => {
    const mainId = (await teller.get('/branches')).body.items[0].id;
    for (const c of [customer, teller]) {
      expect((await c.post('/branches', { code: 'NOPE', name: 'N', city: 'C' })).status).toBe(403);
      expect((await c.patch(`/branches/${mainId}`, { name: 'Hacked' })).status).toBe(403);
    }
    expect(await srv.running.bank.db('branches').where({ code: 'NOPE' }).first()).toBeUndefined();
    expect((await teller.get(`/branches/${mainId}`)).body.name).toBe('Main branch');
  });
});

describe('account types', () => {
  it('lists with amounts as decimal strings and the rate in force today', async () => {
    const r = await customer.get('/account-types');
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    const byCode = Object.fromEntries(r.body.items.map((t: { code: string }) => [t.code, t]));
    expect(byCode.SAV).toEqual({
      id: expect.any(Number),
      code: 'SAV',
      name: 'Savings',
      minBalance: '100.00',
      overdraftLimit: '0.00',
      approvalThreshold: '50000.00',
      currentRate: '3.50',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(byCode.CUR).toMatchObject({ overdraftLimit: '500.00', approvalThreshold: null, currentRate: '0.00' });
    expect(byCode.BIZ.currentRate).toBeNull();
  });

  it('creates (manager+) with parsed amounts; bad amounts are invalid_amount naming the field', async () => {
    const r = await manager.post('/account-types', {
      code: 'NRI',
      name: 'Non-resident savings',
      minBalance: '0',
      overdraftLimit: '250.5',
      approvalThreshold: null,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ code: 'NRI', minBalance: '0.00', overdraftLimit: '250.50', approvalThreshold: null, currentRate: null });
    const row = await srv.running.bank.db('account_types').where({ code: 'NRI' }).first();
    expect(Number(row.overdraft_limit)).toBe(25_050);
    expect(await audits('account_type.created')).toHaveLength(1);

    for (const [field, value] of [
      ['minBalance', '-1'],
      ['minBalance', '1e3'],
      ['overdraftLimit', '1.234'],
      ['overdraftLimit', 12],
      ['approvalThreshold', ''],
      ['approvalThreshold', '1,000'],
    ] as const) {
      const bad = await manager.post('/account-types', { code: 'BAD', name: 'Bad', minBalance: '0', overdraftLimit: '0', [field]: value });
      expect(bad.status, `${field}=${value}`).toBe(400);
      expect(bad.body.error.code, `${field}=${value}`).toBe('invalid_amount');
      expect(bad.body.error.details.fields).toEqual([field]);
    }
    expect(await srv.running.bank.db('account_types').where({ code: 'BAD' }).first()).toBeUndefined();

    const dup = await manager.post('/account-types', { code: 'NRI', name: 'Again', minBalance: '0', overdraftLimit: '0' });
    expect(dup.status).toBe(409);
    const badCode = await manager.post('/account-types', { code: 'nri2', name: 'x', minBalance: '0', overdraftLimit: '0' });
    expect(badCode.status).toBe(400);
    expect(badCode.body.error.details.fields).toEqual(['code']);
  });

  it('edits by code (manager+), keeping before and after; unknown code is 404', async () => {
    const r = await manager.patch('/account-types/NRI', { name: 'NRI savings', approvalThreshold: '20000' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 'NRI', name: 'NRI savings', approvalThreshold: '20000.00', overdraftLimit: '250.50' });
    const [row] = await audits('account_type.updated');
    expect(JSON.parse(row.before)).toMatchObject({ name: 'Non-resident savings', approvalThreshold: null });
    expect(JSON.parse(row.after)).toMatchObject({ name: 'NRI savings', approvalThreshold: '20000.00' });
    expect((await manager.patch('/account-types/NRI', { approvalThreshold: null })).body.approvalThreshold).toBeNull();
    expect((await manager.patch('/account-types/NOPE', { name: 'x' })).status).toBe(404);
    expect((await manager.patch('/account-types/not%20a%20code', { name: 'x' })).status).toBe(404);
    const bad = await manager.patch('/account-types/NRI', { minBalance: 'ten' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_amount');
    expect((await manager.patch('/account-types/NRI', { code: 'XYZ' })).status).toBe(400);
  });

  it('refuses writes to customers and tellers with 403', async () => {
    for (const c of [customer, teller]) {
      expect((await c.post('/account-types', { code: 'HACK', name: 'x', minBalance: '0', overdraftLimit: '0' })).status).toBe(403);
      expect((await c.patch('/account-types/SAV', { minBalance: '0' })).status).toBe(403);
    }
    expect((await teller.get('/account-types/SAV')).body.minBalance).toBe('100.00');
  });
});

describe('interest rates', () => {
  it('adds future rates (manager+) without touching past ones; the current rate follows the date', async () => {
    const tomorrow = day(1);
    const r = await manager.post('/interest-rates', { accountType: 'SAV', annualRate: '4.25', effectiveFrom: tomorrow });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(Number),
      accountType: 'SAV',
      annualRate: '4.25',
      effectiveFrom: tomorrow,
      createdAt: expect.any(String),
      createdBy: managerId,
    });
    expect(await audits('interest_rate.created')).toHaveLength(1);
    // Tomorrow's rate is not in force today.
    expect((await customer.get('/account-types/SAV')).body.currentRate).toBe('3.50');

    const today = await manager.post('/interest-rates', { accountType: 'SAV', annualRate: '3.75', effectiveFrom: day(0) });
    expect(today.status).toBe(201);
    expect((await customer.get('/account-types/SAV')).body.currentRate).toBe('3.75');

    const history = await customer.get('/interest-rates?accountType=SAV');
    expect(history.status).toBe(200);
    expect(history.body.nextCursor).toBeNull();
    expect(history.body.items.map((x: { annualRate: string; effectiveFrom: string }) => [x.effectiveFrom, x.annualRate])).toEqual([
      ['2020-01-01', '3.50'],
      [day(0), '3.75'],
      [tomorrow, '4.25'],
    ]);
    const all = await teller.get('/interest-rates');
    expect(all.body.items.map((x: { accountType: string }) => x.accountType)).toEqual(['CUR', 'SAV', 'SAV', 'SAV']);
  });

  it('never rewrites a rate: the same type and date again is 409, and the first one stays', async () => {
    const again = await manager.post('/interest-rates', { accountType: 'SAV', annualRate: '9.99', effectiveFrom: day(1) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const rows = await srv.running.bank.db('interest_rates').where({ account_type: 'SAV', effective_from: day(1) });
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].annual_rate_micro)).toBe(4_250_000);
  });

  it('refuses past dates, bad rates and unknown account types with 400', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ accountType: 'SAV', annualRate: '5.00', effectiveFrom: day(-1) }, 'effectiveFrom'],
      [{ accountType: 'SAV', annualRate: '5.00', effectiveFrom: '2026-02-30' }, 'effectiveFrom'],
      [{ accountType: 'SAV', annualRate: '-1', effectiveFrom: day(5) }, 'annualRate'],
      [{ accountType: 'SAV', annualRate: '1e2', effectiveFrom: day(5) }, 'annualRate'],
      [{ accountType: 'SAV', annualRate: '3.12345', effectiveFrom: day(5) }, 'annualRate'],
      [{ accountType: 'SAV', annualRate: 3.5, effectiveFrom: day(5) }, 'annualRate'],
      [{ accountType: 'SAV', annualRate: 'lots', effectiveFrom: day(5) }, 'annualRate'],
      [{ accountType: 'NOPE', annualRate: '1.00', effectiveFrom: day(5) }, 'accountType'],
      [{ accountType: 'SAV', annualRate: '1.00', effectiveFrom: day(5), note: 'x' }, 'note'],
    ];
    const before = await srv.running.bank.db('interest_rates').count({ n: '*' });
    for (const [body, field] of cases) {
      const r = await manager.post('/interest-rates', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe('invalid_request');
      expect(r.body.error.details.fields, JSON.stringify(body)).toEqual([field]);
    }
    expect(await srv.running.bank.db('interest_rates').count({ n: '*' })).toEqual(before);
    const unknownFilter = await teller.get('/interest-rates?accountType=NOPE');
    expect(unknownFilter.status).toBe(400);
    expect(unknownFilter.body.error.details.fields).toEqual(['accountType']);
  });

  it('refuses writes to customers and tellers with 403', async () => {
    for (const c of [customer, teller]) {
      const r = await c.post('/interest-rates', { accountType: 'CUR', annualRate: '1.00', effectiveFrom: day(3) });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect(
      await srv.running.bank
        .db('interest_rates')
        .where({ account_type: 'CUR', effective_from: day(3) })
        .first(),
    ).toBeUndefined();
  });
});

describe('no input produces a 5xx', () => {
  const NASTY: unknown[] = [
    '\u0000',
    'a\u0000b',
    '',
    ' ',
    'x'.repeat(5000),
    12,
    -1,
    1e308,
    true,
    null,
    [],
    {},
    '1e3',
    '-0',
    '9'.repeat(40),
    '%_\\',
    '2026-02-30',
  ];
  it('branches, account types and rates with nasty values in every field', async () => {
    const mainId = (await teller.get('/branches')).body.items[0].id;
    for (const v of NASTY) {
      for (const f of ['code', 'name', 'city', 'address']) {
        expect(
          (await manager.post('/branches', { code: 'FUZZ', name: 'n', city: 'c', [f]: v })).status,
          `branch ${f}=${JSON.stringify(v)}`,
        ).toBeLessThan(500);
        await srv.running.bank.db('branches').where({ code: 'FUZZ' }).delete();
        expect((await manager.patch(`/branches/${mainId}`, { [f]: v })).status, `branch patch ${f}`).toBeLessThan(500);
      }
      for (const f of ['code', 'name', 'minBalance', 'overdraftLimit', 'approvalThreshold']) {
        expect(
          (await manager.post('/account-types', { code: 'FUZZ', name: 'n', minBalance: '0', overdraftLimit: '0', [f]: v })).status,
          `type ${f}=${JSON.stringify(v)}`,
        ).toBeLessThan(500);
        await srv.running.bank.db('account_types').where({ code: 'FUZZ' }).delete();
        expect((await manager.patch('/account-types/CUR', { [f]: v })).status, `type patch ${f}`).toBeLessThan(500);
      }
      for (const f of ['accountType', 'annualRate', 'effectiveFrom']) {
        const r = await manager.post('/interest-rates', { accountType: 'BIZ', annualRate: '1.00', effectiveFrom: day(30), [f]: v });
        expect(r.status, `rate ${f}=${JSON.stringify(v)}`).toBeLessThan(500);
        await srv.running.bank.db('interest_rates').where({ account_type: 'BIZ' }).delete();
      }
      if (typeof v === 'string') {
        expect((await teller.get(`/interest-rates?accountType=${encodeURIComponent(v)}`)).status).toBeLessThan(500);
        expect((await teller.get(`/account-types/${encodeURIComponent(v)}`)).status).toBeLessThan(500);
      }
    }
  });
});
