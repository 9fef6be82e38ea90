import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type TestServer, type ApiClient } from '../helpers/server.js';
import { createCustomer, userWithSession } from '../helpers/fixtures.js';

let srv: TestServer;
let teller: ApiClient;
let manager: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceId: number;
let bobId: number;
let aliceUserId: number;
let tellerUserId: number;
let managerUserId: number;
let bobUserId: number;
let inactiveStaffId: number;

const db = () => srv.running.bank.db;

/** Outbox rows written after seq: type, rooms and payload of each event. */
async function eventsAfter(seq: number) {
  const rows = await db()('events').where('seq', '>', seq).orderBy('seq');
  const out = [];
  for (const r of rows) {
    const rooms = (await db()('event_rooms').where({ seq: r.seq }).select('room')).map((x) => x.room as string).sort();
    out.push({ seq: r.seq as number, type: r.type as string, rooms, data: JSON.parse(r.payload) });
  }
  return out;
}
async function lastSeq(): Promise<number> {
  const r = await db()('events').max({ m: 'seq' }).first();
  return Number(r?.m ?? 0);
}
async function ticketRow(id: number) {
  return db()('tickets').where({ id }).first();
}

const open = (c: ApiClient, over: Record<string, unknown> = {}) =>
  c.post('/tickets', { category: 'card', subject: 'Card blocked', body: 'My card was blocked abroad.', ...over });

beforeAll(async () => {
  srv = await startTestServer();
  const { bank } = srv.running;
  aliceId = await createCustomer(bank.db, 'Alice');
  bobId = await createCustomer(bank.db, 'Bob');
  const t = await userWithSession(bank, 'teller');
  const m = await userWithSession(bank, 'manager');
  const a = await userWithSession(bank, 'customer', { customerId: aliceId });
  const b = await userWithSession(bank, 'customer', { customerId: bobId });
  const gone = await userWithSession(bank, 'teller');
  await bank.db('users').where({ id: gone.user.id }).update({ active: false });
  teller = apiClient(srv.url, t.token);
  manager = apiClient(srv.url, m.token);
  alice = apiClient(srv.url, a.token);
  bob = apiClient(srv.url, b.token);
  tellerUserId = t.user.id;
  managerUserId = m.user.id;
  aliceUserId = a.user.id;
  bobUserId = b.user.id;
  inactiveStaffId = gone.user.id;
});
afterAll(() => srv?.close());

describe('ticket lifecycle', () => {
  it('customer opens, staff replies, resolves; customer reopens and closes', async () => {
    let seq = await lastSeq();
    const created = await open(alice, { priority: 'high' });
    expect(created.status).toBe(201);
    const ticket = created.body;
    expect(ticket).toMatchObject({
      customerId: aliceId,
      category: 'card',
      subject: 'Card blocked',
      status: 'open',
      priority: 'high',
      assigneeId: null,
      resolution: null,
      escalationLevel: 0,
    });
    expect(ticket.messages).toHaveLength(1);
    expect(ticket.messages[0]).toMatchObject({ authorId: aliceUserId, authorRole: 'customer', body: 'My card was blocked abroad.' });
    const room = `ticket:${ticket.id}`;
    const ownerRooms = [`customer:${aliceId}`, 'staff', room].sort();
    let ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.created']);
    // Staff, as the contract says; the owner's and the ticket's rooms too.
    expect(ev[0].rooms).toEqual(ownerRooms);
    expect(ev[0].data.ticket).toMatchObject({ id: ticket.id, status: 'open', messages: [{ authorRole: 'customer' }] });
    expect(
      await db()('audit_log')
        .where({ entity: 'ticket', entity_id: String(ticket.id), action: 'ticket.created' })
        .first(),
    ).toBeTruthy();

    // A staff reply moves an open ticket to in_progress and notifies the customer.
    seq = await lastSeq();
    const reply = await teller.post(`/tickets/${ticket.id}/messages`, { body: 'We are looking into it.' });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ authorId: tellerUserId, authorRole: 'teller', body: 'We are looking into it.' });
    expect(typeof reply.body.id).toBe('number');
    expect((await ticketRow(ticket.id)).status).toBe('in_progress');
    ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.message', 'ticket.updated', 'notification']);
    expect(ev[0].rooms).toEqual(ownerRooms);
    expect(ev[0].data).toEqual({ ticketId: ticket.id, message: reply.body });
    expect(ev[1].rooms).toEqual(ownerRooms);
    expect(ev[1].data.ticket).toMatchObject({ id: ticket.id, status: 'in_progress' });
    expect(ev[2].rooms).toEqual([`user:${aliceUserId}`]);
    expect(ev[2].data).toMatchObject({ kind: 'ticket_reply' });
    const note = await db()('notifications').where({ user_id: aliceUserId, kind: 'ticket_reply' }).first();
    expect(note.body).toContain('We are looking into it.');

    // A second staff reply keeps it in progress: no ticket.updated.
    seq = await lastSeq();
    expect((await manager.post(`/tickets/${ticket.id}/messages`, { body: 'Still on it.' })).status).toBe(201);
    expect((await eventsAfter(seq)).map((e) => e.type)).toEqual(['ticket.message', 'notification']);

    // Resolve with a resolution.
    seq = await lastSeq();
    const resolved = await teller.patch(`/tickets/${ticket.id}`, { status: 'resolved', resolution: 'Card unblocked.' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ id: ticket.id, status: 'resolved', resolution: 'Card unblocked.' });
    ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.updated', 'notification']);
    expect(ev[0].rooms).toEqual(ownerRooms);
    expect(ev[1].rooms).toEqual([`user:${aliceUserId}`]);
    expect(ev[1].data.kind).toBe('ticket_resolved');
    const audited = await db()('audit_log')
      .where({ entity: 'ticket', entity_id: String(ticket.id), action: 'ticket.updated' })
      .orderBy('id', 'desc')
      .first();
    expect(JSON.parse(audited.before).status).toBe('in_progress');
    expect(JSON.parse(audited.after).status).toBe('resolved');

    // The owner reopens it; staff resolve again reusing the stored resolution.
    seq = await lastSeq();
    const reopened = await alice.patch(`/tickets/${ticket.id}`, { status: 'open' });
    expect(reopened.status).toBe(200);
    expect(reopened.body.status).toBe('open');
    ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.updated']);
    expect(ev[0].rooms).toEqual(ownerRooms);
    expect((await teller.patch(`/tickets/${ticket.id}`, { status: 'resolved' })).body).toMatchObject({
      status: 'resolved',
      resolution: 'Card unblocked.',
    });

    // The owner closes it; nothing more can be said.
    const closed = await alice.patch(`/tickets/${ticket.id}`, { status: 'closed' });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    seq = await lastSeq();
    const late = await alice.post(`/tickets/${ticket.id}/messages`, { body: 'One more thing' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');
    expect((await teller.post(`/tickets/${ticket.id}/messages`, { body: 'Hello?' })).status).toBe(409);
    const reprioritise = await teller.patch(`/tickets/${ticket.id}`, { priority: 'low' });
    expect(reprioritise.status).toBe(409);
    expect(await eventsAfter(seq)).toEqual([]);
    // Closing again is a no-op.
    expect((await alice.patch(`/tickets/${ticket.id}`, { status: 'closed' })).status).toBe(200);

    const full = await alice.get(`/tickets/${ticket.id}`);
    expect(full.status).toBe(200);
    expect(full.body.messages.map((m: any) => m.body)).toEqual(['My card was blocked abroad.', 'We are looking into it.', 'Still on it.']);
    expect(full.body.messages.map((m: any) => m.authorRole)).toEqual(['customer', 'teller', 'manager']);
    const actions = (
      await db()('audit_log')
        .where({ entity: 'ticket', entity_id: String(ticket.id) })
        .orderBy('id')
    ).map((r) => r.action);
    expect(actions).toEqual([
      'ticket.created',
      'ticket.message',
      'ticket.message',
      'ticket.updated',
      'ticket.updated',
      'ticket.updated',
      'ticket.updated',
    ]);
  });

  it('a customer reply reopens a resolved ticket and notifies the assignee', async () => {
    const t = (await open(alice)).body;
    expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: managerUserId, status: 'resolved', resolution: 'Done' })).status).toBe(
      200,
    );
    const seq = await lastSeq();
    const r = await alice.post(`/tickets/${t.id}/messages`, { body: 'It is blocked again' });
    expect(r.status).toBe(201);
    expect(r.body.authorRole).toBe('customer');
    expect((await ticketRow(t.id)).status).toBe('open');
    const ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.message', 'ticket.updated', 'notification']);
    expect(ev[1].data.ticket).toMatchObject({ status: 'open', resolution: 'Done' });
    expect(ev[2].rooms).toEqual([`user:${managerUserId}`]);
    expect(ev[2].data.kind).toBe('ticket_customer_reply');
  });

  it('assigning notifies the assignee; null unassigns', async () => {
    const t = (await open(alice)).body;
    let seq = await lastSeq();
    const r = await teller.patch(`/tickets/${t.id}`, { assigneeId: managerUserId, priority: 'urgent' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ assigneeId: managerUserId, priority: 'urgent', status: 'open' });
    let ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.updated', 'notification']);
    expect(ev[1]).toMatchObject({ rooms: [`user:${managerUserId}`], data: { kind: 'ticket_assigned' } });
    // Taking a ticket oneself sends no notification.
    seq = await lastSeq();
    expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: tellerUserId })).body.assigneeId).toBe(tellerUserId);
    ev = await eventsAfter(seq);
    expect(ev.map((e) => e.type)).toEqual(['ticket.updated']);
    expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: null })).body.assigneeId).toBeNull();
    // A no-op patch records nothing.
    seq = await lastSeq();
    expect((await teller.patch(`/tickets/${t.id}`, { priority: 'urgent' })).status).toBe(200);
    expect(await eventsAfter(seq)).toEqual([]);
  });
});

describe('ticket rules', () => {
  let ticket: any;
  beforeAll(async () => {
    ticket = (await open(alice, { subject: 'Rules' })).body;
  });

  it('staff may not open tickets', async () => {
    const before = await db()('tickets').count({ n: '*' });
    for (const c of [teller, manager]) {
      const r = await open(c);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect(await db()('tickets').count({ n: '*' })).toEqual(before);
  });

  it('the owner may not assign, set priority, resolve or move to in_progress', async () => {
    const seq = await lastSeq();
    for (const change of [
      { priority: 'urgent' },
      { assigneeId: tellerUserId },
      { resolution: 'fixed' },
      { status: 'resolved', resolution: 'x' },
      { status: 'in_progress' },
      { status: 'closed', priority: 'low' },
    ]) {
      const r = await alice.patch(`/tickets/${ticket.id}`, change);
      expect(r.status, JSON.stringify(change)).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    // Reopening is only for resolved tickets.
    await teller.patch(`/tickets/${ticket.id}`, { status: 'in_progress' });
    expect((await alice.patch(`/tickets/${ticket.id}`, { status: 'open' })).status).toBe(403);
    const row = await ticketRow(ticket.id);
    expect(row).toMatchObject({ status: 'in_progress', priority: 'normal', assignee_id: null, resolution: null });
    expect((await eventsAfter(seq)).map((e) => e.type)).toEqual(['ticket.updated']);
  });

  it('another customer sees not found, everywhere', async () => {
    for (const r of [
      await bob.get(`/tickets/${ticket.id}`),
      await bob.post(`/tickets/${ticket.id}/messages`, { body: 'hi' }),
      await bob.patch(`/tickets/${ticket.id}`, { status: 'closed' }),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await ticketRow(ticket.id)).status).not.toBe('closed');
    expect(await db()('ticket_messages').where({ ticket_id: ticket.id, author_id: bobUserId }).first()).toBeUndefined();
    expect((await teller.get('/tickets/999999')).status).toBe(404);
    expect((await teller.get('/tickets/abc')).status).toBe(404);
  });

  it('resolving needs a resolution', async () => {
    const t = (await open(alice)).body;
    const r = await teller.patch(`/tickets/${t.id}`, { status: 'resolved' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect(r.body.error.details.fields).toContain('resolution');
    expect((await teller.patch(`/tickets/${t.id}`, { status: 'resolved', resolution: '   ' })).status).toBe(400);
    expect((await ticketRow(t.id)).status).toBe('open');
  });

  it('the assignee must be an active staff user', async () => {
    for (const assigneeId of [aliceUserId, inactiveStaffId, 987654]) {
      const r = await teller.patch(`/tickets/${ticket.id}`, { assigneeId });
      expect(r.status, String(assigneeId)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.details.fields).toEqual(['assigneeId']);
    }
    expect((await ticketRow(ticket.id)).assignee_id).toBeNull();
  });

  it('refuses blank, oversized and malformed bodies', async () => {
    const before = Number((await db()('tickets').count({ n: '*' }))[0].n);
    for (const bad of [
      { subject: '' },
      { subject: '   ' },
      { subject: 'x'.repeat(201) },
      { body: '' },
      { body: 'x'.repeat(10_001) },
      { category: 'loans' },
      { priority: 'meh' },
      { extra: 1 },
      { subject: 42 },
    ]) {
      const r = await open(alice, bad);
      expect(r.status, JSON.stringify(bad).slice(0, 60)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect(Number((await db()('tickets').count({ n: '*' }))[0].n)).toBe(before);
    expect((await open(alice, { subject: 'x'.repeat(200), body: 'y'.repeat(10_000) })).status).toBe(201);
    expect((await alice.post(`/tickets/${ticket.id}/messages`, { body: '  ' })).status).toBe(400);
    expect((await alice.post(`/tickets/${ticket.id}/messages`, { body: 'x'.repeat(10_001) })).status).toBe(400);
    expect((await teller.patch(`/tickets/${ticket.id}`, { status: 'pending' })).status).toBe(400);
    expect((await teller.patch(`/tickets/${ticket.id}`, { assigneeId: 'me' })).status).toBe(400);
    expect((await alice.post('/tickets', '{not json')).status).toBe(400);
  });
});

describe('ticket lists', () => {
  let bobTickets: any[];
  let aliceCount: number;
  beforeAll(async () => {
    bobTickets = [];
    for (const [i, priority] of (['low', 'normal', 'urgent'] as const).entries()) {
      bobTickets.push((await open(bob, { subject: `Bob ${i}`, priority, category: 'account' })).body);
    }
    await teller.patch(`/tickets/${bobTickets[2].id}`, { assigneeId: managerUserId });
    await teller.post(`/tickets/${bobTickets[1].id}/messages`, { body: 'On it' });
    aliceCount = Number((await db()('tickets').where({ customer_id: aliceId }).count({ n: '*' }))[0].n);
  });

  it('customers see only their own, newest first, without messages', async () => {
    const r = await bob.get('/tickets');
    expect(r.status).toBe(200);
    expect(r.body.items.map((t: any) => t.id)).toEqual(bobTickets.map((t) => t.id).reverse());
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.items[0].messages).toBeUndefined();
    const a = await alice.get('/tickets?limit=500');
    expect(a.body.items).toHaveLength(aliceCount);
    expect(a.body.items.every((t: any) => t.customerId === aliceId)).toBe(true);
    // Asking for someone else's tickets gives nothing.
    expect((await alice.get(`/tickets?customerId=${bobId}`)).body.items).toEqual([]);
  });

  it('staff filter by status, priority, assignee and customer', async () => {
    const ids = (r: any) => r.body.items.map((t: any) => t.id);
    expect(ids(await teller.get(`/tickets?customerId=${bobId}`))).toEqual(bobTickets.map((t) => t.id).reverse());
    expect(ids(await teller.get(`/tickets?customerId=${bobId}&priority=urgent`))).toEqual([bobTickets[2].id]);
    expect(ids(await teller.get(`/tickets?customerId=${bobId}&status=in_progress`))).toEqual([bobTickets[1].id]);
    expect(ids(await teller.get(`/tickets?customerId=${bobId}&assigneeId=${managerUserId}`))).toEqual([bobTickets[2].id]);
    const open = await teller.get('/tickets?status=open&limit=500');
    expect(open.body.items.length).toBeGreaterThan(0);
    expect(open.body.items.every((t: any) => t.status === 'open')).toBe(true);
    for (const bad of ['status=nope', 'priority=meh', 'assigneeId=x', 'limit=0', 'limit=501', 'cursor=abc']) {
      expect((await teller.get(`/tickets?${bad}`)).status, bad).toBe(400);
    }
  });

  it('pages with limit and cursor', async () => {
    const all = (await teller.get('/tickets?limit=500')).body.items.map((t: any) => t.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await teller.get(`/tickets?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((t: any) => t.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect([...all].sort((a, b) => b - a)).toEqual(all);
  });
});
