import type { EventRoom, RecordedEventName, RoomName, ServerEvents } from '../../shared/events.js';
import type { Tx } from '../core/db-tx.js';
import { fastSql, type Table } from '../../db/fast.js';

/**
 * Rooms name who may receive an event: user:<id>, session:<id>, customer:<id>,
 * account:<id>, ticket:<id>, staff, managers, all, customers (RoomName in shared/events.ts;
 * stored and read back as plain strings).
 */
export type Room = string;

export const rooms = {
  user: (id: number): RoomName<'user'> => `user:${id}`,
  session: (id: number): RoomName<'session'> => `session:${id}`,
  customer: (id: number): RoomName<'customer'> => `customer:${id}`,
  account: (id: number): RoomName<'account'> => `account:${id}`,
  ticket: (id: number): RoomName<'ticket'> => `ticket:${id}`,
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
 * Adds an event to the caller's transaction. Its name, payload and rooms are checked against
 * its one definition in shared/events.ts (ServerEvents, EventAudience), which the web client
 * reads too. Events are written to the outbox together, in one statement, when the
 * transaction's work is done (withTx), so a transaction that touches many rooms costs two
 * inserts, and seqs are taken as late as possible before commit (which narrows the window in
 * which PostgreSQL commits them out of order).
 */
export function recordEvent<E extends RecordedEventName>(t: Tx, type: E, to: readonly EventRoom<E>[], data: ServerEvents[E]): void {
  t.events.push({ type, rooms: [...new Set(to)], data });
}

const EVENTS: Table = {
  name: 'events',
  key: 'seq',
  columns: [
    ['type', 'text'],
    ['payload', 'text'],
    ['created_at', 'text'],
  ],
};
const EVENT_ROOMS: Table = {
  name: 'event_rooms',
  columns: [
    ['seq', 'bigint'],
    ['room', 'text'],
  ],
};

/** Writes events to the outbox now and returns their seqs (withTx flushes through this). */
export async function writeEvents(t: Tx, events: PendingEvent[]): Promise<number[]> {
  const fast = await fastSql(t.q);
  const seqs = await fast.insert(
    EVENTS,
    events.map((e) => [e.type, JSON.stringify(e.data), t.now]),
  );
  events.forEach((e, j) => Object.assign(e, { seq: seqs[j], at: t.now }));
  await fast.insert(
    EVENT_ROOMS,
    events.flatMap((e, j) => e.rooms.map((room) => [seqs[j], room])),
  );
  t.seqs.push(...seqs);
  return seqs;
}
