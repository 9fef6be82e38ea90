import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BankContext } from '../../bank/core/context.js';
import { createTicket, updateTicket } from '../../bank/support/tickets.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

const HOUR = 3600_000;

describe.each(DIALECTS)('ticket escalation on %s', (dialect) => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let jobs: Jobs;
  let customerId: number;
  let tellerId: number;
  const ids: Record<string, number> = {};

  const ticket = (id: number) => t.db('tickets').where({ id }).first();
  const escalate = async () => ((await jobs.runNow('ticket-escalation')) as { escalated: number; ticketIds: number[] }).ticketIds;

  beforeAll(async () => {
    t = await createTestDb(dialect);
    ({ bank, clock, jobs } = await bankWithClock(t.db, '2026-06-01T10:00:00.000Z'));
    await seedReference(t.db);
    customerId = await createCustomer(t.db, 'Erin');
    const erin = await userWithSession(bank, 'customer', { customerId });
    const teller = await userWithSession(bank, 'teller');
    tellerId = teller.user.id;
    const open = (subject: string, priority: 'low' | 'normal' | 'high' | 'urgent') =>
      createTicket(bank, erin.actor, { category: 'general', subject, body: 'help', priority }).then((x) => x.id);
    ids.urgent = await open('Fraud on my card', 'urgent');
    ids.high = await open('Cannot transfer', 'high');
    ids.normal = await open('Address change', 'normal');
    ids.low = await open('Question about fees', 'low');
    ids.resolved = await open('Lost PIN', 'urgent');
    await updateTicket(bank, teller.actor, ids.high, { assigneeId: tellerId, status: 'in_progress' });
    await updateTicket(bank, teller.actor, ids.resolved, { status: 'resolved', resolution: 'New PIN sent' });
  });
  afterAll(() => t?.destroy());

  it('leaves tickets alone inside their window', async () => {
    clock.set('2026-06-01T10:59:59.000Z');
    expect(await escalate()).toEqual([]);
  });

  it('escalates an urgent ticket after an hour, once per window, with an event and an audit row', async () => {
    clock.set('2026-06-01T11:00:00.000Z');
    expect(await escalate()).toEqual([ids.urgent]);
    expect(await escalate()).toEqual([]);
    expect(await ticket(ids.urgent)).toMatchObject({
      priority: 'urgent',
      escalation_level: 1,
      escalated_at: '2026-06-01T11:00:00.000Z',
      updated_at: '2026-06-01T11:00:00.000Z',
    });

    const ev = await t.db('events').where({ type: 'ticket.updated' }).orderBy('seq', 'desc').first();
    const payload = JSON.parse(ev.payload);
    expect(payload.ticket).toMatchObject({ id: ids.urgent, priority: 'urgent', escalationLevel: 1 });
    const rooms = (await t.db('event_rooms').where({ seq: ev.seq })).map((r) => r.room).sort();
    expect(rooms).toEqual([`customer:${customerId}`, 'staff', `ticket:${ids.urgent}`].sort());
    const auditRow = await t
      .db('audit_log')
      .where({ action: 'ticket.escalated', entity_id: String(ids.urgent) })
      .first();
    expect(JSON.parse(auditRow.after)).toMatchObject({ escalationLevel: 1, priority: 'urgent' });

    clock.set('2026-06-01T11:59:00.000Z');
    expect(await escalate()).toEqual([]);
    clock.set('2026-06-01T12:00:00.000Z');
    expect(await escalate()).toEqual([ids.urgent]);
    expect((await ticket(ids.urgent)).escalation_level).toBe(2);
  });

  it('bumps priority one step and tells the assignee', async () => {
    clock.set('2026-06-01T14:00:00.000Z'); // the high ticket's 4 h; urgent's 1 h again
    expect((await escalate()).sort((a, b) => a - b)).toEqual([ids.urgent, ids.high].sort((a, b) => a - b));
    expect(await ticket(ids.high)).toMatchObject({ priority: 'urgent', escalation_level: 1, status: 'in_progress' });
    const note = await t.db('notifications').where({ user_id: tellerId, kind: 'ticket_escalated' }).first();
    expect(note.title).toBe(`Ticket #${ids.high} escalated`);
    // Its next window is the new priority's (1 h), from the escalation.
    clock.advance(HOUR);
    expect(await escalate()).toContain(ids.high);
  });

  it('escalates normal after 24 h and low after 72 h; resolved tickets never', async () => {
    clock.set('2026-06-02T10:00:00.000Z');
    const r = await escalate();
    expect(r).toContain(ids.normal);
    expect(r).not.toContain(ids.low);
    expect(await ticket(ids.normal)).toMatchObject({ priority: 'high', escalation_level: 1 });
    clock.set('2026-06-04T10:00:00.000Z');
    expect(await escalate()).toContain(ids.low);
    expect(await ticket(ids.low)).toMatchObject({ priority: 'normal', escalation_level: 1 });
    expect(await ticket(ids.resolved)).toMatchObject({ status: 'resolved', escalation_level: 0, escalated_at: null });
  });
});
