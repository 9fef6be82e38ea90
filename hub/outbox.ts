import type { Knex } from 'knex';
import type { BankContext } from '../bank/context.js';

/** One outbox row with its audience, ready to emit. */
export interface OutboxEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  /** When it was recorded: the `at` of the payload. */
  createdAt: string;
  rooms: string[];
}

interface EventRow {
  seq: number;
  type: string;
  payload: string;
  created_at: string;
}

/** What clients receive: the event's data plus `seq` and `at`. */
export const payloadOf = (e: OutboxEvent): Record<string, unknown> => ({ ...e.data, seq: e.seq, at: e.createdAt });

const CHUNK = 500;

async function withRooms(db: Knex, rows: EventRow[]): Promise<OutboxEvent[]> {
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
    const joined = await db('events as e').leftJoin('event_rooms as r', 'r.seq', 'e.seq').whereIn('e.seq', seqs.slice(i, i + CHUNK))
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

/** Marks rows published, unless another path (the relay) already did. */
export async function markPublished(db: Knex, seqs: number[], at: string): Promise<void> {
  for (let i = 0; i < seqs.length; i += CHUNK) {
    await db('events').whereIn('seq', seqs.slice(i, i + CHUNK)).whereNull('published_at').update({ published_at: at });
  }
}

/** Gives claimed rows back to the relay (their emit did not reach Redis). */
export async function unclaim(db: Knex, seqs: number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += CHUNK) {
    await db('events').whereIn('seq', seqs.slice(i, i + CHUNK)).update({ published_at: null });
  }
}

/**
 * Claims up to `limit` events left unpublished since before `olderThan`, marking them
 * published in the same statement, so several pods relaying at once never claim the same
 * row: PostgreSQL skips rows another claimer holds; SQLite has one writer at a time.
 */
export async function claimStale(bank: BankContext, olderThan: string, now: string, limit: number): Promise<OutboxEvent[]> {
  const { db } = bank;
  const probe = await db('events').whereNull('published_at').where('created_at', '<', olderThan).first('seq');
  if (!probe) return [];
  let rows: EventRow[];
  if (bank.dialect === 'pg') {
    const res = await db.raw(
      `UPDATE events SET published_at = ?
        WHERE seq IN (SELECT seq FROM events WHERE published_at IS NULL AND created_at < ?
                      ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING seq, type, payload, created_at`,
      [now, olderThan, limit],
    );
    rows = res.rows as EventRow[];
  } else {
    rows = await db.transaction(async (q) => {
      await q.raw('UPDATE branches SET id = id WHERE 0'); // take the write lock first (see bank/tx.ts)
      const found = await q<EventRow>('events').whereNull('published_at').where('created_at', '<', olderThan)
        .orderBy('seq').limit(limit).select('seq', 'type', 'payload', 'created_at');
      if (found.length) await q('events').whereIn('seq', found.map((r) => r.seq)).update({ published_at: now });
      return found;
    });
  }
  return withRooms(db, rows);
}

/** Events published at or after `fromIso`, oldest first (the index on published_at serves it). */
export async function loadPublishedSince(db: Knex, fromIso: string, limit: number): Promise<OutboxEvent[]> {
  const rows = await db<EventRow>('events').where('published_at', '>=', fromIso).orderBy('seq').limit(limit)
    .select('seq', 'type', 'payload', 'created_at');
  return withRooms(db, rows);
}
