import type { Knex } from 'knex';
import type { BankContext } from '../core/context.js';
import { loadEvents, payloadOf } from './read.js';
import type { Actor } from '../core/context.js';
import { rooms as ROOMS } from './events.js';
import { isStaffRole } from '../access/permissions.js';

// The event feed: what a session may receive, and the replay of it from the database. The
// socket's `sync` (hub/commands.ts) and GET /events (rest/routes/events.ts) both answer from
// here, so the two cannot disagree about who sees what.

export const SYNC_PAGE = 1_000;

/**
 * The audience rules: the rooms a session belongs to.
 *  - everyone: its own user:<id> and session:<id>, and `all`;
 *  - customers: customer:<their customer id> and `customers`;
 *  - staff: `staff`, and `managers` for managers and admins.
 * Ticket and account rooms are joined only by a socket's watch command, after an access check.
 */
export function sessionRooms(d: { userId: number; sessionId: number; role: string; customerId: number | null }): string[] {
  const out: string[] = [ROOMS.user(d.userId), ROOMS.session(d.sessionId), ROOMS.all];
  if (d.role === 'customer') {
    if (d.customerId !== null) out.push(ROOMS.customer(d.customerId));
    out.push(ROOMS.customers);
  } else if (isStaffRole(d.role)) {
    out.push(ROOMS.staff);
    if (d.role === 'manager' || d.role === 'admin') out.push(ROOMS.managers);
  }
  return out;
}

/** The rooms of a signed-in actor's session (REST callers: nothing watched). */
export function actorRooms(actor: Actor): string[] {
  if (actor.userId === null || actor.sessionId == null) return [];
  return sessionRooms({ userId: actor.userId, sessionId: actor.sessionId, role: actor.role, customerId: actor.customerId });
}

/**
 * On PostgreSQL seqs are taken when a transaction inserts its event, not when it commits:
 * seq 10 may become visible after seq 11. A client that saw 11 (live, or as `upTo`) and
 * asks `since: 11` would never be sent 10. So each sync also looks back below `since`:
 * every entitled event with seq in (since - LOOKBACK_SEQS, since] that was published
 * after — or is still unpublished since — the moment the client's `since` event was
 * recorded (its created_at, minus a margin for clock skew between pods).
 *
 * Why that is enough: an event L < S the client has not seen commits after the client
 * learnt of S, so after S committed, so after S's created_at (taken when S's transaction
 * started). L is marked published only after it committed. Hence published_at(L) >
 * created_at(S), or L is not yet published: the look-back finds it.
 *
 * The look-back returns a few events the client already has: clients de-duplicate by
 * seq (API.md), and the web client remembers seen seqs within a window below its highest.
 * SQLite has one writer at a time, so there seq order is commit order and no look-back is
 * needed.
 */
const LOOKBACK_SEQS = 2_000;
const LOOKBACK_MAX = 200;
const SKEW_MARGIN_MS = 5_000;

export interface SyncAnswer {
  events: { seq: number; event: string; data: Record<string, unknown> }[];
  upTo: number;
}

/** Entitled seqs in (after, upTo], oldest first, from the rooms index. */
function roomSeqs(db: Knex, rooms: string[], after: number, upTo: number, limit: number) {
  return db('event_rooms')
    .distinct('seq')
    .whereIn('room', rooms)
    .where('seq', '>', after)
    .where('seq', '<=', upTo)
    .orderBy('seq')
    .limit(limit);
}

async function lateSeqs(bank: BankContext, rooms: string[], since: number): Promise<number[]> {
  if (bank.dialect !== 'pg' || since <= 0) return [];
  const { db } = bank;
  const ref = await db('events').where({ seq: since }).first('created_at');
  const refMs = ref ? Date.parse(ref.created_at) : bank.now().getTime();
  const cutoff = new Date(refMs - SKEW_MARGIN_MS).toISOString();
  const rows = await db('events as e')
    .select('e.seq')
    .where('e.seq', '>', Math.max(0, since - LOOKBACK_SEQS))
    .where('e.seq', '<=', since)
    .where((q) => q.whereNull('e.published_at').orWhere('e.published_at', '>=', cutoff))
    .whereExists(db('event_rooms as r').select(db.raw('1')).whereRaw('r.seq = e.seq').whereIn('r.room', rooms))
    .orderBy('e.seq')
    .limit(LOOKBACK_MAX);
  return rows.map((r) => Number(r.seq));
}

/**
 * Every event for `rooms` after `since`, from the database (the source of truth), oldest
 * first, at most `limit` (SYNC_PAGE). `upTo` is the seq to ask from next: the last event returned
 * when the page is full, otherwise the highest seq that existed when the sync began
 * (everything up to it was considered; late commits below it are found by the look-back).
 */
export async function syncEvents(bank: BankContext, rooms: string[], since: number, limit = SYNC_PAGE): Promise<SyncAnswer> {
  const { db } = bank;
  if (!rooms.length) return { events: [], upTo: since };
  const top = await db('events').max({ m: 'seq' }).first();
  const max = Number(top?.m ?? 0);
  // A `since` beyond every seq comes from another database (or a forged number): nothing to send.
  if (since > max) return { events: [], upTo: max };
  const late = (await lateSeqs(bank, rooms, since)).slice(0, Math.max(0, limit - 1));
  const room = limit - late.length;
  const fresh = (await roomSeqs(db, rooms, since, max, room)).map((r) => Number(r.seq));
  const events = await loadEvents(db, [...late, ...fresh]);
  const full = fresh.length >= room;
  return {
    events: events.map((e) => ({ seq: e.seq, event: e.type, data: payloadOf(e) })),
    upTo: full ? fresh[fresh.length - 1] : max,
  };
}
