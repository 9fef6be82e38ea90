import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { createCustomer, TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';
import { DIALECTS } from '../helpers/db.js';

describe.each(DIALECTS)('users administration (%s)', (dialect) => {
  let srv: TestServer;
  let admin: ApiClient;
  let adminId: number;
  let managerUser: { id: number; username: string };
  let manager: ApiClient;
  let teller: ApiClient;
  let customer: ApiClient;
  let customerId: number;
  const db = () => srv.running.bank.db;
  const anon = () => apiClient(srv.url);
  const loginAs = async (username: string, password = TEST_PASSWORD) => anon().post('/auth/login', { username, password });

  beforeAll(async () => {
    srv = await startTestServer({ dialect, env: { LOGIN_RATE_PER_MINUTE: '100000' } });
    const { bank } = srv.running;
    customerId = await createCustomer(bank.db, 'Carol');
    const a = await userWithSession(bank, 'admin', { username: 'root-admin' });
    adminId = a.user.id;
    admin = apiClient(srv.url, a.token);
    const m = await userWithSession(bank, 'manager');
    managerUser = m.user;
    manager = apiClient(srv.url, m.token);
    teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
    customer = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId })).token);
  });
  afterAll(() => srv?.close());

  it('creates logins; the new login can sign in', async () => {
    const r = await admin.post('/users', { username: 'Tina.Teller', password: 'tina-pass-123', role: 'teller', displayName: 'Tina' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      username: 'tina.teller',
      role: 'teller',
      customerId: null,
      displayName: 'Tina',
      active: true,
      totpEnabled: false,
    });
    expect(r.body).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(r.body)).not.toMatch(/argon2/);
    const li = await loginAs('tina.teller', 'tina-pass-123');
    expect(li.status).toBe(200);
    expect(li.body.user.id).toBe(r.body.id);
    const auditRow = await db()('audit_log')
      .where({ action: 'user.created', entity_id: String(r.body.id) })
      .first();
    expect(auditRow.actor_id).toBe(adminId);

    const cust = await admin.post('/users', {
      username: 'carol',
      password: 'carol-pass-123',
      role: 'customer',
      displayName: 'Carol',
      customerId,
    });
    expect(cust.status).toBe(201);
    expect(cust.body.customerId).toBe(customerId);
  });

  it('refuses duplicates, weak passwords, bad customer links and unknown fields', async () => {
    const base = { password: 'good-pass-123', role: 'teller', displayName: 'X' };
    const before = await db()('users').count({ n: '*' }).first();
    const dup = await admin.post('/users', { ...base, username: 'TINA.teller' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    const weak = await admin.post('/users', { ...base, username: 'weakling', password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('invalid_request');
    const noCustomer = await admin.post('/users', { ...base, username: 'lonely', role: 'customer' });
    expect(noCustomer.status).toBe(400);
    const ghostCustomer = await admin.post('/users', { ...base, username: 'ghosty', role: 'customer', customerId: 999999 });
    expect(ghostCustomer.status).toBe(404);
    expect(ghostCustomer.body.error.code).toBe('not_found');
    const staffWithCustomer = await admin.post('/users', { ...base, username: 'mixed', customerId });
    expect(staffWithCustomer.status).toBe(400);
    expect((await admin.post('/users', { ...base, username: 'bad name!' })).status).toBe(400);
    expect((await admin.post('/users', { ...base, username: 'extra', isRoot: true })).status).toBe(400);
    expect((await admin.post('/users', { ...base, username: 'badrole', role: 'system' })).status).toBe(400);
    expect(await db()('users').count({ n: '*' }).first()).toEqual(before);
  });

  it('settles a race for one username with one 201 and one 409', async () => {
    const body = { username: 'racer', password: 'racer-pass-123', role: 'teller', displayName: 'Racer' };
    const rs = await Promise.all([admin.post('/users', body), admin.post('/users', body)]);
    expect(rs.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(rs.find((r) => r.status === 409)!.body.error.code).toBe('conflict');
  });

  it('is for admins only (login history for managers and up)', async () => {
    for (const c of [manager, teller, customer]) {
      for (const r of [
        await c.get('/users'),
        await c.post('/users', { username: 'sneaky', password: 'sneaky-pass-1', role: 'admin', displayName: 'S' }),
        await c.patch(`/users/${adminId}`, { active: false }),
      ]) {
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('forbidden');
      }
    }
    expect((await manager.get('/login-events')).status).toBe(200);
    for (const c of [teller, customer]) expect((await c.get('/login-events')).status).toBe(403);
    expect((await anon().get('/users')).status).toBe(401);
    expect(await db()('users').where({ username: 'sneaky' }).first()).toBeUndefined();
    expect((await db()('users').where({ id: adminId }).first()).active).toBeTruthy();
  });

  it('lists with filters and cursor pagination', async () => {
    const all = await admin.get('/users?limit=500');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    const tellers = await admin.get('/users?role=teller');
    expect(tellers.body.items.length).toBeGreaterThanOrEqual(2);
    expect(tellers.body.items.every((u: any) => u.role === 'teller')).toBe(true);
    const q = await admin.get('/users?q=TINA');
    expect(q.body.items.map((u: any) => u.username)).toEqual(['tina.teller']);
    expect((await admin.get('/users?q=%25')).body.items).toEqual([]); // a literal %, not a wildcard

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const p: any = await admin.get(`/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...p.body.items.map((u: any) => u.id));
      cursor = p.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((u: any) => u.id));
    expect((await admin.get('/users?role=boss')).status).toBe(400);
    expect((await admin.get('/users?cursor=abc')).status).toBe(400);
  });

  it('a role change signs the user out everywhere; a name change does not', async () => {
    const target = await userWithSession(srv.running.bank, 'teller');
    const c = apiClient(srv.url, target.token);
    const renamed = await admin.patch(`/users/${target.user.id}`, { displayName: 'Renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.displayName).toBe('Renamed');
    expect((await c.get('/auth/me')).status).toBe(200);

    const promoted = await admin.patch(`/users/${target.user.id}`, { role: 'manager' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('manager');
    expect((await c.get('/auth/me')).status).toBe(401);
    expect(await db()('sessions').where({ id: target.sessionId }).first()).toMatchObject({ revoked_reason: 'role_changed' });
    const ev = await db()('event_rooms')
      .join('events', 'events.seq', 'event_rooms.seq')
      .where({ room: `session:${target.sessionId}`, type: 'session.revoked' })
      .first();
    expect(JSON.parse(ev.payload).reason).toBe('role_changed');
    const auditRow = await db()('audit_log')
      .where({ action: 'user.updated', entity_id: String(target.user.id) })
      .orderBy('id', 'desc')
      .first();
    expect(JSON.parse(auditRow.before).role).toBe('teller');
    expect(JSON.parse(auditRow.after).role).toBe('manager');

    const again = await loginAs(target.user.username);
    expect(again.body.user.role).toBe('manager');
  });

  it('deactivation signs the user out and stops sign-in; reactivation restores it', async () => {
    const target = await userWithSession(srv.running.bank, 'teller');
    expect((await admin.patch(`/users/${target.user.id}`, { active: false })).body.active).toBe(false);
    expect((await apiClient(srv.url, target.token).get('/auth/me')).status).toBe(401);
    expect(await db()('sessions').where({ id: target.sessionId }).first()).toMatchObject({ revoked_reason: 'deactivated' });
    const refused = await loginAs(target.user.username);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_credentials');
    expect((await admin.patch(`/users/${target.user.id}`, { active: true })).body.active).toBe(true);
    expect((await loginAs(target.user.username)).status).toBe(200);
  });

  it('refuses self-demotion, self-deactivation, customer/staff swaps and unknown users', async () => {
    for (const body of [{ role: 'manager' }, { active: false }]) {
      const r = await admin.patch(`/users/${adminId}`, body);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('conflict');
    }
    expect((await db()('users').where({ id: adminId }).first()).role).toBe('admin');
    expect((await admin.get('/auth/me')).status).toBe(200);
    expect((await admin.patch(`/users/${adminId}`, { displayName: 'Chief' })).body.displayName).toBe('Chief');

    const toCustomer = await admin.patch(`/users/${managerUser.id}`, { role: 'customer' });
    expect(toCustomer.status).toBe(400);
    expect((await manager.get('/login-events')).status).toBe(200); // untouched, still signed in
    expect((await admin.patch('/users/999999', { displayName: 'Nobody' })).status).toBe(404);
    expect((await admin.patch('/users/abc', { displayName: 'Nobody' })).status).toBe(404);
    expect((await admin.patch(`/users/${managerUser.id}`, { role: 'manager', extra: 1 })).status).toBe(400);
  });

  it('lists login events newest first, filtered by user', async () => {
    const u = (await userWithSession(srv.running.bank, 'teller')).user;
    await loginAs(u.username, 'wrong-pass-123');
    const ok = await loginAs(u.username);
    await apiClient(srv.url, ok.body.token).post('/auth/logout');

    const r = await manager.get(`/login-events?userId=${u.id}`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((e: any) => e.kind)).toEqual(['logout', 'login', 'failed']);
    expect(r.body.items[0]).toMatchObject({ userId: u.id, username: u.username, kind: 'logout' });
    expect(Object.keys(r.body.items[0]).sort()).toEqual(['at', 'id', 'ip', 'kind', 'userAgent', 'userId', 'username']);
    expect(r.body.items[0].id).toBeGreaterThan(r.body.items[1].id);
    expect(r.body.nextCursor).toBeNull();

    const first = await manager.get(`/login-events?userId=${u.id}&limit=2`);
    expect(first.body.items).toHaveLength(2);
    const rest = await manager.get(`/login-events?userId=${u.id}&limit=2&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((e: any) => e.kind)).toEqual(['failed']);
    expect((await manager.get(`/login-events?kind=failed&userId=${u.id}`)).body.items).toHaveLength(1);

    const everyone = await manager.get('/login-events?limit=500');
    expect(new Set(everyone.body.items.map((e: any) => e.userId)).size).toBeGreaterThan(1);
    expect((await manager.get('/login-events?userId=abc')).status).toBe(400);
  });
});
