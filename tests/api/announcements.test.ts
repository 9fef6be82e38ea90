import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type TestServer, type ApiClient } from '../helpers/server.js';
import { createCustomer, userWithSession } from '../helpers/fixtures.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let admin: ApiClient;
let alice: ApiClient;

const db = () => srv.running.bank.db;

async function eventsAfter(seq: number) {
  const rows = await db()('events').where('seq', '>', seq).orderBy('seq');
  const out = [];
  for (const r of rows) {
    const rooms = (await db()('event_rooms').where({ seq: r.seq }).select('room')).map((x) => x.room as string).sort();
    out.push({ type: r.type as string, rooms, data: JSON.parse(r.payload) });
  }
  return out;
}
async function lastSeq(): Promise<number> {
  const r = await db()('events').max({ m: 'seq' }).first();
  return Number(r?.m ?? 0);
}
const ids = (r: { body: { items: { id: number }[] } }) => r.body.items.map((a) => a.id);
const publish = (over: Record<string, unknown> = {}) =>
  manager.post('/announcements', { title: 'Maintenance', message: 'Sunday 2am-4am', audience: 'all', ...over });

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  const aliceId = await createCustomer(bank.db, 'Alice');
  teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  manager = apiClient(srv.url, (await userWithSession(bank, 'manager')).token);
  admin = apiClient(srv.url, (await userWithSession(bank, 'admin')).token);
  alice = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: aliceId })).token);
});
afterAll(() => srv?.close());

describe('announcements', () => {
  let forAll: any;
  let forCustomers: any;
  let forStaff: any;

  it('managers publish to an audience; each goes to its audience room', async () => {
    const seq = await lastSeq();
    const r = await publish();
    expect(r.status).toBe(201);
    forAll = r.body;
    expect(forAll).toMatchObject({ title: 'Maintenance', message: 'Sunday 2am-4am', audience: 'all', active: true, expiresAt: null });
    expect(forAll.publishedAt).toBe(forAll.createdAt);
    forCustomers = (await publish({ title: 'New card design', audience: 'customers', expiresAt: '2999-01-01T00:00:00Z' })).body;
    expect(forCustomers.expiresAt).toBe('2999-01-01T00:00:00.000Z');
    const byAdmin = await admin.post('/announcements', { title: 'Desk rota', message: 'See the wiki', audience: 'staff' });
    expect(byAdmin.status).toBe(201);
    forStaff = byAdmin.body;
    const ev = await eventsAfter(seq);
    expect(ev.map((e) => [e.type, e.rooms, e.data.announcement.id])).toEqual([
      ['announcement.published', ['all'], forAll.id],
      ['announcement.published', ['customers'], forCustomers.id],
      ['announcement.published', ['staff'], forStaff.id],
    ]);
    expect(
      Number((await db()('audit_log').where({ entity: 'announcement', action: 'announcement.published' }).count({ n: '*' }))[0].n),
    ).toBe(3);
  });

  it('only managers and admins write', async () => {
    const before = await db()('announcements').count({ n: '*' });
    for (const c of [teller, alice]) {
      expect((await c.post('/announcements', { title: 'x', message: 'y', audience: 'all' })).status).toBe(403);
      expect((await c.patch(`/announcements/${forAll.id}`, { title: 'Hacked' })).status).toBe(403);
      expect((await c.del(`/announcements/${forAll.id}`)).status).toBe(403);
    }
    expect(await db()('announcements').count({ n: '*' })).toEqual(before);
    expect((await db()('announcements').where({ id: forAll.id }).first()).title).toBe('Maintenance');
  });

  it('each audience sees what is meant for it, newest first', async () => {
    expect(ids(await alice.get('/announcements'))).toEqual([forCustomers.id, forAll.id]);
    expect(ids(await teller.get('/announcements'))).toEqual([forStaff.id, forAll.id]);
    expect(ids(await manager.get('/announcements'))).toEqual([forStaff.id, forAll.id]);
    const page1 = await alice.get('/announcements?limit=1');
    expect(ids(page1)).toEqual([forCustomers.id]);
    expect(ids(await alice.get(`/announcements?limit=1&cursor=${page1.body.nextCursor}`))).toEqual([forAll.id]);
  });

  it('hides expired and not yet published ones', async () => {
    const expired = await publish({ title: 'Old', publishedAt: '2020-01-01T00:00:00Z', expiresAt: '2020-02-01T00:00:00Z' });
    expect(expired.status).toBe(201);
    const scheduled = await publish({ title: 'Later', publishedAt: '2999-01-01T00:00:00Z' });
    expect(scheduled.status).toBe(201);
    for (const c of [alice, teller]) {
      const seen = ids(await c.get('/announcements'));
      expect(seen).not.toContain(expired.body.id);
      expect(seen).not.toContain(scheduled.body.id);
    }
    const everything = ids(await manager.get('/announcements?includeInactive=true&limit=500'));
    expect(everything).toEqual(expect.arrayContaining([expired.body.id, scheduled.body.id, forCustomers.id]));
    // Un-expiring brings it back.
    expect((await manager.patch(`/announcements/${expired.body.id}`, { expiresAt: null })).body.expiresAt).toBeNull();
    expect(ids(await alice.get('/announcements'))).toContain(expired.body.id);
  });

  it('editing the audience tells both the old and the new audience', async () => {
    const a = (await publish({ title: 'Branch hours', audience: 'customers' })).body;
    expect(ids(await alice.get('/announcements'))).toContain(a.id);
    const seq = await lastSeq();
    const r = await manager.patch(`/announcements/${a.id}`, { audience: 'staff', title: 'Branch hours (staff)' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: a.id, audience: 'staff', title: 'Branch hours (staff)', active: true });
    const ev = await eventsAfter(seq);
    expect(ev.map((e) => [e.type, e.rooms])).toEqual([['announcement.updated', ['customers', 'staff']]]);
    expect(ev[0].data.announcement).toMatchObject({ id: a.id, audience: 'staff' });
    expect(ids(await alice.get('/announcements'))).not.toContain(a.id);
    expect(ids(await teller.get('/announcements'))).toContain(a.id);
    const audited = await db()('audit_log')
      .where({ entity: 'announcement', entity_id: String(a.id), action: 'announcement.updated' })
      .first();
    expect(JSON.parse(audited.before).audience).toBe('customers');
    expect(JSON.parse(audited.after).audience).toBe('staff');
    // A patch that changes nothing records nothing.
    const seq2 = await lastSeq();
    expect((await manager.patch(`/announcements/${a.id}`, { audience: 'staff' })).status).toBe(200);
    expect(await eventsAfter(seq2)).toEqual([]);
  });

  it('withdrawing keeps the row and hides it', async () => {
    const a = (await publish({ title: 'Withdraw me', audience: 'customers' })).body;
    const seq = await lastSeq();
    const r = await manager.del(`/announcements/${a.id}`);
    expect(r.status).toBe(204);
    const row = await db()('announcements').where({ id: a.id }).first();
    expect(row).toBeTruthy();
    expect(!!row.active).toBe(false);
    expect(row.withdrawn_at).toBeTruthy();
    const ev = await eventsAfter(seq);
    expect(ev.map((e) => [e.type, e.rooms])).toEqual([['announcement.withdrawn', ['customers']]]);
    expect(ev[0].data.announcement).toMatchObject({ id: a.id, active: false });
    expect(
      await db()('audit_log')
        .where({ entity: 'announcement', entity_id: String(a.id), action: 'announcement.withdrawn' })
        .first(),
    ).toBeTruthy();
    expect(ids(await alice.get('/announcements'))).not.toContain(a.id);
    const inactive = (await manager.get('/announcements?includeInactive=true&limit=500')).body.items.find((x: any) => x.id === a.id);
    expect(inactive).toMatchObject({ active: false });
    // Withdrawing again changes nothing; an unknown id is not found.
    const seq2 = await lastSeq();
    expect((await manager.del(`/announcements/${a.id}`)).status).toBe(204);
    expect(await eventsAfter(seq2)).toEqual([]);
    expect((await manager.del('/announcements/999999')).status).toBe(404);
    expect((await manager.patch('/announcements/999999', { title: 'x' })).status).toBe(404);
    // active: true brings it back.
    expect((await manager.patch(`/announcements/${a.id}`, { active: true })).body).toMatchObject({ active: true, withdrawnAt: null });
    expect(ids(await alice.get('/announcements'))).toContain(a.id);
    const seq3 = await lastSeq();
    expect((await manager.patch(`/announcements/${a.id}`, { active: false })).body.active).toBe(false);
    expect((await eventsAfter(seq3)).map((e) => e.type)).toEqual(['announcement.withdrawn']);
  });

  it('only managers may list inactive ones', async () => {
    for (const c of [alice, teller]) expect((await c.get('/announcements?includeInactive=true')).status).toBe(403);
    expect((await manager.get('/announcements?includeInactive=false')).status).toBe(200);
    expect((await manager.get('/announcements?includeInactive=yes')).status).toBe(400);
  });

  it('refuses bad input', async () => {
    const before = await db()('announcements').count({ n: '*' });
    for (const bad of [
      { title: '' },
      { title: ' ' },
      { title: 'x'.repeat(201) },
      { message: '' },
      { message: 'x'.repeat(10_001) },
      { audience: 'everyone' },
      { audience: undefined },
      { expiresAt: 'tomorrow' },
      { publishedAt: 'soon' },
      { publishedAt: '2030-01-02T00:00:00Z', expiresAt: '2030-01-01T00:00:00Z' },
      { extra: true },
    ]) {
      const r = await publish(bad);
      expect(r.status, JSON.stringify(bad).slice(0, 60)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect(await db()('announcements').count({ n: '*' })).toEqual(before);
    expect((await manager.patch(`/announcements/${forAll.id}`, { expiresAt: '2000-01-01T00:00:00Z' })).status).toBe(400);
    expect((await manager.patch(`/announcements/${forAll.id}`, { active: 'no' })).status).toBe(400);
    expect((await manager.patch(`/announcements/${forAll.id}`, { publishedAt: '2000-01-01T00:00:00Z' })).status).toBe(400);
    expect((await db()('announcements').where({ id: forAll.id }).first()).expires_at).toBeNull();
  });
});
