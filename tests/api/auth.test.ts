import { invalidateSessionsLocally } from '../../bank/sessions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiResponse, type TestServer } from '../helpers/server.js';
import { TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';
import { totpCode } from '../../bank/totp.js';
import { LoginRateLimiter } from '../../rest/login-limiter.js';
import { RateLimited } from '../../bank/errors.js';
import { DIALECTS } from '../helpers/db.js';

const UA = 'auth-test/1.0';

function sessionCookie(r: ApiResponse): string {
  const raw = r.headers.getSetCookie().find((c) => c.startsWith('bank_session='));
  expect(raw, 'a bank_session cookie').toBeTruthy();
  return raw!;
}
const cookiePair = (setCookie: string) => setCookie.split(';')[0];

describe.each(DIALECTS)('auth over HTTP (%s)', (dialect) => {
  let srv: TestServer;
  let anon: ReturnType<typeof apiClient>;
  const db = () => srv.running.bank.db;
  const newUser = async (role: 'teller' | 'manager' | 'admin' = 'teller') => (await userWithSession(srv.running.bank, role)).user;
  const login = (username: string, password = TEST_PASSWORD, otp?: string) =>
    anon.post('/auth/login', { username, password, ...(otp === undefined ? {} : { otp }) }, { 'User-Agent': UA });
  const events = async (userId: number | null, username?: string) =>
    (await db()('login_events').where(userId === null ? { user_id: null, username } : { user_id: userId }).orderBy('id')).map((e) => e.kind);

  beforeAll(async () => {
    srv = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15', LOGIN_RATE_PER_MINUTE: '100000', SESSION_IDLE_MINUTES: '30', SESSION_ABSOLUTE_HOURS: '12' } });
    anon = apiClient(srv.url);
  });
  afterAll(() => srv?.close());

  it('signs in: the token works as Bearer, the cookie works for reads and for writes with X-Requested-With', async () => {
    const u = await newUser();
    const r = await login(u.username);
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ id: u.id, username: u.username, role: 'teller', customerId: null, displayName: u.display_name });
    expect(typeof r.body.token).toBe('string');
    const ttl = Date.parse(r.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(11.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000);

    const setCookie = sessionCookie(r);
    expect(setCookie).toMatch(/httponly/i);
    expect(setCookie).toMatch(/samesite=strict/i);
    expect(cookiePair(setCookie)).toBe(`bank_session=${r.body.token}`);

    expect((await apiClient(srv.url, r.body.token).get('/auth/me')).body).toMatchObject({ id: u.id, username: u.username, totpEnabled: false });
    const byCookie = apiClient(srv.url);
    const cookie = { Cookie: cookiePair(setCookie) };
    const me = await byCookie.get('/auth/me', cookie);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(u.id);

    // A cookie-authenticated write without the CSRF header is refused and changes nothing.
    const forged = await byCookie.post('/auth/logout', {}, cookie);
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('forbidden');
    expect((await byCookie.get('/auth/me', cookie)).status).toBe(200);

    const out = await byCookie.post('/auth/logout', {}, { ...cookie, 'X-Requested-With': 'XMLHttpRequest' });
    expect(out.status).toBe(204);
    expect(sessionCookie(out)).toMatch(/expires=Thu, 01 Jan 1970/i);
    expect((await byCookie.get('/auth/me', cookie)).status).toBe(401);

    const rows = await db()('login_events').where({ user_id: u.id }).orderBy('id');
    expect(rows.map((e) => e.kind)).toEqual(['login', 'logout']);
    expect(rows[0]).toMatchObject({ username: u.username, user_agent: UA });
    expect(rows[0].ip).toMatch(/127\.0\.0\.1/);
  });

  it('accepts the username in any case', async () => {
    const u = await newUser();
    expect((await login(u.username.toUpperCase())).status).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike, and logs both as failures', async () => {
    const u = await newUser();
    const wrong = await login(u.username, 'not-the-password-1');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect((await db()('users').where({ id: u.id }).first()).failed_logins).toBe(1);
    expect(await events(u.id)).toEqual(['failed']);

    const unknown = await login('nobody-here', 'whatever-123');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toEqual(wrong.body.error);
    expect(await events(null, 'nobody-here')).toEqual(['failed']);
  });

  it('refuses an inactive user with invalid_credentials', async () => {
    const u = await newUser();
    await db()('users').where({ id: u.id }).update({ active: false });
    const r = await login(u.username);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_credentials');
    expect(await db()('sessions').where({ user_id: u.id }).count({ n: '*' }).first()).toMatchObject({ n: 1 }); // only the fixture's
  });

  it('locks after LOGIN_MAX_FAILURES failures, even against the right password, and unlocks when the lock ends', async () => {
    const u = await newUser();
    for (let i = 0; i < 2; i++) expect((await login(u.username, 'wrong-password-9')).status).toBe(401);
    const third = await login(u.username, 'wrong-password-9');
    expect(third.status).toBe(423);
    expect(third.body.error.code).toBe('account_locked');
    const locked = await db()('users').where({ id: u.id }).first();
    expect(Date.parse(locked.locked_until) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(third.body.error.details.lockedUntil).toBe(locked.locked_until);

    const right = await login(u.username);
    expect(right.status).toBe(423);
    expect(right.body.error.code).toBe('account_locked');
    expect(await events(u.id)).toEqual(['failed', 'failed', 'failed', 'locked', 'failed']);
    const auditRow = await db()('audit_log').where({ action: 'user.locked', entity_id: String(u.id) }).first();
    expect(auditRow).toBeTruthy();
    expect(await db()('notifications').where({ user_id: u.id, kind: 'security' }).first()).toBeTruthy();

    // The lock ends: the right password signs in and the counter is clear.
    await db()('users').where({ id: u.id }).update({ locked_until: new Date(Date.now() - 1000).toISOString(), failed_logins: 2 });
    expect((await login(u.username)).status).toBe(200);
    expect(await db()('users').where({ id: u.id }).first()).toMatchObject({ failed_logins: 0, locked_until: null });
  });

  it('counts concurrent failures in the database: they lock the account exactly once', async () => {
    const u = await newUser();
    const results = await Promise.all([1, 2, 3].map(() => login(u.username, 'wrong-password-9')));
    expect(results.map((r) => r.status).sort()).toEqual([401, 401, 423]);
    expect((await events(u.id)).sort()).toEqual(['failed', 'failed', 'failed', 'locked']);
    expect((await db()('users').where({ id: u.id }).first()).locked_until).toBeTruthy();
  });

  it('ends a session left idle, and one past its absolute expiry', async () => {
    const u = await newUser();
    const idle = await login(u.username);
    const absolute = await login(u.username);
    const tokenOf = (r: ApiResponse) => apiClient(srv.url, r.body.token);
    expect((await tokenOf(idle).get('/auth/me')).status).toBe(200);

    const sessions = await db()('sessions').where({ user_id: u.id }).orderBy('id', 'desc').limit(2);
    const [absId, idleId] = sessions.map((s) => s.id);
    await db()('sessions').where({ id: idleId }).update({ last_seen_at: new Date(Date.now() - 31 * 60_000).toISOString() });
    await db()('sessions').where({ id: absId }).update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    // The rows were aged behind the server's back; in life the session cache's lifetime
    // (SESSION_CACHE_MS, seconds) has long passed before a session idles out.
    invalidateSessionsLocally(srv.running.bank, { userIds: [u.id] });
    for (const r of [idle, absolute]) {
      const me = await tokenOf(r).get('/auth/me');
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('unauthenticated');
    }
  });

  it('logout revokes the session and records session.revoked for the hub', async () => {
    const u = await newUser();
    const r = await login(u.username);
    const c = apiClient(srv.url, r.body.token);
    expect((await c.post('/auth/logout')).status).toBe(204);
    const me = await c.get('/auth/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('unauthenticated');
    const s = await db()('sessions').where({ user_id: u.id }).orderBy('id', 'desc').first();
    expect(s).toMatchObject({ revoked_reason: 'logout' });
    expect(s.revoked_at).toBeTruthy();
    const ev = await db()('event_rooms').join('events', 'events.seq', 'event_rooms.seq').where({ room: `session:${s.id}`, type: 'session.revoked' }).first();
    expect(JSON.parse(ev.payload)).toMatchObject({ reason: 'logout' });
    expect((await c.post('/auth/logout')).status).toBe(401);
    const audited = await db()('audit_log').where({ entity: 'user', entity_id: String(u.id) }).whereIn('action', ['session.created', 'session.revoked']).orderBy('id');
    expect(audited.map((a) => [a.action, a.actor_id])).toEqual([['session.created', u.id], ['session.revoked', u.id]]);
  });

  it('changes the password: checks the current one, validates the new one, signs out the other sessions only', async () => {
    const u = await newUser();
    const a = apiClient(srv.url, (await login(u.username)).body.token);
    const b = apiClient(srv.url, (await login(u.username)).body.token);

    const wrong = await a.post('/auth/password', { currentPassword: 'not-it-123', newPassword: 'brand-new-pass-7' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const weak = await a.post('/auth/password', { currentPassword: TEST_PASSWORD, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'invalid_request', details: { fields: ['newPassword'] } });
    expect((await b.get('/auth/me')).status).toBe(200); // refusals revoked nothing

    expect((await a.post('/auth/password', { currentPassword: TEST_PASSWORD, newPassword: 'brand-new-pass-7' })).status).toBe(204);
    expect((await a.get('/auth/me')).status).toBe(200);
    expect((await b.get('/auth/me')).status).toBe(401);
    expect((await login(u.username)).status).toBe(401);
    expect((await login(u.username, 'brand-new-pass-7')).status).toBe(200);
    const row = await db()('audit_log').where({ action: 'user.password_changed', entity_id: String(u.id) }).first();
    expect(row.actor_id).toBe(u.id);
    expect(row.after).not.toMatch(/argon2/);
  });

  it('sets up TOTP, then sign-in asks for the code', async () => {
    const u = await newUser();
    const c = apiClient(srv.url, (await login(u.username)).body.token);
    const setup = await c.post('/auth/totp/setup');
    expect(setup.status).toBe(200);
    const { secret, otpauthUrl } = setup.body;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Banking%20Hub:/);
    expect(otpauthUrl).toContain(`secret=${secret}`);
    // Not enabled yet: password alone still signs in.
    expect((await login(u.username)).status).toBe(200);

    const bad = await c.post('/auth/totp/enable', { otp: await wrongCode(secret) });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_otp');
    expect((await c.post('/auth/totp/enable', { otp: 'abc' })).body.error.code).toBe('invalid_otp');
    expect((await c.post('/auth/totp/enable', { otp: await totpCode(secret) })).status).toBe(204);
    expect((await c.get('/auth/me')).body.totpEnabled).toBe(true);
    expect((await c.post('/auth/totp/setup')).status).toBe(409); // cannot swap the active secret

    const missing = await login(u.username);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('otp_required');
    expect((await db()('users').where({ id: u.id }).first()).failed_logins).toBe(0);

    const wrong = await login(u.username, TEST_PASSWORD, await wrongCode(secret));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_otp');
    expect((await db()('users').where({ id: u.id }).first()).failed_logins).toBe(1);

    // The right code with the wrong password is still just wrong credentials.
    expect((await login(u.username, 'wrong-password-9', await totpCode(secret))).body.error.code).toBe('invalid_credentials');

    const ok = await login(u.username, TEST_PASSWORD, await totpCode(secret));
    expect(ok.status).toBe(200);
    expect(ok.body.user.totpEnabled).toBe(true);
    expect((await db()('users').where({ id: u.id }).first()).failed_logins).toBe(0);
  });

  it('refuses malformed bodies with 400, never 5xx', async () => {
    for (const body of [{}, { username: 'x' }, { username: 1, password: 'y' }, { username: 'x', password: 'y', extra: 1 }, '{not json']) {
      const r = await anon.post('/auth/login', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect((await anon.post('/auth/login', { username: 'x'.repeat(150), password: 'y' })).status).toBe(401);
    expect((await anon.get('/auth/me')).status).toBe(401);
  });
});

describe('login rate limit per client address', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { LOGIN_RATE_PER_MINUTE: '5' } });
  });
  afterAll(() => srv?.close());

  it('answers 429 rate_limited with Retry-After once the minute\'s allowance is used', async () => {
    const anon = apiClient(srv.url);
    const u = (await userWithSession(srv.running.bank, 'teller')).user;
    for (let i = 0; i < 5; i++) expect((await anon.post('/auth/login', { username: `ghost${i}`, password: 'nope-nope-1' })).status).toBe(401);
    const r = await anon.post('/auth/login', { username: u.username, password: TEST_PASSWORD });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    const retry = Number(r.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Refused before any password check: nothing logged, no session.
    expect(await srv.running.bank.db('login_events').count({ n: '*' }).first()).toMatchObject({ n: 5 });
    expect(await srv.running.bank.db('sessions').where({ user_id: u.id }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });
});

describe('COOKIE_SECURE behind a TLS-terminating proxy', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { COOKIE_SECURE: '1' } });
  });
  afterAll(() => srv?.close());

  it('sets a Secure cookie even though the hop to us is plain HTTP, and clears it on logout', async () => {
    const u = (await userWithSession(srv.running.bank, 'teller')).user;
    const r = await apiClient(srv.url).post('/auth/login', { username: u.username, password: TEST_PASSWORD });
    expect(r.status).toBe(200);
    expect(sessionCookie(r)).toMatch(/; secure/i);
    const out = await apiClient(srv.url, r.body.token).post('/auth/logout');
    expect(out.status).toBe(204);
    expect(sessionCookie(out)).toMatch(/; secure/i);
  });
});

describe('LoginRateLimiter', () => {
  it('opens a new window after a minute and keeps its map bounded', () => {
    let now = 0;
    const l = new LoginRateLimiter(2, 3, () => now);
    l.hit('a');
    l.hit('a');
    expect(() => l.hit('a')).toThrow(RateLimited);
    now = 59_000;
    const refused = (() => {
      try {
        l.hit('a');
      } catch (e) {
        return e as RateLimited;
      }
    })();
    expect(refused?.retryAfterSeconds).toBe(1);
    now = 60_000;
    l.hit('a');
    for (const ip of ['b', 'c', 'd', 'e', 'f']) l.hit(ip);
    expect(l.size).toBeLessThanOrEqual(3);
  });
});

/** A well-formed code that is not valid now (nor a step either side). */
async function wrongCode(secret: string): Promise<string> {
  const now = Date.now();
  const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totpCode(secret, new Date(now + d)))));
  let n = 123456;
  while (valid.has(String(n))) n++;
  return String(n);
}
