// The one Socket.IO connection. Every server event goes through an EventSequencer (seq.ts), which
// applies it exactly once and in order; on every connect/reconnect we `sync` from the last seq
// seen (kept per user in localStorage) so nothing committed while we were away is missed.

import { io, type Socket } from 'socket.io-client';
import * as api from './api';
import { ApiError } from './api';
import { SERVER_EVENT_NAMES, deliver, forgetSurfaced, isServerEventName, type ServerEvent, type ServerEventName } from './events';
import {
  EventSequencer,
  SeqTracker,
  isSeq,
  parseStoredSeq,
  seqStorageKey,
  type ApplyContext,
  type StreamEvent,
  type SyncAnswer,
} from './seq';
import { readStorage, writeStorage } from './storage';
import { useAccounts } from './stores/accounts';
import { useAnnouncements } from './stores/announcements';
import { useApprovals } from './stores/approvals';
import { useConnection } from './stores/connection';
import { useNotifications } from './stores/notifications';
import { useSession } from './stores/session';
import { useTickets } from './stores/tickets';
import { useStandingOrders } from './everyday';
import type { User } from './types';

const ACK_TIMEOUT_MS = 15_000;
const TYPING_THROTTLE_MS = 2_500;

/**
 * An event's payload off the wire (live or from `sync`). It is taken to be what shared/events.ts
 * defines for its name (the server records and sends exactly that); it is not validated again.
 */
type Payload = ServerEvent<ServerEventName>;

/** Its place in the stream; the ephemeral events (presence, typing) have none. */
const seqOf = (data: Payload): number => ('seq' in data && isSeq(data.seq) ? data.seq : NaN);

let socket: Socket | null = null;
let sequencer: EventSequencer<Payload> | null = null;
let syncRetry: ReturnType<typeof setTimeout> | null = null;
let authRetry: ReturnType<typeof setTimeout> | null = null;
/** No seq remembered in this browser: the first sync replays history, which is not news worth highlighting. */
let freshStart = false;
/** Tickets the open views are watching (ticketId → number of views): re-watched after every reconnect. */
const watched = new Map<number, number>();
/** Accounts staff views are watching for live balances (accountId → number of views). */
const watchedAccounts = new Map<number, number>();
const typingSentAt = new Map<number, number>();

export function isLive(): boolean {
  return !!socket?.connected;
}

export function startLive(user: User, token: string | null): void {
  stopLive();
  // The stores that own server events register their handlers when first used: make sure they exist.
  useAccounts();
  useAnnouncements();
  useApprovals();
  useNotifications();
  useTickets();
  useStandingOrders();
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
    for (const accountId of watchedAccounts.keys()) emitQuiet('account.watch', { accountId });
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

  for (const name of SERVER_EVENT_NAMES) {
    s.on(name, (payload: Payload | null | undefined) => {
      if (socket !== s || !sequencer || !payload || typeof payload !== 'object') return;
      const event: StreamEvent<Payload> = { seq: seqOf(payload), event: name, data: payload };
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
  watchedAccounts.clear();
  typingSentAt.clear();
  forgetSurfaced();
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

/** Counts the views watching each id; the hub is told on the first watch and the last unwatch. */
function refCounted(map: Map<number, number>, watchCmd: string, unwatchCmd: string, key: string) {
  return {
    watch(id: number): void {
      const n = map.get(id) ?? 0;
      map.set(id, n + 1);
      if (n === 0) emitQuiet(watchCmd, { [key]: id });
    },
    unwatch(id: number): void {
      const n = map.get(id) ?? 0;
      if (n <= 1) {
        map.delete(id);
        if (n === 1) emitQuiet(unwatchCmd, { [key]: id });
      } else map.set(id, n - 1);
    },
  };
}

const ticketWatch = refCounted(watched, 'ticket.watch', 'ticket.unwatch', 'ticketId');
const accountWatch = refCounted(watchedAccounts, 'account.watch', 'account.unwatch', 'accountId');

/** Watch a ticket while a view shows it (joins its room, shows up in presence). */
export const watchTicket = ticketWatch.watch;
export const unwatchTicket = ticketWatch.unwatch;
/** Staff: an account's balance live while a view shows it (customers get their own anyway). */
export const watchAccount = accountWatch.watch;
export const unwatchAccount = accountWatch.unwatch;

/** Call on every keystroke; emits `ticket.typing` at most once per throttle window. */
export function sendTyping(ticketId: number): void {
  const now = Date.now();
  const last = typingSentAt.get(ticketId) ?? 0;
  if (now - last < TYPING_THROTTLE_MS) return;
  typingSentAt.set(ticketId, now);
  const s = socket;
  if (s?.connected) s.emit('ticket.typing', { ticketId }, () => undefined);
}

// ---- handing events to the stores (each registers what it does: see events.ts) ----

function dispatch(e: StreamEvent<Payload>, ctx: ApplyContext): void {
  // A name this client does not know (a newer server) or an empty payload: nobody handles it.
  if (!isServerEventName(e.event) || !e.data) return;
  deliver(e.event, e.data, { replayed: ctx.replayed, firstSync: freshStart });
}
