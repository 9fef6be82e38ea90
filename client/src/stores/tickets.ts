import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import type { CannedReply, StaffUser, Ticket, TicketMessage, TicketPriority, TicketStatus, Viewer } from '../types';
import { markSurfaced, onServerEvent } from '../events';
import { href, route } from '../router';
import { useSession } from './session';
import { useToasts } from './toasts';

export interface DeskFilters {
  status: TicketStatus | '';
  priority: TicketPriority | '';
  /** Only tickets assigned to this user id (the "mine" filter), or null for everyone's. */
  assigneeId: number | null;
  /** Only tickets nobody has taken. */
  unassigned: boolean;
  /** Only tickets that missed a service-level target. */
  breached: boolean;
}

const isOpen = (t: Ticket) => t.status === 'open' || t.status === 'in_progress';

/**
 * The next service-level deadline of a ticket still being worked: its first response while
 * nobody has answered, then its resolution. Null when resolved or closed (nothing is due).
 */
export function nextDue(t: Ticket): { at: string; kind: 'first_response' | 'resolution' } | null {
  if (!isOpen(t)) return null;
  if (!t.firstRespondedAt && t.firstResponseDueAt) return { at: t.firstResponseDueAt, kind: 'first_response' };
  return t.resolutionDueAt ? { at: t.resolutionDueAt, kind: 'resolution' } : null;
}

/** `{{firstName}}` (and `{{ firstName }}`) filled in; the rest of the text as written. */
export function fillCanned(body: string, vars: { firstName?: string | null }): string {
  return body.replace(/\{\{\s*firstName\s*\}\}/g, vars.firstName?.trim() || 'there');
}

const TYPING_MS = 4000;
const PRIORITY_ORDER: Record<TicketPriority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

export function matchesFilters(t: Ticket, f: DeskFilters): boolean {
  if (f.status && t.status !== f.status) return false;
  if (f.priority && t.priority !== f.priority) return false;
  if (f.assigneeId !== null && t.assigneeId !== f.assigneeId) return false;
  if (f.unassigned && t.assigneeId !== null) return false;
  if (f.breached && !t.breached) return false;
  return true;
}

function byRecent(a: Ticket, b: Ticket) {
  return (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || b.id - a.id;
}

export const useTickets = defineStore('tickets', () => {
  const byId = ref<Record<number, Ticket>>({});
  /** The customer's own tickets. */
  const mineIds = ref<number[]>([]);
  /** The staff desk list under the current filters. */
  const deskIds = ref<number[]>([]);
  const deskFilters = ref<DeskFilters>({ status: '', priority: '', assigneeId: null, unassigned: false, breached: false });
  const staff = ref<StaffUser[]>([]);
  const cannedReplies = ref<CannedReply[]>([]);
  const deskLoaded = ref(false);
  const mineLoaded = ref(false);
  /** Tickets that changed since the desk last looked at them (live highlight). */
  const fresh = ref<Record<number, boolean>>({});
  const presence = ref<Record<number, Viewer[]>>({});
  const typing = ref<Record<number, Record<string, { name: string; until: number }>>>({});

  const mine = computed(() =>
    mineIds.value
      .map((id) => byId.value[id])
      .filter(Boolean)
      .sort(byRecent),
  );
  const desk = computed(() =>
    deskIds.value
      .map((id) => byId.value[id])
      .filter(Boolean)
      .sort((a, b) => {
        // Open work first, what is due soonest (overdue first) on top; then priority, then recent.
        const open = (t: Ticket) => (isOpen(t) ? 0 : 1);
        const due = (t: Ticket) => nextDue(t)?.at ?? '9999';
        return (
          open(a) - open(b) || due(a).localeCompare(due(b)) || PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || byRecent(a, b)
        );
      }),
  );

  function upsert(t: Ticket): Ticket {
    const existing = byId.value[t.id];
    if (existing) {
      const messages = t.messages ?? existing.messages;
      Object.assign(existing, t, { messages });
    } else byId.value[t.id] = { ...t };
    return byId.value[t.id];
  }

  async function loadMine() {
    const page = await api.tickets.list();
    page.items.forEach(upsert);
    mineIds.value = page.items.map((t) => t.id);
    mineLoaded.value = true;
  }

  async function loadDesk() {
    const f = deskFilters.value;
    const page = await api.tickets.list({
      status: f.status || undefined,
      priority: f.priority || undefined,
      assigneeId: f.unassigned ? 'none' : (f.assigneeId ?? undefined),
      breached: f.breached || undefined,
    });
    page.items.forEach(upsert);
    deskIds.value = page.items.map((t) => t.id);
    deskLoaded.value = true;
  }

  async function load(id: number): Promise<Ticket> {
    return upsert(await api.tickets.get(id));
  }

  async function create(input: Parameters<typeof api.tickets.create>[0]): Promise<Ticket> {
    const t = upsert(await api.tickets.create(input));
    if (!mineIds.value.includes(t.id)) mineIds.value = [t.id, ...mineIds.value];
    return t;
  }

  function addMessage(ticketId: number, message: TicketMessage) {
    const t = byId.value[ticketId];
    if (!t || !message || typeof message.id !== 'number') return;
    if (!t.messages) t.messages = [];
    if (t.messages.some((m) => m.id === message.id)) return;
    t.messages.push(message);
    t.messages.sort((a, b) => a.at.localeCompare(b.at) || a.id - b.id);
    if (message.at && message.at > t.updatedAt) t.updatedAt = message.at;
  }

  async function loadStaff() {
    staff.value = await api.tickets.staff();
  }

  /** A staff member's display name, never a bare id. */
  function staffName(userId: number | null | undefined): string {
    if (userId === null || userId === undefined) return 'Unassigned';
    return staff.value.find((u) => u.id === userId)?.displayName ?? 'A former colleague';
  }

  async function loadCanned() {
    cannedReplies.value = await api.canned.list();
  }

  async function send(ticketId: number, body: string, internal = false): Promise<TicketMessage> {
    const message = await api.tickets.post(ticketId, body, internal);
    addMessage(ticketId, message);
    return message;
  }

  async function update(ticketId: number, changes: Parameters<typeof api.tickets.update>[1]): Promise<Ticket> {
    const t = upsert(await api.tickets.update(ticketId, changes));
    placeOnDesk(t);
    return t;
  }

  function placeOnDesk(t: Ticket) {
    if (!deskLoaded.value) return;
    const has = deskIds.value.includes(t.id);
    const fits = matchesFilters(t, deskFilters.value);
    if (fits && !has) deskIds.value = [t.id, ...deskIds.value];
    else if (!fits && has) deskIds.value = deskIds.value.filter((x) => x !== t.id);
  }

  /** ticket.created / ticket.updated from the hub. */
  function applyTicket(t: Ticket | undefined, opts: { created: boolean; ownCustomerId: number | null; replayed: boolean }) {
    if (!t || typeof t.id !== 'number') return;
    const stored = upsert(t);
    if (opts.ownCustomerId !== null && stored.customerId === opts.ownCustomerId && mineLoaded.value && !mineIds.value.includes(stored.id)) {
      mineIds.value = [stored.id, ...mineIds.value];
    }
    placeOnDesk(stored);
    if (!opts.replayed) fresh.value[stored.id] = true;
  }

  function applyMessage(ticketId: number, message: TicketMessage | undefined, replayed: boolean) {
    if (!message) return;
    addMessage(ticketId, message);
    clearTyping(ticketId, String(message.authorId));
    if (!replayed && byId.value[ticketId]) fresh.value[ticketId] = true;
  }

  function applyPresence(ticketId: number, viewers: Viewer[] | undefined) {
    presence.value[ticketId] = Array.isArray(viewers) ? viewers : [];
  }

  function applyTyping(ticketId: number, who: { userId?: number; displayName?: string }) {
    const key = String(who.userId ?? who.displayName ?? 'someone');
    const name = who.displayName || 'Someone';
    const map = (typing.value[ticketId] ??= {});
    map[key] = { name, until: Date.now() + TYPING_MS };
    setTimeout(() => {
      const entry = typing.value[ticketId]?.[key];
      if (entry && entry.until <= Date.now()) clearTyping(ticketId, key);
    }, TYPING_MS + 50);
  }

  function clearTyping(ticketId: number, key: string) {
    const map = typing.value[ticketId];
    if (map && map[key]) delete map[key];
  }

  function typingNames(ticketId: number): string[] {
    const map = typing.value[ticketId];
    if (!map) return [];
    const now = Date.now();
    return Object.values(map)
      .filter((e) => e.until > now)
      .map((e) => e.name);
  }

  function seen(ticketId: number) {
    delete fresh.value[ticketId];
  }

  function clear() {
    byId.value = {};
    mineIds.value = [];
    deskIds.value = [];
    deskLoaded.value = false;
    mineLoaded.value = false;
    fresh.value = {};
    staff.value = [];
    cannedReplies.value = [];
    presence.value = {};
    typing.value = {};
  }

  // ---- live: tickets, their messages, who is looking and who is typing ----
  for (const name of ['ticket.created', 'ticket.updated'] as const) {
    onServerEvent(name, (e, ctx) => {
      const me = useSession().user;
      applyTicket(e.ticket, { created: name === 'ticket.created', ownCustomerId: me?.customerId ?? null, replayed: ctx.replayed });
      if (e.ticket && !ctx.replayed && name === 'ticket.created' && me && me.role !== 'customer' && route.value.name !== 'staff-tickets') {
        useToasts().push(`New ticket #${e.ticket.id}: ${e.ticket.subject}`, 'info', { href: href(`/staff/tickets/${e.ticket.id}`) });
      }
    });
  }
  onServerEvent('ticket.message', (e, ctx) => {
    const me = useSession().user;
    applyMessage(e.ticketId, e.message, ctx.replayed);
    const viewing = Number(route.value.params.id) === e.ticketId && /ticket$/.test(route.value.name);
    if (!ctx.replayed && me && e.message && e.message.authorId !== me.id) {
      // Either the open thread shows it or the toast does; the reply's notification need not toast again.
      markSurfaced('ticket-message');
      if (!viewing)
        useToasts().push(`New message on ticket #${e.ticketId}`, 'info', {
          href: href(me.role === 'customer' ? `/tickets/${e.ticketId}` : `/staff/tickets/${e.ticketId}`),
        });
    }
  });
  onServerEvent('presence.ticket', (e) => applyPresence(e.ticketId, e.viewers));
  onServerEvent('ticket.typing', (e, ctx) => {
    if (ctx.replayed || e.userId === useSession().user?.id) return;
    applyTyping(e.ticketId, e);
  });

  return {
    byId,
    mine,
    mineIds,
    desk,
    deskIds,
    deskFilters,
    deskLoaded,
    mineLoaded,
    fresh,
    presence,
    typing,
    staff,
    cannedReplies,
    upsert,
    loadMine,
    loadDesk,
    loadStaff,
    staffName,
    loadCanned,
    load,
    create,
    send,
    update,
    applyTicket,
    applyMessage,
    applyPresence,
    applyTyping,
    typingNames,
    seen,
    clear,
  };
});
