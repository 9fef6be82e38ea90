import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, userWithSession } from '../helpers/fixtures.js';
import { connectClient, until, type HubClient } from '../helpers/hub.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

// The support desk over the real server: assignment by name, internal notes that never
// reach the owner by any path, canned replies and their permissions, SLA fields, and the
// breach flag pushed live to staff only.

let srv: TestServer;
let teller: ApiClient;
let teller2: ApiClient;
let manager: ApiClient;
let erin: ApiClient;
let erinToken: string;
let tellerToken: string;
let tellerId: number;
let teller2Id: number;
let erinCustomerId: number;
let erinUserId: number;
const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-desk-mail-'));

const db = () => srv.running.bank.db;
const NOTE = 'INTERNAL-NOTE: her card was flagged by fraud ops, do not tell her yet';

const open = (over: Record<string, unknown> = {}) =>
  erin.post('/tickets', { category: 'card', subject: 'Card declined', body: 'My card is declined at shops.', ...over });

beforeAll(async () => {
  srv = await startTestServer({ env: { MAIL_DIR: mailDir } });
  const { bank } = srv.running;
  erinCustomerId = await createCustomer(bank.db, 'Erin');
  const t = await userWithSession(bank, 'teller');
  const t2 = await userWithSession(bank, 'teller');
  const m = await userWithSession(bank, 'manager');
  const e = await userWithSession(bank, 'customer', { customerId: erinCustomerId });
  await bank.db('users').where({ id: t.user.id }).update({ display_name: 'Tara Iyer' });
  await bank.db('users').where({ id: t2.user.id }).update({ display_name: 'Tomas Roy' });
  teller = apiClient(srv.url, t.token);
  teller2 = apiClient(srv.url, t2.token);
  manager = apiClient(srv.url, m.token);
  erin = apiClient(srv.url, e.token);
  erinToken = e.token;
  tellerToken = t.token;
  tellerId = t.user.id;
  teller2Id = t2.user.id;
  erinUserId = e.user.id;
}, 60_000);
afterAll(async () => {
  await srv?.close();
  fs.rmSync(mailDir, { recursive: true, force: true });
});

describe('service-level fields', () => {
  it('every ticket carries its due times; the first staff reply stops the first-response clock, a note does not', async () => {
    const created = (await open({ priority: 'urgent' })).body;
    expect(created.firstRespondedAt).toBeNull();
    expect(created.breached).toBe(false);
    expect(Date.parse(created.firstResponseDueAt) - Date.parse(created.createdAt)).toBe(15 * 60_000);
    expect(Date.parse(created.resolutionDueAt) - Date.parse(created.createdAt)).toBe(4 * 3600_000);

    expect((await teller.post(`/tickets/${created.id}/messages`, { body: 'Looking into it', internal: true })).status).toBe(201);
    expect((await teller.get(`/tickets/${created.id}`)).body.firstRespondedAt).toBeNull();
    // Erin writing again does not count either.
    await erin.post(`/tickets/${created.id}/messages`, { body: 'Still declined' });
    expect((await teller.get(`/tickets/${created.id}`)).body.firstRespondedAt).toBeNull();

    const reply = await teller.post(`/tickets/${created.id}/messages`, { body: 'Hello Erin, we are on it.' });
    const after = (await teller.get(`/tickets/${created.id}`)).body;
    expect(after.firstRespondedAt).toBe(reply.body.at);
    await teller2.post(`/tickets/${created.id}/messages`, { body: 'A second reply' });
    expect((await teller.get(`/tickets/${created.id}`)).body.firstRespondedAt).toBe(reply.body.at);
  });

  it('a new priority brings its own targets, counted from when the ticket was opened', async () => {
    const t = (await open({ priority: 'low' })).body;
    expect(Date.parse(t.firstResponseDueAt) - Date.parse(t.createdAt)).toBe(24 * 3600_000);
    const raised = (await teller.patch(`/tickets/${t.id}`, { priority: 'high' })).body;
    expect(Date.parse(raised.firstResponseDueAt) - Date.parse(t.createdAt)).toBe(3600_000);
    expect(Date.parse(raised.resolutionDueAt) - Date.parse(t.createdAt)).toBe(8 * 3600_000);
  });
});

describe('assignment', () => {
  it('names the active staff; a ticket may be given to another staff member (who is told), never to a customer or an inactive user', async () => {
    const staff = (await teller.get('/staff-users')).body.items as { id: number; displayName: string; role: string }[];
    expect(staff.find((s) => s.id === teller2Id)?.displayName).toBe('Tomas Roy');
    expect(staff.every((s) => s.role !== 'customer')).toBe(true);
    expect((await erin.get('/staff-users')).status).toBe(403);

    const t = (await open()).body;
    const given = await teller.patch(`/tickets/${t.id}`, { assigneeId: teller2Id });
    expect(given.status).toBe(200);
    expect(given.body.assigneeId).toBe(teller2Id);
    const note = await db()('notifications').where({ user_id: teller2Id, kind: 'ticket_assigned' }).orderBy('id', 'desc').first();
    expect(note.title).toBe(`Ticket #${t.id} assigned to you`);

    expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: erinUserId })).body.error.code).toBe('invalid_request');
    await db()('users').where({ id: teller2Id }).update({ active: false });
    try {
      expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: tellerId })).status).toBe(200);
      expect((await teller.patch(`/tickets/${t.id}`, { assigneeId: teller2Id })).body.error.code).toBe('invalid_request');
      expect((await teller.get('/staff-users')).body.items.some((s: { id: number }) => s.id === teller2Id)).toBe(false);
    } finally {
      await db()('users').where({ id: teller2Id }).update({ active: true });
    }
  });

  it("replying to an unassigned ticket takes it; replying to a colleague's keeps it theirs; mine / unassigned filters", async () => {
    const free = (await open()).body;
    const taken = (await open()).body;
    await teller.patch(`/tickets/${taken.id}`, { assigneeId: teller2Id });
    expect((await teller.get(`/tickets?assigneeId=none&limit=500`)).body.items.map((x: { id: number }) => x.id)).toContain(free.id);

    await teller.post(`/tickets/${free.id}/messages`, { body: 'I will take this one.' });
    await teller.post(`/tickets/${taken.id}/messages`, { body: 'Covering for Tomas.' });
    expect((await teller.get(`/tickets/${free.id}`)).body.assigneeId).toBe(tellerId);
    expect((await teller.get(`/tickets/${taken.id}`)).body.assigneeId).toBe(teller2Id);

    const unassigned = (await teller.get('/tickets?assigneeId=none&limit=500')).body.items.map((x: { id: number }) => x.id);
    expect(unassigned).not.toContain(free.id);
    const mine = (await teller.get(`/tickets?assigneeId=${tellerId}&limit=500`)).body.items.map((x: { id: number }) => x.id);
    expect(mine).toContain(free.id);
    expect(mine).not.toContain(taken.id);
  });

  it("signs staff messages with the author's display name on the customer's side too", async () => {
    const t = (await open()).body;
    await teller.post(`/tickets/${t.id}/messages`, { body: 'Hello from Tara' });
    const seen = (await erin.get(`/tickets/${t.id}`)).body.messages;
    expect(seen[1]).toMatchObject({ authorRole: 'teller', authorName: 'Tara Iyer' });
    const live = await erin.get(`/events?since=0`);
    const pushed = live.body.events.find(
      (e: { event: string; data: { message?: { body: string } } }) =>
        e.event === 'ticket.message' && e.data.message?.body === 'Hello from Tara',
    );
    expect(pushed.data.message.authorName).toBe('Tara Iyer');
  });
});

describe('internal notes never reach the owner', () => {
  let ticketId: number;
  let erinSocket: HubClient;
  let staffSocket: HubClient;
  let before: number;

  beforeAll(async () => {
    ticketId = (await open()).body.id;
    erinSocket = await connectClient(srv.url, { token: erinToken });
    staffSocket = await connectClient(srv.url, { token: tellerToken });
    expect((await erinSocket.emit('ticket.watch', { ticketId })).ok).toBe(true);
    before = Number((await db()('events').max({ m: 'seq' }).first())?.m ?? 0);
    const noteRes = await teller.post(`/tickets/${ticketId}/messages`, { body: NOTE, internal: true });
    expect(noteRes.status).toBe(201);
    expect(noteRes.body.internal).toBe(true);
    await teller.post(`/tickets/${ticketId}/messages`, { body: 'Hello Erin, we are checking your card.' });
    // The reply arrives after the note was committed: once it is here, the note had its chance.
    await erinSocket.waitFor('ticket.message', (d) => d.message?.body?.startsWith('Hello Erin, we are checking'));
  });
  afterAll(() => {
    erinSocket?.close();
    staffSocket?.close();
  });

  it('staff see it, marked internal, live and over REST', async () => {
    const live = await staffSocket.waitFor('ticket.message', (d) => d.message?.body === NOTE);
    expect(live.data.message.internal).toBe(true);
    const thread = (await manager.get(`/tickets/${ticketId}`)).body.messages;
    expect(thread.find((m: { body: string }) => m.body === NOTE)).toMatchObject({ internal: true, authorName: 'Tara Iyer' });
  });

  it("REST: the owner's thread leaves it out", async () => {
    const thread = (await erin.get(`/tickets/${ticketId}`)).body.messages;
    expect(thread.map((m: { body: string }) => m.body)).toEqual([
      'My card is declined at shops.',
      'Hello Erin, we are checking your card.',
    ]);
    expect(JSON.stringify((await erin.get('/tickets?limit=500')).body)).not.toContain('INTERNAL-NOTE');
  });

  it('socket: not pushed to the owner (who watches the ticket)', () => {
    expect(erinSocket.log.some((r) => JSON.stringify(r.data).includes('INTERNAL-NOTE'))).toBe(false);
  });

  it('sync: not replayed to the owner', async () => {
    const ack = await erinSocket.syncPage(before);
    expect(ack.ok).toBe(true);
    expect(ack.events!.some((e) => e.event === 'ticket.message')).toBe(true);
    expect(JSON.stringify(ack.events)).not.toContain('INTERNAL-NOTE');
  });

  it("GET /events: not in the owner's feed (but in staff's)", async () => {
    const mine = (await erin.get(`/events?since=${before}`)).body;
    expect(mine.events.length).toBeGreaterThan(0);
    expect(JSON.stringify(mine)).not.toContain('INTERNAL-NOTE');
    expect(JSON.stringify((await teller.get(`/events?since=${before}`)).body)).toContain('INTERNAL-NOTE');
  });

  it('notifications and mail: the reply is notified and mailed, the note never', async () => {
    const notes = await db()('notifications').where({ user_id: erinUserId });
    expect(notes.some((n) => n.body.includes('we are checking your card'))).toBe(true);
    expect(JSON.stringify(notes)).not.toContain('INTERNAL-NOTE');
    expect(JSON.stringify((await erin.get('/notifications')).body)).not.toContain('INTERNAL-NOTE');

    const run = await apiClient(srv.url, (await userWithSession(srv.running.bank, 'admin')).token).post('/jobs/mail/run');
    expect(run.status).toBe(200);
    const mails = fs.readdirSync(mailDir).map((f) => fs.readFileSync(path.join(mailDir, f), 'utf8'));
    expect(mails.some((m) => m.includes('we are checking your card'))).toBe(true);
    expect(mails.some((m) => m.includes('INTERNAL-NOTE'))).toBe(false);
    expect(JSON.stringify(await db()('mail_outbox'))).not.toContain('INTERNAL-NOTE');
  });

  it('a note changes nothing the owner sees: no status move, no assignment', async () => {
    const t = (await open()).body;
    const seq = Number((await db()('events').max({ m: 'seq' }).first())?.m ?? 0);
    const ownerBefore = (await erin.get(`/tickets/${t.id}`)).body;
    await teller.post(`/tickets/${t.id}/messages`, { body: NOTE, internal: true });
    const after = (await teller.get(`/tickets/${t.id}`)).body;
    expect(after).toMatchObject({ status: 'open', assigneeId: null, firstRespondedAt: null });
    // Not a trace for the owner, not even updatedAt.
    expect((await erin.get(`/tickets/${t.id}`)).body).toEqual(ownerBefore);
    const rooms = await db()('event_rooms').where('seq', '>', seq).select('room');
    expect(rooms.map((r) => r.room)).toEqual(['staff']);
  });

  it('customers may not write notes', async () => {
    const res = await erin.post(`/tickets/${ticketId}/messages`, { body: 'sneaky', internal: true });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});

describe('canned replies', () => {
  it('staff create, list, edit and delete them; customers cannot see them', async () => {
    const created = await teller.post('/canned-replies', {
      title: 'Card blocked abroad',
      body: 'Hello {{firstName}}, your card is unblocked now.',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: 'Card blocked abroad', createdBy: tellerId });
    expect((await teller2.get('/canned-replies')).body.items.map((c: { id: number }) => c.id)).toContain(created.body.id);

    const edited = await teller.patch(`/canned-replies/${created.body.id}`, { body: 'Hi {{firstName}}, unblocked.' });
    expect(edited.body.body).toBe('Hi {{firstName}}, unblocked.');
    expect((await erin.get('/canned-replies')).status).toBe(403);
    expect((await erin.post('/canned-replies', { title: 'x', body: 'y' })).status).toBe(403);

    expect((await teller.del(`/canned-replies/${created.body.id}`)).status).toBe(204);
    expect((await teller.get('/canned-replies')).body.items.map((c: { id: number }) => c.id)).not.toContain(created.body.id);
    expect((await teller.del(`/canned-replies/${created.body.id}`)).status).toBe(404);
    const audit = await db()('audit_log')
      .where({ entity: 'canned_reply', entity_id: String(created.body.id) })
      .orderBy('id')
      .pluck('action');
    expect(audit).toEqual(['canned_reply.created', 'canned_reply.updated', 'canned_reply.deleted']);
  });

  it('only its author or a manager may change or delete one', async () => {
    const mine = (await teller.post('/canned-replies', { title: "Tara's", body: 'Wording by Tara' })).body;
    const other = await teller2.patch(`/canned-replies/${mine.id}`, { body: 'Rewritten by Tomas' });
    expect(other.status).toBe(403);
    expect((await teller2.del(`/canned-replies/${mine.id}`)).status).toBe(403);
    expect((await manager.patch(`/canned-replies/${mine.id}`, { title: 'Reviewed' })).status).toBe(200);
    expect((await manager.del(`/canned-replies/${mine.id}`)).status).toBe(204);
  });

  it('refuses blank and oversized input', async () => {
    expect((await teller.post('/canned-replies', { title: '  ', body: 'x' })).status).toBe(400);
    expect((await teller.post('/canned-replies', { title: 'x'.repeat(101), body: 'x' })).status).toBe(400);
    expect((await teller.post('/canned-replies', { title: 'x' })).status).toBe(400);
  });
});

describe('breaches', () => {
  it('the escalation job flags a missed target once, pushes ticket.updated to staff only, and GET /tickets?breached=true lists it', async () => {
    const t = (await open({ priority: 'urgent' })).body;
    const erinLive = await connectClient(srv.url, { token: erinToken });
    const staffLive = await connectClient(srv.url, { token: tellerToken });
    try {
      // Twenty minutes have passed for this ticket (its first response was due after 15).
      const past = new Date(Date.now() - 20 * 60_000).toISOString();
      await db()('tickets')
        .where({ id: t.id })
        .update({ created_at: past, first_response_due_at: new Date(Date.now() - 5 * 60_000).toISOString() });
      const admin = apiClient(srv.url, (await userWithSession(srv.running.bank, 'admin')).token);
      const first = await admin.post('/jobs/ticket-escalation/run');
      expect(first.body.result.breachedIds).toContain(t.id);
      const pushed = await staffLive.waitFor('ticket.updated', (d) => d.ticket?.id === t.id && d.ticket.breached === true);
      expect(pushed.data.breach).toBe('first_response');

      const second = await admin.post('/jobs/ticket-escalation/run');
      expect(second.body.result.breachedIds).not.toContain(t.id);
      expect(
        await db()('audit_log')
          .where({ action: 'ticket.breached', entity_id: String(t.id) })
          .count({ n: '*' })
          .first(),
      ).toMatchObject({ n: 1 });

      const breached = (await teller.get('/tickets?breached=true&limit=500')).body.items.map((x: { id: number }) => x.id);
      expect(breached).toContain(t.id);
      expect((await teller.get('/tickets?breached=false&limit=500')).body.items.map((x: { id: number }) => x.id)).not.toContain(t.id);
      await new Promise((r) => setTimeout(r, 200));
      expect(erinLive.log.some((r) => r.event === 'ticket.updated' && r.data.ticket?.id === t.id && r.data.breach)).toBe(false);
      await until(async () => (await erin.get(`/tickets/${t.id}`)).body.breached === true, { what: 'the owner reads the flag over REST' });
    } finally {
      erinLive.close();
      staffLive.close();
    }
  });
});
