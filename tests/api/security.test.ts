import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../bank/accounts/operations.js';
import { deriveKey, open, seal } from '../../bank/core/secret-box.js';
import { loadConfig } from '../../config.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { createCustomer, openTestAccount, seedReference, TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

describe('hardening over HTTP (issue 9, items 3, 6, 7)', () => {
  let srv: TestServer;
  const bank = () => srv.running.bank;

  beforeAll(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN } });
    await seedReference(bank().db);
  });
  afterAll(() => srv?.close());

  it('defuses spreadsheet formulas in statement CSV: = + - @ tab and CR; plain signed amounts stay numbers', async () => {
    const cid = await createCustomer(bank().db);
    const owner = await userWithSession(bank(), 'customer', { customerId: cid });
    const teller = apiClient(srv.url, (await userWithSession(bank(), 'teller')).token);
    const a = await openTestAccount(bank(), cid, 'CUR');
    const b = await openTestAccount(bank(), await createCustomer(bank().db), 'CUR');
    await teller.post('/deposits', { accountId: a.id, amount: '100.00', memo: 'opening' });
    const memos = ["-1+1+cmd|' /C calc'!A0", '@SUM(1+1)*cmd|" /C calc"!A0', '\t=1+1', '\r=2+2', '=HYPERLINK("http://x")', '+1+1'];
    const api = apiClient(srv.url, owner.token);
    for (const memo of memos)
      expect((await api.post('/transfers', { fromAccountId: a.id, toAccountNumber: b.number, amount: '1.00', memo })).status).toBe(201);
    const csv = (await api.get(`/accounts/${a.id}/statement?format=csv`)).text;
    const cells = csv.split('\r\n').filter((l) => /^\d{4}-/.test(l));
    expect(cells).toHaveLength(7);
    // No cell of a data row starts with a formula character unless it is a plain number.
    for (const line of cells) {
      for (const cell of line.match(/("([^"]|"")*"|[^,]*)/g)!.filter(Boolean)) {
        const raw = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
        if (/^[=+\-@\t\r]/.test(raw)) expect(raw, line).toMatch(/^-?\d+(\.\d+)?$/);
      }
    }
    expect(csv).toContain(',-1.00,');
    expect(csv).toContain("'-1+1+cmd|' /C calc'!A0");
    expect(csv).toContain("'@SUM(1+1)");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell('\r=2+2')).toBe(`"'\r=2+2"`);
    expect(csvCell('-12.50')).toBe('-12.50');
    expect(csvCell('-1e5')).toBe("'-1e5");
  });

  it('/metrics needs the bearer METRICS_TOKEN when it is set', async () => {
    const anon = apiClient(srv.url);
    const none = await anon.get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.text).not.toContain('bank_http_request_duration_seconds');
    expect((await apiClient(srv.url, 'wrong-token-0123456789').get('/metrics')).status).toBe(401);
    // A signed-in user's session token is not the metrics token.
    expect((await apiClient(srv.url, (await userWithSession(bank(), 'admin')).token).get('/metrics')).status).toBe(401);
    const ok = await apiClient(srv.url, METRICS_TOKEN).get('/metrics');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('bank_http_request_duration_seconds');
  });

  it('CSP lets pages connect to their own origin only', async () => {
    const r = await fetch(`${srv.url}/healthz`);
    const csp = r.headers.get('content-security-policy')!;
    const connect = /connect-src ([^;]+)/.exec(csp)![1].trim();
    expect(connect).toBe("'self'");
  });

  it('refuses an empty or blank Idempotency-Key with 400 invalid_request and moves no money', async () => {
    const cid = await createCustomer(bank().db);
    const a = await openTestAccount(bank(), cid, 'CUR');
    const teller = apiClient(srv.url, (await userWithSession(bank(), 'teller')).token);
    for (const key of ['', '   ', '\t']) {
      const r = await teller.post('/deposits', { accountId: a.id, amount: '5.00' }, { 'Idempotency-Key': key });
      expect(r.status, JSON.stringify(key)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_request', details: { fields: ['Idempotency-Key'] } });
    }
    expect((await teller.get(`/accounts/${a.id}`)).body.balance).toBe('0.00');
    expect((await teller.post('/deposits', { accountId: a.id, amount: '5.00' })).status).toBe(201); // no header at all is fine
  });

  it('a customer changes their email only with their current password, and is told', async () => {
    const cid = await createCustomer(bank().db);
    const otherCid = await createCustomer(bank().db);
    const me = await userWithSession(bank(), 'customer', { customerId: cid });
    const api = apiClient(srv.url, me.token);
    const missing = await api.patch(`/customers/${cid}`, { email: 'new@example.com' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'invalid_request', details: { fields: ['currentPassword'] } });
    const wrong = await api.patch(`/customers/${cid}`, { email: 'new@example.com', currentPassword: 'not-my-password' });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_credentials']);
    expect((await api.get(`/customers/${cid}`)).body.email).not.toBe('new@example.com');
    // The phone needs no password; sending the unchanged email needs none either.
    const current = (await api.get(`/customers/${cid}`)).body.email;
    expect((await api.patch(`/customers/${cid}`, { phone: '+91 98888 77777', email: current })).status).toBe(200);

    const ok = await api.patch(`/customers/${cid}`, { email: 'new@example.com', currentPassword: TEST_PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.body.email).toBe('new@example.com');
    expect(await bank().db('notifications').where({ user_id: me.user.id, kind: 'security', title: 'Email changed' }).first()).toBeTruthy();
    // Duplicates are allowed (a household may share one address; see SECURITY.md).
    const otherEmail = (await bank().db('customers').where({ id: otherCid }).first()).email;
    expect((await api.patch(`/customers/${cid}`, { email: otherEmail, currentPassword: TEST_PASSWORD })).status).toBe(200);
    // Staff at the counter change it without a customer's password.
    const teller = apiClient(srv.url, (await userWithSession(bank(), 'teller')).token);
    expect((await teller.patch(`/customers/${cid}`, { email: 'counter@example.com' })).status).toBe(200);
  });
});

describe('TOTP secrets at rest', () => {
  it('seals with AES-256-GCM under a key derived from TOTP_ENCRYPTION_KEY; another key cannot open it', () => {
    const key = deriveKey('a-long-random-key-from-configuration-000');
    const sealed = seal(key, 'JBSWY3DPEHPK3PXP');
    expect(sealed).toMatch(/^v1:[\w-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(seal(key, 'JBSWY3DPEHPK3PXP')).not.toBe(sealed); // a fresh IV each time
    expect(open(key, sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => open(deriveKey('another-long-random-key-from-config-111'), sealed)).toThrow();
    expect(open(key, 'LEGACYPLAINSECRET')).toBe('LEGACYPLAINSECRET');
  });

  it('refuses a short TOTP_ENCRYPTION_KEY or METRICS_TOKEN at start', () => {
    expect(() => loadConfig({ TOTP_ENCRYPTION_KEY: 'short' })).toThrow(/TOTP_ENCRYPTION_KEY/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
