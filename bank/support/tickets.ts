import { type Row, Ticket, type TicketMessage, type User } from '../../db/models.js';
import { toPage } from '../core/paging.js';
import type { Actor, BankContext, Role } from '../core/context.js';
import { isStaff } from '../core/context.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../core/errors.js';
import { requiredText } from '../core/checks.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { notifyCustomers, notifyUsers } from '../notifications/send.js';
import { can, requireCan } from '../access/permissions.js';
import { dueTimes } from './sla.js';
import { type Tx, withTx } from '../core/db-tx.js';

export const TICKET_CATEGORIES = ['account', 'card', 'transaction', 'security', 'general'] as const;
export const TICKET_STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const;
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

export const SUBJECT_MAX = 200;
export const BODY_MAX = 10_000;

/**
 * Notification kinds this module writes (the mail job may pick them up):
 * ticket_reply and ticket_resolved go to the customer's logins; ticket_customer_reply and
 * ticket_assigned go to the assigned staff member.
 */
export const TICKET_NOTIFICATION_KINDS = ['ticket_reply', 'ticket_resolved', 'ticket_customer_reply', 'ticket_assigned'] as const;

export type TicketRow = Row<Ticket>;

/** A message with its author's display name (users.display_name) joined in when read. */
export type TicketMessageRow = Row<TicketMessage> & { author_name?: Row<User>['display_name'] | null };

/** Staff messages are signed with the author's display name, the same one the typing indicator shows. */
export function messageDto(m: TicketMessageRow) {
  return {
    id: m.id,
    authorId: m.author_id,
    authorRole: m.author_role,
    authorName: m.author_name ?? null,
    body: m.body,
    at: m.at,
    internal: !!m.internal,
  };
}
export type TicketMessageDto = ReturnType<typeof messageDto>;

export function ticketDto(r: TicketRow, messages?: TicketMessageRow[]) {
  return {
    id: r.id,
    customerId: r.customer_id,
    category: r.category,
    subject: r.subject,
    status: r.status,
    priority: r.priority,
    assigneeId: r.assignee_id,
    resolution: r.resolution,
    escalationLevel: Number(r.escalation_level ?? 0),
    firstResponseDueAt: r.first_response_due_at,
    resolutionDueAt: r.resolution_due_at,
    firstRespondedAt: r.first_responded_at,
    breached: !!r.breached,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(messages ? { messages: messages.map(messageDto) } : {}),
  };
}
export type TicketDto = ReturnType<typeof ticketDto>;

const excerpt = (s: string, n = 500) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Who hears about a ticket: its owner, the staff desk, and anyone watching it. */
const ticketRooms = (r: TicketRow) => [rooms.customer(r.customer_id), rooms.staff, rooms.ticket(r.id)];
/**
 * Who hears about an internal note: staff only. Not the ticket's room either: its owner
 * watches it (staff watching it are in the staff room anyway).
 */
const INTERNAL_ROOMS = [rooms.staff];

/** What the actor may read of a thread: customers never see internal notes. */
export const visibleMessages = <M extends Pick<TicketMessageRow, 'internal'>>(actor: Actor, messages: M[]): M[] =>
  isStaff(actor) ? messages : messages.filter((m) => !m.internal);

/** Display names of these users, by id. */
async function namesOf(q: Tx['q'] | BankContext['db'], ids: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await q('users').whereIn('id', unique).select('id', 'display_name');
  return new Map(rows.map((r: { id: number; display_name: string }) => [Number(r.id), r.display_name]));
}

/** Customers see only their own tickets; what they may not see does not exist for them. */
const visibleTo = (actor: Actor, row: TicketRow | undefined): row is TicketRow =>
  !!row && (actor.role !== 'customer' || row.customer_id === actor.customerId);

/** A ticket the actor may see (customers: their own), or NotFound. Locks the row on PostgreSQL when writing. */
export async function findVisibleTicket(q: Tx['q'] | BankContext['db'], actor: Actor, id: number, lock = false): Promise<TicketRow> {
  requireCan(actor, 'tickets.read');
  let query = q<TicketRow>('tickets').where({ id });
  if (lock) query = query.forUpdate();
  const row = await query.first();
  if (!visibleTo(actor, row)) throw new NotFound('Ticket');
  return row;
}

async function insertMessage(t: Tx, actor: Actor, ticketId: number, body: string, internal = false): Promise<TicketMessageRow> {
  const row = { ticket_id: ticketId, author_id: actor.userId!, author_role: actor.role as Role, body, at: t.now, internal };
  const [ins] = await t.q('ticket_messages').insert(row, ['id']);
  const author_name = (await namesOf(t.q, [actor.userId!])).get(actor.userId!) ?? null;
  return { ...row, id: typeof ins === 'object' ? ins.id : ins, author_name };
}

function requireUser(actor: Actor): void {
  if (actor.userId === null) throw new Forbidden('Only a signed-in user may write on tickets');
}

export interface NewTicket {
  category: TicketCategory;
  subject: string;
  body: string;
  priority?: TicketPriority;
}

/** A customer opens a ticket with its first message. Staff may not (they answer tickets). */
export async function createTicket(ctx: BankContext, actor: Actor, input: NewTicket): Promise<TicketDto> {
  requireCan(actor, 'tickets.create');
  requireUser(actor);
  if (actor.customerId === null) throw new Forbidden('Only a customer login may open a ticket');
  if (!TICKET_CATEGORIES.includes(input.category)) throw new Invalid('Unknown category', { fields: ['category'] });
  const priority = input.priority ?? 'normal';
  if (!TICKET_PRIORITIES.includes(priority)) throw new Invalid('Unknown priority', { fields: ['priority'] });
  const subject = requiredText(input.subject, 'subject', SUBJECT_MAX);
  const body = requiredText(input.body, 'body', BODY_MAX);
  return withTx(ctx, async (t) => {
    const row = {
      customer_id: actor.customerId!,
      category: input.category,
      subject,
      status: 'open' as const,
      priority,
      assignee_id: null,
      resolution: null,
      escalation_level: 0,
      escalated_at: null,
      created_at: t.now,
      updated_at: t.now,
      ...dueTimes(t.ctx.ticketSla, priority, t.now),
      first_responded_at: null,
      breached: false,
      breached_at: null,
    };
    const [ins] = await t.q('tickets').insert(row, ['id']);
    const ticket: TicketRow = { ...row, id: typeof ins === 'object' ? ins.id : ins };
    const message = await insertMessage(t, actor, ticket.id, body);
    const dto = ticketDto(ticket, [message]);
    // The owner's room too, so the customer's other devices list the new ticket.
    recordEvent(t, 'ticket.created', ticketRooms(ticket), { ticket: dto });
    await audit(t, actor, { action: 'ticket.created', entity: 'ticket', entityId: ticket.id, after: dto });
    return dto;
  });
}

export interface TicketFilter {
  status?: TicketStatus;
  priority?: TicketPriority;
  /** A user id, or 'none' for tickets nobody has taken. */
  assigneeId?: number | 'none';
  customerId?: number;
  breached?: boolean;
  limit: number;
  /** The last id seen: the list runs newest first. */
  cursor?: number | null;
}

/** Newest first. Customers see only their own tickets whatever they filter on. */
export async function listTickets(ctx: BankContext, actor: Actor, f: TicketFilter) {
  requireCan(actor, 'tickets.read');
  let q = ctx.db<TicketRow>('tickets');
  if (actor.role === 'customer') q = q.where({ customer_id: actor.customerId ?? -1 });
  if (f.customerId !== undefined) q = q.where({ customer_id: f.customerId });
  if (f.status) q = q.where({ status: f.status });
  if (f.priority) q = q.where({ priority: f.priority });
  if (f.assigneeId === 'none') q = q.whereNull('assignee_id');
  else if (f.assigneeId !== undefined) q = q.where({ assignee_id: f.assigneeId });
  if (f.breached !== undefined) q = q.where({ breached: f.breached });
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const items = rows.slice(0, f.limit).map((r) => ticketDto(r));
  return toPage(rows.length, items, f.limit);
}

export async function getTicket(ctx: BankContext, actor: Actor, id: number): Promise<TicketDto> {
  requireCan(actor, 'tickets.read');
  const ticket = await Ticket.query(ctx.db).findById(id).withGraphFetched('messages(orderById)');
  if (!visibleTo(actor, ticket)) throw new NotFound('Ticket');
  const messages = visibleMessages(actor, ticket.messages ?? []);
  const names = await namesOf(
    ctx.db,
    messages.map((m) => m.author_id),
  );
  return ticketDto(
    ticket,
    messages.map((m) => ({ ...m, author_name: names.get(m.author_id) ?? null })),
  );
}

/**
 * Adds a message. A closed ticket takes no more messages (409). A staff reply to an open
 * ticket moves it to in_progress, stops the first-response clock, and gives an unassigned
 * ticket to the replier; a customer reply to a resolved ticket reopens it (the stored
 * resolution is kept, so it may be resolved again as it was). An internal note (staff only)
 * changes nothing of the ticket and reaches staff only: no customer room, no notification.
 */
export async function addTicketMessage(
  ctx: BankContext,
  actor: Actor,
  id: number,
  rawBody: string,
  internal = false,
): Promise<TicketMessageDto> {
  requireUser(actor);
  const body = requiredText(rawBody, 'body', BODY_MAX);
  if (internal && !can(actor, 'tickets.staff')) throw new Forbidden('Only staff may write internal notes');
  return withTx(ctx, async (t) => {
    const ticket = await findVisibleTicket(t.q, actor, id, t.ctx.dialect === 'pg');
    if (ticket.status === 'closed') throw new Conflict(`Ticket ${id} is closed`);
    const message = await insertMessage(t, actor, id, body, internal);
    const messageOut = messageDto(message);
    if (internal) {
      // Not even updated_at moves: the owner must not be able to tell that a note was written.
      recordEvent(t, 'ticket.message', INTERNAL_ROOMS, { ticketId: id, message: messageOut });
      await audit(t, actor, { action: 'ticket.note', entity: 'ticket', entityId: id, after: { message: messageOut } });
      return messageOut;
    }
    const staff = isStaff(actor);
    const changes: Partial<TicketRow> = {};
    const nextStatus: TicketStatus =
      staff && ticket.status === 'open' ? 'in_progress' : !staff && ticket.status === 'resolved' ? 'open' : ticket.status;
    if (nextStatus !== ticket.status) changes.status = nextStatus;
    if (staff && ticket.first_responded_at === null) {
      changes.first_responded_at = t.now;
      if (!ticket.breached && ticket.first_response_due_at !== null && t.now > ticket.first_response_due_at)
        Object.assign(changes, { breached: true, breached_at: t.now });
    }
    if (staff && ticket.assignee_id === null) changes.assignee_id = actor.userId;
    await t
      .q('tickets')
      .where({ id })
      .update({ ...changes, updated_at: t.now });
    const after: TicketRow = { ...ticket, ...changes, updated_at: t.now };
    recordEvent(t, 'ticket.message', ticketRooms(ticket), { ticketId: id, message: messageOut });
    if (Object.keys(changes).length) recordEvent(t, 'ticket.updated', ticketRooms(after), { ticket: ticketDto(after) });
    if (staff) {
      await notifyCustomers(t, [
        {
          customerId: ticket.customer_id,
          kind: 'ticket_reply',
          title: `New reply on ticket #${id}`,
          body: `${ticket.subject}: ${excerpt(body)}`,
        },
      ]);
    } else if (ticket.assignee_id !== null && ticket.assignee_id !== actor.userId) {
      await notifyUsers(t, [ticket.assignee_id], {
        kind: 'ticket_customer_reply',
        title: `Customer replied on ticket #${id}`,
        body: `${ticket.subject}: ${excerpt(body)}`,
      });
    }
    const before = Object.fromEntries(Object.keys(changes).map((k) => [k, ticket[k as keyof TicketRow]]));
    await audit(t, actor, {
      action: 'ticket.message',
      entity: 'ticket',
      entityId: id,
      before: Object.keys(changes).length ? before : null,
      after: { message: messageOut, ...changes },
    });
    return messageOut;
  });
}

export interface TicketPatch {
  status?: TicketStatus;
  priority?: TicketPriority;
  /** null unassigns. */
  assigneeId?: number | null;
  resolution?: string;
}

/** The owner may only close the ticket, or reopen it once resolved; anything else is staff work. */
function checkOwnerPatch(ticket: TicketRow, p: TicketPatch): void {
  const others = (['priority', 'assigneeId', 'resolution'] as const).filter((k) => p[k] !== undefined);
  if (others.length) throw new Forbidden(`Only staff may change ${others.join(', ')}`);
  if (p.status === undefined || p.status === 'closed' || p.status === ticket.status) return;
  if (p.status === 'open' && ticket.status === 'resolved') return;
  throw new Forbidden('You may only close the ticket, or reopen it once it is resolved');
}

async function checkAssignee(t: Tx, userId: number): Promise<void> {
  const u = await t.q('users').where({ id: userId }).first('role', 'active');
  if (!u || !u.active || u.role === 'customer') throw new Invalid('assigneeId must be an active staff user', { fields: ['assigneeId'] });
}

/** Staff change status, priority, assignee and resolution; resolving needs a resolution. */
export async function updateTicket(ctx: BankContext, actor: Actor, id: number, patch: TicketPatch): Promise<TicketDto> {
  const resolution = patch.resolution === undefined ? undefined : requiredText(patch.resolution, 'resolution', BODY_MAX);
  if (patch.status !== undefined && !TICKET_STATUSES.includes(patch.status)) throw new Invalid('Unknown status', { fields: ['status'] });
  if (patch.priority !== undefined && !TICKET_PRIORITIES.includes(patch.priority))
    throw new Invalid('Unknown priority', { fields: ['priority'] });
  return withTx(ctx, async (t) => {
    const ticket = await findVisibleTicket(t.q, actor, id, t.ctx.dialect === 'pg');
    if (!can(actor, 'tickets.staff')) checkOwnerPatch(ticket, patch);
    const changes: Partial<TicketRow> = {};
    if (patch.status !== undefined && patch.status !== ticket.status) changes.status = patch.status;
    if (patch.priority !== undefined && patch.priority !== ticket.priority) changes.priority = patch.priority;
    if (patch.assigneeId !== undefined && patch.assigneeId !== ticket.assignee_id) changes.assignee_id = patch.assigneeId;
    if (resolution !== undefined && resolution !== ticket.resolution) changes.resolution = resolution;
    if (!Object.keys(changes).length) return ticketDto(ticket);
    if (ticket.status === 'closed') throw new Conflict(`Ticket ${id} is closed`);
    if (changes.assignee_id != null) await checkAssignee(t, changes.assignee_id);
    // A new priority has its own targets, counted from when the ticket was opened.
    if (changes.priority) Object.assign(changes, dueTimes(t.ctx.ticketSla, changes.priority, ticket.created_at));
    const resolving = changes.status === 'resolved' || changes.status === 'closed';
    if (resolving && !ticket.breached && ticket.resolution_due_at !== null && t.now > ticket.resolution_due_at)
      Object.assign(changes, { breached: true, breached_at: t.now });
    if (changes.status === 'resolved' && !(changes.resolution ?? ticket.resolution)) {
      throw new Invalid('Resolving a ticket requires a resolution', { fields: ['resolution'] });
    }
    const after: TicketRow = { ...ticket, ...changes, updated_at: t.now };
    await t
      .q('tickets')
      .where({ id })
      .update({ ...changes, updated_at: t.now });
    const dto = ticketDto(after);
    recordEvent(t, 'ticket.updated', ticketRooms(after), { ticket: dto });
    if (changes.status === 'resolved') {
      await notifyCustomers(t, [
        {
          customerId: ticket.customer_id,
          kind: 'ticket_resolved',
          title: `Ticket #${id} resolved`,
          body: `${ticket.subject}: ${excerpt(after.resolution ?? '')}`,
        },
      ]);
    }
    if (changes.assignee_id != null && changes.assignee_id !== actor.userId) {
      await notifyUsers(t, [changes.assignee_id], {
        kind: 'ticket_assigned',
        title: `Ticket #${id} assigned to you`,
        body: ticket.subject,
      });
    }
    await audit(t, actor, { action: 'ticket.updated', entity: 'ticket', entityId: id, before: ticketDto(ticket), after: dto });
    return dto;
  });
}
