import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BankContext } from '../../bank/core/context.js';
import { parseSla } from '../../bank/support/sla.js';
import { addTicketMessage, createTicket, updateTicket, type TicketPriority } from '../../bank/support/tickets.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = '2026-06-01T09:00:00.000Z';

describe('TICKET_SLA', () => {
  it('defaults to urgent 15 min / 4 h … low 1 day / 5 days, and takes overrides per priority', () => {
    const d = parseSla('');
    expect(d.urgent).toEqual({ firstResponseMs: 15 * MIN, resolutionMs: 4 * HOUR });
    expect(d.high).toEqual({ firstResponseMs: HOUR, resolutionMs: 8 * HOUR });
    expect(d.normal).toEqual({ firstResponseMs: 4 * HOUR, resolutionMs: DAY });
    expect(d.low).toEqual({ firstResponseMs: DAY, resolutionMs: 5 * DAY });
    expect(parseSla('urgent=10m/2h').urgent).toEqual({ firstResponseMs: 10 * MIN, resolutionMs: 2 * HOUR });
    expect(() => parseSla('urgent=2h/10m')).toThrow(/first response/);
    expect(() => parseSla('rush=1m/1h')).toThrow(/priority=FIRST\/RESOLUTION/);
    expect(() => parseSla('low=0m/1h')).toThrow();
  });
});

describe.each(DIALECTS)('service-level targets on %s (controlled clock)', (dialect) => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let jobs: Jobs;
  let customer: Awaited<ReturnType<typeof userWithSession>>;
  let teller: Awaited<ReturnType<typeof userWithSession>>;
  const ids: Partial<Record<TicketPriority | 'answered' | 'resolved', number>> = {};

  const run = async () => (await jobs.runNow('ticket-escalation')) as { breachedIds: number[] };
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const open = (priority: TicketPriority) =>
    createTicket(bank, customer.actor, { category: 'general', subject: `A ${priority} matter`, body: 'help', priority });

  beforeAll(async () => {
    t = await createTestDb(dialect);
    // normal overridden: 2 h / 12 h; the others keep their defaults.
    ({ bank, clock, jobs } = await bankWithClock(t.db, START, { TICKET_SLA: 'normal=2h/12h' }));
    await seedReference(t.db);
    customer = await userWithSession(bank, 'customer', { customerId: await createCustomer(t.db, 'Sla') });
    teller = await userWithSession(bank, 'teller');
  });
  afterAll(() => t?.destroy());

  it('stamps each ticket with due times for its priority, from its creation', async () => {
    const expected: Record<TicketPriority, [number, number]> = {
      urgent: [15 * MIN, 4 * HOUR],
      high: [HOUR, 8 * HOUR],
      normal: [2 * HOUR, 12 * HOUR],
      low: [DAY, 5 * DAY],
    };
    for (const p of ['urgent', 'high', 'normal', 'low'] as const) {
      const dto = await open(p);
      ids[p] = dto.id;
      expect(dto.createdAt).toBe(START);
      expect(dto.firstResponseDueAt).toBe(new Date(Date.parse(START) + expected[p][0]).toISOString());
      expect(dto.resolutionDueAt).toBe(new Date(Date.parse(START) + expected[p][1]).toISOString());
      expect(dto).toMatchObject({ firstRespondedAt: null, breached: false });
    }
    ids.answered = (await open('urgent')).id;
    ids.resolved = (await open('high')).id;
  });

  it('the first staff reply stops the first-response clock', async () => {
    clock.set('2026-06-01T09:10:00.000Z');
    await addTicketMessage(bank, teller.actor, ids.answered!, 'On it');
    expect(await row(ids.answered!)).toMatchObject({ first_responded_at: '2026-06-01T09:10:00.000Z', assignee_id: teller.user.id });
    clock.set('2026-06-01T09:30:00.000Z');
    await updateTicket(bank, teller.actor, ids.resolved!, { status: 'resolved', resolution: 'Done' });
  });

  it('flags nothing before a due time; flags each missed target once, staff-only, with an audit row', async () => {
    clock.set('2026-06-01T09:14:59.000Z');
    expect((await run()).breachedIds).toEqual([]);
    clock.set('2026-06-01T09:15:00.000Z');
    expect((await run()).breachedIds).toEqual([ids.urgent]);
    expect((await run()).breachedIds).toEqual([]);
    const r = await row(ids.urgent!);
    expect(!!r.breached).toBe(true);
    expect(r.breached_at).toBe('2026-06-01T09:15:00.000Z');
    const ev = await t.db('events').where({ type: 'ticket.updated' }).orderBy('seq', 'desc').first();
    expect(JSON.parse(ev.payload)).toMatchObject({ ticket: { id: ids.urgent, breached: true }, breach: 'first_response' });
    expect((await t.db('event_rooms').where({ seq: ev.seq })).map((x) => x.room)).toEqual(['staff']);

    clock.set('2026-06-01T10:00:00.000Z'); // high's first response
    expect((await run()).breachedIds).toEqual([ids.high]);
    clock.set('2026-06-01T11:00:00.000Z'); // normal's (overridden to 2 h)
    expect((await run()).breachedIds).toEqual([ids.normal]);
    // The answered urgent ticket met its first response; its resolution is due at 13:00.
    clock.set('2026-06-01T12:59:00.000Z');
    expect((await run()).breachedIds).toEqual([]);
    clock.set('2026-06-01T13:00:00.000Z');
    expect((await run()).breachedIds).toEqual([ids.answered]);
    clock.set('2026-06-10T00:00:00.000Z');
    expect((await run()).breachedIds).toEqual([ids.low]);
    expect(!!(await row(ids.resolved!)).breached).toBe(false);
    const audits = await t.db('audit_log').where({ action: 'ticket.breached' }).count({ n: '*' }).first();
    expect(Number(audits!.n)).toBe(5);
  });

  it('a late first reply marks the ticket breached at once', async () => {
    clock.set('2026-07-01T09:00:00.000Z');
    const late = await open('urgent');
    clock.set('2026-07-01T09:20:00.000Z');
    await addTicketMessage(bank, teller.actor, late.id, 'Sorry for the wait');
    expect(await row(late.id)).toMatchObject({ first_responded_at: '2026-07-01T09:20:00.000Z', breached_at: '2026-07-01T09:20:00.000Z' });
    expect((await run()).breachedIds).not.toContain(late.id);
  });
});
