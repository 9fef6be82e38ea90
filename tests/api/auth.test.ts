import { invalidateSessionsLocally } from '../../bank/access/sessions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiResponse, type TestServer } from '../helpers/server.js';
import { TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';
import { totpCode } from '../../bank/access/totp.js';
import { createLoginLimiter } from '../../rest/login-limiter.js';
import { RateLimited } from '../../bank/core/errors.js';
import { lockMinutesFor } from '../../bank/access/auth.js';
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
  const login = (username: string, password = TEST_PASSWORD, otp?: string, ip = '203.0.113.1') =>
    anon.post('/auth/login', { username, password, ...(otp === undefined ? {} : { otp }) }, { 'User-Agent': UA, 'X-Forwarded-For': ip });
  const loginWith = (body: Record<string, unknown>, ip = '203.0.113.1') =>
    anon.post('/auth/login', body, { 'User-Agent': UA, 'X-Forwarded-For': ip });
  const events = async (userId: number | null, username?: string) =>
    (
      await db()('login_events')
        .where(userId === null ? { user_id: null, username } : { user_id: userId })
        .orderBy('id')
    ).map((e) => e.kind);

  /** A user with TOTP on (enabled with the code of the step before now, so the current code is free). */
  const totpUser = async () => {
    const u = await newUser();
    const client = apiClient(srv.url, (await login(u.username)).body.token);
    const { secret } = (await client.post('/auth/totp/setup')).body;
    expect((await client.post('/auth/totp/enable', { otp: await codeAt(secret, -30_000) })).status).toBe(204);
    return { u, secret, client };
  };

  beforeAll(async () => {
    srv = await startTestServer({
      dialect,
      env: {
        LOGIN_MAX_FAILURES: '3',
        LOGIN_LOCK_MINUTES: '15',
        LOGIN_RATE_PER_MINUTE: '100000',
        SESSION_IDLE_MINUTES: '30',
        SESSION_ABSOLUTE_HOURS: '12',
        TRUST_PROXY: '1',
      },
    });
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

    expect((await apiClient(srv.url, r.body.token).get('/auth/me')).body).toMatchObject({
      id: u.id,
      username: u.username,
      totpEnabled: false,
    });
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
    expect(rows[0]).toMatchObject({ username: u.username, user_agent: UA, ip: '203.0.113.1' });
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

  it('locks a username for one client address after LOGIN_MAX_FAILURES failures; other addresses still sign in', async () => {
    const u = await newUser();
    const A = '198.51.100.7';
    for (let i = 0; i < 2; i++) expect((await login(u.username, 'wrong-password-9', undefined, A)).status).toBe(401);
    const third = await login(u.username, 'wrong-password-9', undefined, A);
    expect(third.status).toBe(423);
    expect(third.body.error.code).toBe('account_locked');
    const lock = await db()('login_throttles').where({ username: u.username, ip: A }).first();
    expect(Date.parse(lock.locked_until) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(third.body.error.details.lockedUntil).toBe(lock.locked_until);

    // The right password from the locked address is refused too...
    const right = await login(u.username, TEST_PASSWORD, undefined, A);
    expect(right.status).toBe(423);
    expect(await events(u.id)).toEqual(['failed', 'failed', 'failed', 'locked', 'failed']);
    // ...but the user, elsewhere, is not locked out by whoever is guessing.
    expect((await login(u.username, TEST_PASSWORD, undefined, '192.0.2.44')).status).toBe(200);
    expect((await login(u.username, TEST_PASSWORD, undefined, A)).status).toBe(423);

    const auditRow = await db()('audit_log')
      .where({ action: 'user.locked', entity_id: String(u.id) })
      .first();
    expect(JSON.parse(auditRow.after)).toMatchObject({ address: A, minutes: 15 });
    expect(await db()('notifications').where({ user_id: u.id, kind: 'security' }).first()).toBeTruthy();

    // The lock ends; failing again locks for twice as long (a progressive delay).
    await db()('login_throttles')
      .where({ id: lock.id })
      .update({ locked_until: new Date(Date.now() - 1000).toISOString() });
    for (let i = 0; i < 2; i++) expect((await login(u.username, 'wrong-password-9', undefined, A)).status).toBe(401);
    const again = await login(u.username, 'wrong-password-9', undefined, A);
    expect(again.status).toBe(423);
    expect(Date.parse(again.body.error.details.lockedUntil) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect((await db()('login_throttles').where({ id: lock.id }).first()).locks).toBe(2);

    // When it ends, the right password signs in and the address starts afresh.
    await db()('login_throttles')
      .where({ id: lock.id })
      .update({ locked_until: new Date(Date.now() - 1000).toISOString() });
    expect((await login(u.username, TEST_PASSWORD, undefined, A)).status).toBe(200);
    expect(await db()('login_throttles').where({ id: lock.id }).first()).toBeUndefined();
  });

  it('answers an unknown username exactly as a known one, lock included, and logs every attempt', async () => {
    const u = await newUser();
    const ip = '198.51.100.9';
    const known: ApiResponse[] = [];
    const unknown: ApiResponse[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await login(u.username, 'wrong-password-9', undefined, ip));
      unknown.push(await login('no-such-user-here', 'wrong-password-9', undefined, ip));
    }
    expect(known.map((r) => r.status)).toEqual([401, 401, 423, 423]);
    expect(unknown.map((r) => r.status)).toEqual(known.map((r) => r.status));
    const shape = (r: ApiResponse) => ({
      code: r.body.error.code,
      message: r.body.error.message,
      details: Object.keys(r.body.error.details ?? {}),
    });
    expect(unknown.map(shape)).toEqual(known.map(shape));
    expect(await events(null, 'no-such-user-here')).toEqual(['failed', 'failed', 'failed', 'locked', 'failed']);
    expect(await events(u.id)).toEqual(['failed', 'failed', 'failed', 'locked', 'failed']);
  });

  it('makes each lock twice as long as the one before, up to a day', () => {
    const p = { lockMinutes: 15 };
    expect([1, 2, 3, 4, 7, 50].map((n) => lockMinutesFor(p, n))).toEqual([15, 30, 60, 120, 960, 1440]);
  });

  it('counts concurrent failures in the database: they lock the address exactly once', async () => {
    const u = await newUser();
    const results = await Promise.all([1, 2, 3].map(() => login(u.username, 'wrong-password-9', undefined, '198.51.100.10')));
    expect(results.map((r) => r.status).sort()).toEqual([401, 401, 423]);
    expect((await events(u.id)).sort()).toEqual(['failed', 'failed', 'failed', 'locked']);
    expect((await db()('login_throttles').where({ username: u.username }).first()).locked_until).toBeTruthy();
  });

  it('ends a session left idle, and one past its absolute expiry', async () => {
    const u = await newUser();
    const idle = await login(u.username);
    const absolute = await login(u.username);
    const tokenOf = (r: ApiResponse) => apiClient(srv.url, r.body.token);
    expect((await tokenOf(idle).get('/auth/me')).status).toBe(200);

    const sessions = await db()('sessions').where({ user_id: u.id }).orderBy('id', 'desc').limit(2);
    const [absId, idleId] = sessions.map((s) => s.id);
    await db()('sessions')
      .where({ id: idleId })
      .update({ last_seen_at: new Date(Date.now() - 31 * 60_000).toISOString() });
    await db()('sessions')
      .where({ id: absId })
      .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
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
    const ev = await db()('event_rooms')
      .join('events', 'events.seq', 'event_rooms.seq')
      .where({ room: `session:${s.id}`, type: 'session.revoked' })
      .first();
    expect(JSON.parse(ev.payload)).toMatchObject({ reason: 'logout' });
    expect((await c.post('/auth/logout')).status).toBe(401);
    const audited = await db()('audit_log')
      .where({ entity: 'user', entity_id: String(u.id) })
      .whereIn('action', ['session.created', 'session.revoked'])
      .orderBy('id');
    expect(audited.map((a) => [a.action, a.actor_id])).toEqual([
      ['session.created', u.id],
      ['session.revoked', u.id],
    ]);
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
    const row = await db()('audit_log')
      .where({ action: 'user.password_changed', entity_id: String(u.id) })
      .first();
    expect(row.actor_id).toBe(u.id);
    expect(row.after).not.toMatch(/argon2/);
  });

  it('sets up TOTP (secret sealed at rest), then sign-in asks for the code, and accepts each code once', async () => {
    const u = await newUser();
    const c = apiClient(srv.url, (await login(u.username)).body.token);
    const setup = await c.post('/auth/totp/setup');
    expect(setup.status).toBe(200);
    const { secret, otpauthUrl } = setup.body;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Banking%20Hub:/);
    expect(otpauthUrl).toContain(`secret=${secret}`);
    const stored = (await db()('users').where({ id: u.id }).first()).totp_secret as string;
    expect(stored).toMatch(/^v1:/);
    expect(stored).not.toContain(secret);
    // Not enabled yet: password alone still signs in.
    expect((await login(u.username)).status).toBe(200);

    const bad = await c.post('/auth/totp/enable', { otp: await wrongCode(secret) });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_otp');
    expect((await c.post('/auth/totp/enable', { otp: 'abc' })).body.error.code).toBe('invalid_otp');
    const enableCode = await codeAt(secret, -30_000);
    expect((await c.post('/auth/totp/enable', { otp: enableCode })).status).toBe(204);
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

    // The code that enabled TOTP does not sign in.
    expect((await login(u.username, TEST_PASSWORD, enableCode)).body.error.code).toBe('invalid_otp');
    // The right code with the wrong password is still just wrong credentials.
    const code = await codeAt(secret, 0);
    expect((await login(u.username, 'wrong-password-9', code, '203.0.113.99')).body.error.code).toBe('invalid_credentials');

    const ok = await login(u.username, TEST_PASSWORD, code);
    expect(ok.status).toBe(200);
    expect(ok.body.user.totpEnabled).toBe(true);
    expect((await db()('users').where({ id: u.id }).first()).failed_logins).toBe(0);
    // The same code again, still inside its 30 s window: refused.
    const replay = await login(u.username, TEST_PASSWORD, code);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_otp');
  });

  it('accepts one code once even when two sign-ins race with it', async () => {
    const { u, secret } = await totpUser();
    const code = await codeAt(secret, 0);
    const results = await Promise.all([1, 2, 3].map(() => login(u.username, TEST_PASSWORD, code, '198.51.100.20')));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('recovery codes: ten, each signs in once, new ones replace the old; TOTP can be turned off', async () => {
    const { u, secret, client: c } = await totpUser();
    expect((await c.post('/auth/totp/recovery-codes', { otp: await wrongCode(secret) })).body.error.code).toBe('invalid_otp');
    const made = await c.post('/auth/totp/recovery-codes', { otp: await codeAt(secret, 0) });
    expect(made.status).toBe(200);
    const codes: string[] = made.body.codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect((await db()('users').where({ id: u.id }).first()).totp_recovery_codes).not.toContain(codes[0]);

    const first = await loginWith({ username: u.username, password: TEST_PASSWORD, recoveryCode: codes[0] });
    expect(first.status).toBe(200);
    const again = await loginWith({ username: u.username, password: TEST_PASSWORD, recoveryCode: codes[0] });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('invalid_otp');
    // Typed loosely (capitals, no dash) it still counts.
    expect(
      (await loginWith({ username: u.username, password: TEST_PASSWORD, recoveryCode: codes[1].replace('-', '').toUpperCase() })).status,
    ).toBe(200);
    expect(await db()('notifications').where({ user_id: u.id, title: 'Recovery code used' }).count({ n: '*' }).first()).toMatchObject({
      n: 2,
    });

    // New codes replace the earlier ones (a later code from the app than any used so far).
    const renewed = await c.post('/auth/totp/recovery-codes', { otp: await codeAt(secret, 30_000) });
    expect(renewed.status).toBe(200);
    expect((await loginWith({ username: u.username, password: TEST_PASSWORD, recoveryCode: codes[2] })).body.error.code).toBe(
      'invalid_otp',
    );

    // Off: the password and a second factor (here a recovery code: the phone is lost).
    const fresh: string[] = renewed.body.codes;
    expect((await c.post('/auth/totp/disable', { password: 'wrong-password-9', recoveryCode: fresh[0] })).body.error.code).toBe(
      'invalid_credentials',
    );
    expect((await c.post('/auth/totp/disable', { password: TEST_PASSWORD })).status).toBe(400);
    expect((await c.post('/auth/totp/disable', { password: TEST_PASSWORD, otp: await wrongCode(secret) })).body.error.code).toBe(
      'invalid_otp',
    );
    expect((await c.post('/auth/totp/disable', { password: TEST_PASSWORD, recoveryCode: fresh[0] })).status).toBe(204);
    expect((await c.get('/auth/me')).body.totpEnabled).toBe(false);
    expect(await db()('users').where({ id: u.id }).first()).toMatchObject({ totp_secret: null, totp_recovery_codes: null });
    expect((await login(u.username)).status).toBe(200);
    expect((await c.post('/auth/totp/disable', { password: TEST_PASSWORD, otp: '123456' })).status).toBe(409);
    const actions = (await db()('audit_log')
      .where({ entity: 'user', entity_id: String(u.id) })
      .pluck('action')) as string[];
    expect(actions).toEqual(
      expect.arrayContaining(['user.totp_enabled', 'user.recovery_codes_created', 'user.recovery_code_used', 'user.totp_disabled']),
    );
  });

  it("lists your signed-in devices and signs one out; another user's session is not found", async () => {
    const u = await newUser();
    const phone = await login(u.username, TEST_PASSWORD, undefined, '192.0.2.10');
    const laptop = await login(u.username, TEST_PASSWORD, undefined, '192.0.2.11');
    const c = apiClient(srv.url, laptop.body.token);
    const list = await c.get('/auth/sessions');
    expect(list.status).toBe(200);
    const mine = list.body.filter((s: { ip: string }) => s.ip?.startsWith('192.0.2.'));
    expect(mine.map((s: { ip: string; current: boolean }) => [s.ip, s.current])).toEqual([
      ['192.0.2.11', true],
      ['192.0.2.10', false],
    ]);
    for (const s of list.body) expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'id', 'ip', 'lastSeenAt', 'userAgent']);
    expect(mine[0].userAgent).toBe(UA);

    const other = await newUser();
    const theirs = (await db()('sessions').where({ user_id: other.id }).first()).id;
    expect((await c.del(`/auth/sessions/${theirs}`)).status).toBe(404);
    expect((await c.del('/auth/sessions/abc')).status).toBe(404);

    expect((await c.del(`/auth/sessions/${mine[1].id}`)).status).toBe(204);
    expect((await apiClient(srv.url, phone.body.token).get('/auth/me')).status).toBe(401);
    const revoked = await db()('event_rooms')
      .join('events', 'events.seq', 'event_rooms.seq')
      .where({ room: `session:${mine[1].id}`, type: 'session.revoked' })
      .first();
    expect(revoked).toBeTruthy();
    expect((await c.get('/auth/sessions')).body.map((s: { id: number }) => s.id)).not.toContain(mine[1].id);
    expect((await c.del(`/auth/sessions/${mine[1].id}`)).status).toBe(404);
    // Signing this device out ends this session.
    expect((await c.del(`/auth/sessions/${mine[0].id}`)).status).toBe(204);
    expect((await c.get('/auth/me')).status).toBe(401);
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

  it("answers 429 rate_limited with Retry-After once the minute's allowance is used", async () => {
    const anon = apiClient(srv.url);
    const u = (await userWithSession(srv.running.bank, 'teller')).user;
    for (let i = 0; i < 5; i++)
      expect((await anon.post('/auth/login', { username: `ghost${i}`, password: 'nope-nope-1' })).status).toBe(401);
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

describe('login rate limit across processes (Redis)', () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('holds the limit over two servers sharing Redis', async () => {
    const prefix = `ratetest-${Math.random().toString(36).slice(2, 10)}`;
    const env = { LOGIN_RATE_PER_MINUTE: '4', REDIS_URL: 'redis://127.0.0.1:6379', HUB_REDIS_PREFIX: prefix };
    servers.push(await startTestServer({ env }), await startTestServer({ env }));
    const [a, b] = servers.map((s) => apiClient(s.url));
    const statuses: number[] = [];
    for (const api of [a, b, a, b, a, b])
      statuses.push((await api.post('/auth/login', { username: 'ghost', password: 'nope-nope-1' })).status);
    // Per process each would have allowed four; together they allow four.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
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

describe('the in-memory login limiter (one process, no Redis)', () => {
  it('refuses over the limit with a Retry-After within the minute, per address', async () => {
    const l = createLoginLimiter({ perMinute: 2, prefix: 'unit' });
    await l.hit('a');
    await l.hit('a');
    const refused = await l.hit('a').then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RateLimited);
    expect((refused as RateLimited).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as RateLimited).retryAfterSeconds).toBeLessThanOrEqual(60);
    await l.hit('b');
    await l.close();
  });
});

/** The code of the moment `offsetMs` from now (the server allows one step either way). */
const codeAt = (secret: string, offsetMs: number) => totpCode(secret, new Date(Date.now() + offsetMs));

/** A well-formed code that is not valid now (nor a step either side). */
async function wrongCode(secret: string): Promise<string> {
  const now = Date.now();
  const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totpCode(secret, new Date(now + d)))));
  let n = 123456;
  while (valid.has(String(n))) n++;
  return String(n);
}
