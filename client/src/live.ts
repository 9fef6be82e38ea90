// The one Socket.IO connection. Every server event goes through an EventSequencer (seq.ts), which
// applies it exactly once and in order; on every connect/reconnect we `sync` from the last seq
// seen (kept per user in localStorage) so nothing committed while we were away is missed.

import { io, type Socket } from 'socket.io-client';
import * as api from './api';
import { ApiError } from './api';
import { formatMoney } from './money';
import { href, route } from './router';
import { EventSequencer, SeqTracker, parseStoredSeq, seqStorageKey, type ApplyContext, type StreamEvent, type SyncAnswer } from './seq';
import { readStorage, writeStorage } from './storage';
import { useAccounts } from './stores/accounts';
import { useAnnouncements } from './stores/announcements';
import { useApprovals } from './stores/approvals';
import { useConnection } from './stores/connection';
import { useNotifications } from './stores/notifications';
import { useSession } from './stores/session';
import { useTickets } from './stores/tickets';
import { useToasts } from './stores/toasts';
import type {
  AnnouncementEvent,
  BalanceUpdated,
  NotificationEvent,
  PresenceEvent,
  SessionRevoked,
  TicketEvent,
  TicketMessageEvent,
  Transaction,
  TransactionEvent,
  TypingEvent,
  User,
} from './types';

/** Every server → client event of the contract, plus `ticket.typing` should the server relay it. */
export const SERVER_EVENTS = [
  'balance.updated',
  'transaction.posted',
  'transaction.pending',
  'transaction.approved',
  'transaction.rejected',
  'transaction.cancelled',
  'ticket.created',
  'ticket.updated',
  'ticket.message',
  'announcement.published',
  'announcement.updated',
  'announcement.withdrawn',
  'notification',
  'presence.ticket',
  'session.revoked',
  'ticket.typing',
] as const;

const ACK_TIMEOUT_MS = 15_000;
const TYPING_THROTTLE_MS = 2_500;

type Payload = Record<string, unknown> & { seq?: number; at?: string };

let socket: Socket | null = null;
let sequencer: EventSequencer<Payload> | null = null;
let currentUser: User | null = null;
let syncRetry: ReturnType<typeof setTimeout> | null = null;
let authRetry: ReturnType<typeof setTimeout> | null = null;
/** No seq remembered in this browser: the first sync replays history, which is not news worth highlighting. */
let freshStart = false;
/**
 * A notification often repeats what another event of the same commit already put on screen (a deposit's
 * toast, a reply in the open thread). Those events come first (one transaction, increasing seq), so they
 * mark their family here and the notification then only adds to the bell instead of toasting twice.
 */
const NOTIFICATION_FAMILY: Record<string, string> = {
  deposit: 'money',
  transfer_received: 'money',
  interest: 'money',
  'transaction.approved': 'money',
  'transaction.rejected': 'money',
  ticket_reply: 'ticket-message',
  ticket_customer_reply: 'ticket-message',
};
const SURFACED_MS = 5_000;
const surfacedAt = new Map<string, number>();
const markSurfaced = (family: string) => surfacedAt.set(family, Date.now());
const recentlySurfaced = (family: string | undefined) => !!family && Date.now() - (surfacedAt.get(family) ?? 0) < SURFACED_MS;

/** Tickets the open views are watching (ticketId → number of views): re-watched after every reconnect. */
const watched = new Map<number, number>();
const typingSentAt = new Map<number, number>();

export function isLive(): boolean {
  return !!socket?.connected;
}

export function startLive(user: User, token: string | null): void {
  stopLive();
  currentUser = user;
  const conn = useConnection();
  const storageKey = seqStorageKey(user.id);
  const tracker = new SeqTracker({ lastSeq: parseStoredSeq(readStorage('local', storageKey)) });
  conn.lastSeq = tracker.lastSeq;
  freshStart = tracker.lastSeq === 0;
  sequencer = new EventSequencer<Payload>(tracker, {
    apply: dispatch,
    onAdvance: (seq) => {
      conn.lastSeq = seq;
      writeStorage('local', storageKey, String(seq));
    },
    onError: (error, event) => console.error(`[live] handling ${event.event} #${event.seq} failed`, error),
  });

  const s = io({
    path: '/socket.io',
    transports: ['websocket', 'polling'],
    withCredentials: true,
    // A function so every reconnect presents the current token (the cookie works as well).
    auth: (cb) => {
      const t = useSession().token ?? token;
      cb(t ? { token: t } : {});
    },
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 8_000,
    timeout: 10_000,
  });
  socket = s;
  conn.set('connecting');

  s.on('connect', () => {
    if (socket !== s) return;
    conn.set('syncing');
    for (const ticketId of watched.keys()) emitQuiet('ticket.watch', { ticketId });
    void runSync(s);
  });

  s.on('disconnect', (reason) => {
    if (socket !== s || useSession().leaving) return;
    if (reason === 'io client disconnect') conn.set('offline');
    else if (reason === 'io server disconnect') {
      // The server closed us on purpose (session revoked or expired): find out which.
      conn.set('reconnecting', 'Disconnected by the server');
      void checkSession(s);
    } else conn.set('reconnecting', reason);
  });

  s.on('connect_error', (err: Error) => {
    if (socket !== s) return;
    if (err.message === 'unauthenticated') {
      conn.set('reconnecting', 'Session not accepted');
      void checkSession(s);
    } else conn.set(s.active ? 'reconnecting' : 'offline', err.message);
  });

  for (const name of SERVER_EVENTS) {
    s.on(name, (payload: Payload) => {
      if (socket !== s || !sequencer) return;
      const data: Payload = payload && typeof payload === 'object' ? payload : {};
      const event: StreamEvent<Payload> = { seq: data.seq as number, event: name, data };
      if (name === 'session.revoked') {
        // Never held back behind a sync: the server disconnects right after sending it.
        sequencer.tracker.accept(event.seq);
        dispatch(event, { replayed: false });
        return;
      }
      sequencer.live(event);
    });
  }
}

export function stopLive(): void {
  if (syncRetry) clearTimeout(syncRetry);
  if (authRetry) clearTimeout(authRetry);
  syncRetry = authRetry = null;
  sequencer?.cancel();
  sequencer = null;
  const s = socket;
  socket = null;
  if (s) {
    s.removeAllListeners();
    s.disconnect();
  }
  watched.clear();
  typingSentAt.clear();
  surfacedAt.clear();
  currentUser = null;
  useConnection().clear();
}

async function runSync(s: Socket) {
  const conn = useConnection();
  const seqr = sequencer;
  if (!seqr) return;
  try {
    await seqr.sync((since) => ask<SyncAnswer<Payload>>(s, 'sync', { since }));
    freshStart = false;
    if (socket === s && s.connected) conn.set('live');
  } catch (err) {
    if (socket !== s) return;
    console.warn('[live] sync failed', err);
    // Live events still flow; try to catch up again shortly.
    if (s.connected) {
      conn.set('live', `Catch-up failed: ${err instanceof Error ? err.message : String(err)}`);
      if (syncRetry) clearTimeout(syncRetry);
      syncRetry = setTimeout(() => {
        syncRetry = null;
        if (socket === s && s.connected) {
          conn.set('syncing');
          void runSync(s);
        }
      }, 3_000);
    }
  }
}

/** The socket was refused or closed by the server: is the session over, or was it a hiccup? */
async function checkSession(s: Socket) {
  if (useSession().leaving) return;
  try {
    await api.auth.me();
    // Still signed in: reconnect (the manager does not retry after a refused handshake).
    if (authRetry) clearTimeout(authRetry);
    authRetry = setTimeout(() => {
      authRetry = null;
      if (socket === s && !s.connected) s.connect();
    }, 2_000);
  } catch (err) {
    if (socket !== s || useSession().leaving) return;
    if (err instanceof ApiError && err.status === 401) {
      useSession().end('Your session has ended. Please sign in again.');
    } else {
      if (authRetry) clearTimeout(authRetry);
      authRetry = setTimeout(() => {
        authRetry = null;
        if (socket === s) void checkSession(s);
      }, 5_000);
    }
  }
}

interface Ack {
  ok: boolean;
  error?: { code?: string; message?: string };
}

/** Emit with an acknowledgement; rejects on `{ok:false}` or when no answer comes in time. */
export function ask<T>(s: Socket | null, event: string, payload: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (!s) return reject(new Error('Not connected'));
    s.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err: Error | null, ack: Ack & T) => {
      if (err) return reject(new Error('The server did not answer in time'));
      if (!ack || ack.ok !== true) {
        return reject(new ApiError(0, ack?.error?.code ?? 'refused', ack?.error?.message ?? `${event} was refused`));
      }
      resolve(ack);
    });
  });
}

function emitQuiet(event: string, payload: unknown) {
  const s = socket;
  if (!s?.connected) return;
  ask(s, event, payload).catch((err) => console.warn(`[live] ${event} refused`, err));
}

/** Watch a ticket while a view shows it (joins its room, shows up in presence). */
export function watchTicket(ticketId: number): void {
  const n = watched.get(ticketId) ?? 0;
  watched.set(ticketId, n + 1);
  if (n === 0) emitQuiet('ticket.watch', { ticketId });
}

export function unwatchTicket(ticketId: number): void {
  const n = watched.get(ticketId) ?? 0;
  if (n <= 1) {
    watched.delete(ticketId);
    if (n === 1) emitQuiet('ticket.unwatch', { ticketId });
  } else watched.set(ticketId, n - 1);
}

/** Call on every keystroke; emits `ticket.typing` at most once per throttle window. */
export function sendTyping(ticketId: number): void {
  const now = Date.now();
  const last = typingSentAt.get(ticketId) ?? 0;
  if (now - last < TYPING_THROTTLE_MS) return;
  typingSentAt.set(ticketId, now);
  const s = socket;
  if (s?.connected) s.emit('ticket.typing', { ticketId }, () => undefined);
}

// ---- applying events to the stores ----

function dispatch(e: StreamEvent<Payload>, ctx: ApplyContext): void {
  const data = e.data ?? {};
  const me = currentUser;
  const toast = useToasts();
  switch (e.event) {
    case 'balance.updated':
      useAccounts().applyBalance(data as unknown as BalanceUpdated, me?.role === 'customer', !(ctx.replayed && freshStart));
      break;
    case 'transaction.posted': {
      const t = (data as unknown as TransactionEvent).transaction;
      if (!t) break;
      useAccounts().touchByNumber(t.fromAccountNumber, t.toAccountNumber);
      if (!ctx.replayed && me?.role === 'customer') announceTransaction(t);
      break;
    }
    case 'transaction.pending':
    case 'transaction.approved':
    case 'transaction.rejected':
    case 'transaction.cancelled': {
      const t = (data as unknown as TransactionEvent).transaction;
      if (!t) break;
      const kind = e.event.slice('transaction.'.length) as 'pending' | 'approved' | 'rejected' | 'cancelled';
      useApprovals().apply(kind, t);
      useAccounts().touchByNumber(t.fromAccountNumber, t.toAccountNumber);
      if (!ctx.replayed) {
        const amount = formatMoney(t.amount, t.currency);
        if (kind === 'cancelled') {
          // The maker cancelled it (and was told so on the spot); nobody else needs a toast.
        } else if (me?.role === 'customer' && kind !== 'pending') {
          // Both parties hear of the decision: only the sender asked for it; the payee just gets money.
          const accounts = useAccounts();
          const sender = !!accounts.byNumber(t.fromAccountNumber);
          const payee = !!accounts.byNumber(t.toAccountNumber);
          if (kind === 'approved') {
            if (payee && !sender) toast.push(`You received ${amount}.`, 'success');
            else toast.push(`${sender ? 'Your' : 'A'} ${t.kind} of ${amount} was approved.`, 'success');
          } else if (sender || !payee) {
            toast.push(`${sender ? 'Your' : 'A'} ${t.kind} of ${amount} was rejected; the held funds are released.`, 'warn');
          }
          markSurfaced('money');
        } else if (kind === 'pending' && useSession().atLeast('manager') && route.value.name !== 'staff-approvals') {
          toast.push(`${amount} ${t.kind} awaits approval.`, 'info', { href: href('/staff/approvals') });
        }
      }
      break;
    }
    case 'ticket.created':
    case 'ticket.updated': {
      const t = (data as unknown as TicketEvent).ticket;
      useTickets().applyTicket(t, { created: e.event === 'ticket.created', ownCustomerId: me?.customerId ?? null, replayed: ctx.replayed });
      if (t && !ctx.replayed && e.event === 'ticket.created' && me && me.role !== 'customer' && route.value.name !== 'staff-tickets') {
        toast.push(`New ticket #${t.id}: ${t.subject}`, 'info', { href: href(`/staff/tickets/${t.id}`) });
      }
      break;
    }
    case 'ticket.message': {
      const m = data as unknown as TicketMessageEvent;
      useTickets().applyMessage(m.ticketId, m.message, ctx.replayed);
      const viewing = Number(route.value.params.id) === m.ticketId && /ticket$/.test(route.value.name);
      if (!ctx.replayed && me && m.message && m.message.authorId !== me.id) {
        // Either the open thread shows it or the toast does; the reply's notification need not toast again.
        markSurfaced('ticket-message');
        if (!viewing) {
          const path = me.role === 'customer' ? `/tickets/${m.ticketId}` : `/staff/tickets/${m.ticketId}`;
          toast.push(`New message on ticket #${m.ticketId}`, 'info', { href: href(path) });
        }
      }
      break;
    }
    case 'announcement.published':
    case 'announcement.updated':
    case 'announcement.withdrawn': {
      const kind = e.event.slice('announcement.'.length) as 'published' | 'updated' | 'withdrawn';
      useAnnouncements().apply(kind, (data as unknown as AnnouncementEvent).announcement);
      break;
    }
    case 'notification': {
      const n = data as unknown as NotificationEvent;
      const added = useNotifications().apply(n, ctx.replayed);
      if (added && !ctx.replayed && !recentlySurfaced(NOTIFICATION_FAMILY[n.kind])) toast.push(n.title || 'New notification', 'info');
      break;
    }
    case 'presence.ticket': {
      const p = data as unknown as PresenceEvent;
      useTickets().applyPresence(p.ticketId, p.viewers);
      break;
    }
    case 'ticket.typing': {
      const t = data as unknown as TypingEvent;
      if (ctx.replayed || (me && t.userId === me.id)) break;
      useTickets().applyTyping(t.ticketId, t);
      break;
    }
    case 'session.revoked': {
      // A replayed revocation belongs to an earlier session; only a live one ends this one. Our own
      // sign-out revokes this session too: that one is expected, not news from another window.
      if (ctx.replayed || useSession().leaving || !useSession().user) break;
      const reason = (data as SessionRevoked).reason;
      useSession().end(`You were signed out${reason ? `: ${describeReason(reason)}` : '.'}`);
      break;
    }
  }
}

function announceTransaction(t: Transaction) {
  const accounts = useAccounts();
  const amount = formatMoney(t.amount, t.currency);
  const incoming = accounts.byNumber(t.toAccountNumber);
  const outgoing = accounts.byNumber(t.fromAccountNumber);
  let text: string | null = null;
  if (t.kind === 'transfer' && incoming && !outgoing) text = `You received ${amount}.`;
  else if (t.kind === 'deposit' && incoming) text = `${amount} was deposited.`;
  else if (t.kind === 'interest' && incoming) text = `Interest of ${amount} was credited.`;
  if (text) {
    useToasts().push(text, 'success');
    markSurfaced('money');
  }
}

function describeReason(reason: string): string {
  const known: Record<string, string> = {
    logout: 'you signed out in another window',
    password_changed: 'your password was changed',
    expired: 'your session expired',
    revoked: 'your session was revoked',
    deactivated: 'your user was deactivated',
  };
  return known[reason] ?? reason.replace(/_/g, ' ');
}
