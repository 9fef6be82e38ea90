import type { Knex } from 'knex';
import type { OutboxEvent as EventModel, Row } from '../../db/models.js';

// Reading the outbox (events and their rooms): the hub's publisher and relay, the `sync`
// replay and GET /events, and the webhook dispatcher all read events the same way.

/** One outbox row with its audience, ready to emit. */
export interface OutboxEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  /** When it was recorded: the `at` of the payload. */
  createdAt: string;
  rooms: string[];
}

/** An events row as the outbox readers select it. */
export type EventRow = Pick<Row<EventModel>, 'seq' | 'type' | 'payload' | 'created_at'>;

/** What clients receive: the event's data plus `seq` and `at`. */
export const payloadOf = (e: OutboxEvent): Record<string, unknown> => ({ ...e.data, seq: e.seq, at: e.createdAt });

export const OUTBOX_CHUNK = 500;
const CHUNK = OUTBOX_CHUNK;

export async function withRooms(db: Knex, rows: EventRow[]): Promise<OutboxEvent[]> {
  const bySeq = new Map<number, string[]>();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const seqs = rows.slice(i, i + CHUNK).map((r) => Number(r.seq));
    for (const r of await db('event_rooms').whereIn('seq', seqs).select('seq', 'room')) {
      const list = bySeq.get(Number(r.seq)) ?? [];
      list.push(r.room);
      bySeq.set(Number(r.seq), list);
    }
  }
  return rows.map((r) => toEvent(r, bySeq.get(Number(r.seq)) ?? [])).sort((a, b) => a.seq - b.seq);
}

function toEvent(r: EventRow, rooms: string[]): OutboxEvent {
  let data: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(r.payload);
    if (parsed && typeof parsed === 'object') data = parsed;
  } catch {
    // A corrupt payload still carries its seq and type, so clients keep counting.
  }
  return { seq: Number(r.seq), type: r.type, data, createdAt: r.created_at, rooms };
}

/** Events with their rooms in one round trip (this is on the live path's clock). */
export async function loadEvents(db: Knex, seqs: number[]): Promise<OutboxEvent[]> {
  const rows: EventRow[] = [];
  const bySeq = new Map<number, string[]>();
  for (let i = 0; i < seqs.length; i += CHUNK) {
    const joined = await db('events as e')
      .leftJoin('event_rooms as r', 'r.seq', 'e.seq')
      .whereIn('e.seq', seqs.slice(i, i + CHUNK))
      .select('e.seq', 'e.type', 'e.payload', 'e.created_at', 'r.room');
    for (const j of joined) {
      const seq = Number(j.seq);
      let list = bySeq.get(seq);
      if (!list) {
        bySeq.set(seq, (list = []));
        rows.push(j);
      }
      if (j.room !== null) list.push(j.room);
    }
  }
  return rows.map((r) => toEvent(r, bySeq.get(Number(r.seq)) ?? [])).sort((a, b) => a.seq - b.seq);
}

/** Events published at or after `fromIso`, oldest first (the index on published_at serves it). */
export async function loadPublishedSince(db: Knex, fromIso: string, limit: number): Promise<OutboxEvent[]> {
  const rows = await db<EventRow>('events')
    .where('published_at', '>=', fromIso)
    .orderBy('seq')
    .limit(limit)
    .select('seq', 'type', 'payload', 'created_at');
  return withRooms(db, rows);
}

/** Committed events not yet published (the outbox backlog). */
export async function unpublishedCount(db: Knex): Promise<number> {
  const [{ n }] = await db('events').whereNull('published_at').count({ n: '*' });
  return Number(n);
}
