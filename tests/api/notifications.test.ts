import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type TestServer, type ApiClient } from '../helpers/server.js';
import { createCustomer, userWithSession } from '../helpers/fixtures.js';
import { notifyUsers } from '../../bank/notifications/send.js';
import { withTx } from '../../bank/core/db-tx.js';

let srv: TestServer;
let teller: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceUserId: number;
let tellerUserId: number;

const db = () => srv.running.bank.db;
async function lastSeq(): Promise<number> {
  const r = await db()('events').max({ m: 'seq' }).first();
  return Number(r?.m ?? 0);
}
const notify = (userId: number, title: string) =>
  withTx(srv.running.bank, (t) => notifyUsers(t, [userId], { kind: 'test', title, body: `${title} body` }));

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  const aliceId = await createCustomer(bank.db, 'Alice');
  const bobId = await createCustomer(bank.db, 'Bob');
  const t = await userWithSession(bank, 'teller');
  const a = await userWithSession(bank, 'customer', { customerId: aliceId });
  teller = apiClient(srv.url, t.token);
  alice = apiClient(srv.url, a.token);
  bob = apiClient(srv.url, (await userWithSession(bank, 'customer', { customerId: bobId })).token);
  tellerUserId = t.user.id;
  aliceUserId = a.user.id;
});
afterAll(() => srv?.close());

describe('notifications', () => {
  let replyNote: any;

  it("a staff reply on a ticket lands in the customer's notifications", async () => {
    const ticket = (await alice.post('/tickets', { category: 'general', subject: 'Hello', body: 'A question' })).body;
    expect((await teller.post(`/tickets/${ticket.id}/messages`, { body: 'An answer' })).status).toBe(201);
    const r = await alice.get('/notifications');
    expect(r.status).toBe(200);
    expect(r.body.unread).toBe(1);
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.items).toHaveLength(1);
    replyNote = r.body.items[0];
    expect(replyNote).toEqual({
      id: expect.any(Number),
      kind: 'ticket_reply',
      title: `New reply on ticket #${ticket.id}`,
      body: 'Hello: An answer',
      read: false,
      readAt: null,
      createdAt: expect.any(String),
    });
  });

  it('each user sees only their own; staff have notifications too', async () => {
    expect((await bob.get('/notifications')).body).toEqual({ items: [], nextCursor: null, unread: 0 });
    await notify(tellerUserId, 'For the teller');
    const r = await teller.get('/notifications');
    expect(r.body.items.map((n: any) => n.title)).toEqual(['For the teller']);
    expect(r.body.unread).toBe(1);
    expect((await alice.get('/notifications')).body.items.map((n: any) => n.id)).toEqual([replyNote.id]);
  });

  it("marks one read; someone else's is not found", async () => {
    const other = await bob.post(`/notifications/${replyNote.id}/read`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
    expect((await teller.post(`/notifications/${replyNote.id}/read`)).status).toBe(404);
    expect((await db()('notifications').where({ id: replyNote.id }).first()).read_at).toBeNull();

    const seq = await lastSeq();
    const r = await alice.post(`/notifications/${replyNote.id}/read`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const row = await db()('notifications').where({ id: replyNote.id }).first();
    expect(row.read_at).toBeTruthy();
    const events = await db()('events').where('seq', '>', seq);
    expect(events.map((e) => e.type)).toEqual(['notification.read']);
    expect((await db()('event_rooms').where({ seq: events[0].seq })).map((x) => x.room)).toEqual([`user:${aliceUserId}`]);
    const audited = await db()('audit_log').where({ entity: 'notification', entity_id: String(replyNote.id), action: 'notification.read' });
    expect(audited).toHaveLength(1);
    expect(audited[0].actor_id).toBe(aliceUserId);

    const list = await alice.get('/notifications');
    expect(list.body.unread).toBe(0);
    expect(list.body.items[0]).toMatchObject({ id: replyNote.id, read: true, readAt: row.read_at });

    // Marking again changes nothing.
    const seq2 = await lastSeq();
    expect((await alice.post(`/notifications/${replyNote.id}/read`)).status).toBe(204);
    expect(await lastSeq()).toBe(seq2);
    expect((await db()('notifications').where({ id: replyNote.id }).first()).read_at).toBe(row.read_at);
    expect(await db()('audit_log').where({ entity: 'notification', entity_id: String(replyNote.id) })).toHaveLength(1);
  });

  it('filters unread and pages newest first', async () => {
    for (const title of ['one', 'two', 'three']) await notify(aliceUserId, title);
    const unread = await alice.get('/notifications?unread=true');
    expect(unread.body.items.map((n: any) => n.title)).toEqual(['three', 'two', 'one']);
    expect(unread.body.unread).toBe(3);
    expect((await alice.get('/notifications?unread=false')).body.items).toHaveLength(4);
    const p1 = await alice.get('/notifications?limit=2');
    expect(p1.body.items.map((n: any) => n.title)).toEqual(['three', 'two']);
    expect(p1.body.unread).toBe(3);
    const p2 = await alice.get(`/notifications?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items.map((n: any) => n.title)).toEqual(['one', replyNote.title]);
    expect(p2.body.nextCursor).toBeNull();
  });

  it('refuses bad input and unknown ids', async () => {
    expect((await alice.get('/notifications?unread=maybe')).status).toBe(400);
    expect((await alice.get('/notifications?cursor=x')).status).toBe(400);
    expect((await alice.post('/notifications/999999/read')).status).toBe(404);
    expect((await alice.post('/notifications/abc/read')).status).toBe(404);
    expect((await apiClient(srv.url).get('/notifications')).status).toBe(401);
  });
});
