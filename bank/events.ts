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

/** Appends an event to the outbox inside the caller's transaction. */
export async function recordEvent(t: Tx, type: string, to: Room[], data: Record<string, unknown>): Promise<number> {
  const unique = [...new Set(to)];
  const inserted = await t.q('events').insert({ type, payload: JSON.stringify(data), created_at: t.now }, ['seq']);
  const first = inserted[0] as unknown;
  const seq = typeof first === 'object' && first !== null ? (first as { seq: number }).seq : (first as number);
  if (unique.length) await t.q('event_rooms').insert(unique.map((room) => ({ seq, room })));
  t.seqs.push(seq);
  return seq;
}
