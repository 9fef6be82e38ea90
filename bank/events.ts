import type { Tx } from './tx.js';

/**
 * Rooms name who may receive an event: user:<id>, session:<id>, customer:<id>,
 * account:<id>, ticket:<id>, staff, managers, all, customers.
 */
export type Room = string;

export const rooms = {
  user: (id: number) => `user:${id}`,
  session: (id: number) => `session:${id}`,
  customer: (id: number) => `customer:${id}`,
  account: (id: number) => `account:${id}`,
  ticket: (id: number) => `ticket:${id}`,
  staff: 'staff',
  managers: 'managers',
  all: 'all',
  customers: 'customers',
} as const;

export interface PendingEvent {
  type: string;
  rooms: Room[];
  data: Record<string, unknown>;
  /** Set when written: its outbox seq and recorded time (the commit signal carries both). */
  seq?: number;
  at?: string;
}

/**
 * Adds an event to the caller's transaction. Events are written to the outbox together,
 * in one statement, when the transaction's work is done (withTx), so a transaction that
 * touches many rooms costs two inserts, and seqs are taken as late as possible before
 * commit (which narrows the window in which PostgreSQL commits them out of order).
 */
export function recordEvent(t: Tx, type: string, to: Room[], data: Record<string, unknown>): void {
  t.events.push({ type, rooms: [...new Set(to)], data });
}

// SQLite caps a compound SELECT (knex's multi-row insert there) at 500 terms.
const CHUNK = 250;

/** Writes events to the outbox now and returns their seqs (withTx flushes through this). */
export async function writeEvents(t: Tx, events: PendingEvent[]): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < events.length; i += CHUNK) {
    const chunk = events.slice(i, i + CHUNK);
    const inserted = await t.q('events').insert(chunk.map((e) => ({ type: e.type, payload: JSON.stringify(e.data), created_at: t.now })), ['seq']);
    // Serial keys are handed out in VALUES order, whatever order RETURNING lists them in.
    const got = (inserted as unknown[]).map((r) => (typeof r === 'object' && r !== null ? (r as { seq: number }).seq : (r as number))).sort((x, y) => x - y);
    chunk.forEach((e, j) => Object.assign(e, { seq: got[j], at: t.now }));
    const roomRows = chunk.flatMap((e, j) => e.rooms.map((room) => ({ seq: got[j], room })));
    for (let k = 0; k < roomRows.length; k += CHUNK) await t.q('event_rooms').insert(roomRows.slice(k, k + CHUNK));
    seqs.push(...got);
  }
  t.seqs.push(...seqs);
  return seqs;
}
