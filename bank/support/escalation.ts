import type { Knex } from 'knex';
import { SYSTEM, type BankContext } from '../core/context.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { notifyUsers } from '../notifications/send.js';
import type { Progress } from '../ledger/snapshots.js';
import { type TicketPriority, type TicketRow, ticketDto } from './tickets.js';
import { withTx } from '../core/db-tx.js';

// Ticket SLA escalation. A ticket that is open or in progress and has waited longer than its
// priority's window since it was created, or since its last escalation, is escalated: its
// escalation level goes up by one and its priority one step (urgent stays urgent), and the
// next window is the new priority's. So a normal ticket left alone escalates after 24 h
// (to high), 4 h later (to urgent), then every hour, its level counting the missed windows.
// Staff activity does not reset the clock; resolving or closing the ticket stops it.

const HOUR = 3600_000;
export const ESCALATION_WINDOW_MS: Record<TicketPriority, number> = { urgent: 1 * HOUR, high: 4 * HOUR, normal: 24 * HOUR, low: 72 * HOUR };
const BUMP: Record<TicketPriority, TicketPriority> = { low: 'normal', normal: 'high', high: 'urgent', urgent: 'urgent' };

const since = (r: Pick<TicketRow, 'escalated_at' | 'created_at'>) => r.escalated_at ?? r.created_at;
const isDue = (r: TicketRow, nowMs: number) =>
  (r.status === 'open' || r.status === 'in_progress') && Date.parse(since(r)) + ESCALATION_WINDOW_MS[r.priority] <= nowMs;

export interface EscalationResult {
  escalated: number;
  ticketIds: number[];
}

/** Escalates every overdue ticket, each in its own transaction. Safe to run twice or at once on several workers. */
export async function escalateTickets(ctx: BankContext, opts: { progress?: Progress } = {}): Promise<EscalationResult> {
  const nowMs = ctx.now().getTime();
  const ticketIds = await eachCandidate(
    ctx,
    (q) =>
      q.andWhere((w) => {
        for (const [priority, window] of Object.entries(ESCALATION_WINDOW_MS)) {
          w.orWhere((p) =>
            p.where('priority', priority).andWhereRaw('COALESCE(escalated_at, created_at) <= ?', [new Date(nowMs - window).toISOString()]),
          );
        }
      }),
    (id) => escalateOne(ctx, id),
    opts.progress,
  );
  return { escalated: ticketIds.length, ticketIds };
}

/**
 * Pages through the open and in-progress tickets the filter names, by id, and runs `one`
 * on each (its own transaction, which checks again under the lock); returns the ids it acted on.
 */
async function eachCandidate(
  ctx: BankContext,
  filter: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
  one: (id: number) => Promise<boolean>,
  progress?: Progress,
): Promise<number[]> {
  const done: number[] = [];
  let after = 0;
  for (;;) {
    const page: { id: number }[] = await filter(ctx.db('tickets').whereIn('status', ['open', 'in_progress']).andWhere('id', '>', after))
      .orderBy('id')
      .limit(200)
      .select('id');
    if (!page.length) return done;
    for (const { id } of page) {
      after = id;
      if (await one(id)) done.push(id);
      await progress?.();
    }
  }
}

async function escalateOne(ctx: BankContext, id: number): Promise<boolean> {
  return withTx(ctx, async (t) => {
    let q = t.q<TicketRow>('tickets').where({ id });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const before = await q.first();
    // Checked again under the lock: another worker may have escalated it meanwhile.
    if (!before || !isDue(before, Date.parse(t.now))) return false;
    const change = {
      escalation_level: Number(before.escalation_level) + 1,
      escalated_at: t.now,
      priority: BUMP[before.priority],
      updated_at: t.now,
    };
    const n = await t.q('tickets').where({ id, escalation_level: before.escalation_level }).update(change);
    if (!n) return false;
    const after: TicketRow = { ...before, ...change };
    const dto = ticketDto(after);
    recordEvent(t, 'ticket.updated', [rooms.customer(after.customer_id), rooms.staff, rooms.ticket(id)], { ticket: dto, escalated: true });
    if (after.assignee_id !== null) {
      await notifyUsers(t, [after.assignee_id], {
        kind: 'ticket_escalated',
        title: `Ticket #${id} escalated`,
        body: `"${after.subject}" waited past its ${before.priority} window; it is now ${after.priority} (escalation level ${after.escalation_level}).`,
      });
    }
    await audit(t, SYSTEM, {
      action: 'ticket.escalated',
      entity: 'ticket',
      entityId: id,
      before: { priority: before.priority, escalationLevel: Number(before.escalation_level) },
      after: { priority: after.priority, escalationLevel: after.escalation_level, escalatedAt: t.now },
    });
    return true;
  });
}

// ---- service-level breaches --------------------------------------------------------------------

export interface BreachResult {
  breached: number;
  breachedIds: number[];
}

/**
 * Flags every open or in-progress ticket past a due time it has not met (no staff reply by
 * its first-response time, or not resolved by its resolution time): once per ticket, with a
 * ticket.updated to the staff desk, a notification to the assignee and an audit row.
 */
export async function flagBreaches(ctx: BankContext, opts: { progress?: Progress } = {}): Promise<BreachResult> {
  const now = ctx.now().toISOString();
  const breachedIds = await eachCandidate(
    ctx,
    (q) =>
      q
        .where({ breached: false })
        .andWhere((w) =>
          w
            .where((f) => f.whereNull('first_responded_at').andWhere('first_response_due_at', '<=', now))
            .orWhere('resolution_due_at', '<=', now),
        ),
    (id) => flagOne(ctx, id),
    opts.progress,
  );
  return { breached: breachedIds.length, breachedIds };
}

const missed = (r: TicketRow, now: string): 'first_response' | 'resolution' | null =>
  r.first_responded_at === null && r.first_response_due_at !== null && r.first_response_due_at <= now
    ? 'first_response'
    : r.resolution_due_at !== null && r.resolution_due_at <= now
      ? 'resolution'
      : null;

async function flagOne(ctx: BankContext, id: number): Promise<boolean> {
  return withTx(ctx, async (t) => {
    let q = t.q<TicketRow>('tickets').where({ id });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const before = await q.first();
    if (!before || before.breached || !['open', 'in_progress'].includes(before.status)) return false;
    const target = missed(before, t.now);
    if (!target) return false;
    // Guarded: a concurrent run that flagged it first leaves nothing to update.
    const n = await t.q('tickets').where({ id, breached: false }).update({ breached: true, breached_at: t.now });
    if (!n) return false;
    const after: TicketRow = { ...before, breached: true, breached_at: t.now };
    recordEvent(t, 'ticket.updated', [rooms.staff], { ticket: ticketDto(after), breach: target });
    if (after.assignee_id !== null) {
      await notifyUsers(t, [after.assignee_id], {
        kind: 'ticket_breached',
        title: `Ticket #${id} missed its ${target === 'first_response' ? 'first-response' : 'resolution'} target`,
        body: `"${after.subject}" (${after.priority}) was due by ${target === 'first_response' ? after.first_response_due_at : after.resolution_due_at}.`,
      });
    }
    await audit(t, SYSTEM, {
      action: 'ticket.breached',
      entity: 'ticket',
      entityId: id,
      before: { breached: false },
      after: { breached: true, target, breachedAt: t.now },
    });
    return true;
  });
}
