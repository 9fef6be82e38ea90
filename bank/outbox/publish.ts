import type { Knex } from 'knex';
import type { BankContext } from '../core/context.js';
import { withTx } from '../core/db-tx.js';
import { OUTBOX_CHUNK as CHUNK, type EventRow, type OutboxEvent, withRooms } from './read.js';

// Publishing the outbox: the hub's publisher marks what it emitted, the relay claims what
// stayed unpublished. Reading events lives in outbox-read.ts.

/** Marks rows published, unless another path (the relay) already did. */
export async function markPublished(db: Knex, seqs: number[], at: string): Promise<void> {
  for (let i = 0; i < seqs.length; i += CHUNK) {
    await db('events')
      .whereIn('seq', seqs.slice(i, i + CHUNK))
      .whereNull('published_at')
      .update({ published_at: at });
  }
}

/** Gives claimed rows back to the relay (their emit did not reach Redis). */
export async function unclaim(db: Knex, seqs: number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += CHUNK) {
    await db('events')
      .whereIn('seq', seqs.slice(i, i + CHUNK))
      .update({ published_at: null });
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
    // withTx: the write lock is taken first, waiting on timers (not the event loop).
    rows = await withTx(bank, async ({ q }) => {
      const found = await q<EventRow>('events')
        .whereNull('published_at')
        .where('created_at', '<', olderThan)
        .orderBy('seq')
        .limit(limit)
        .select('seq', 'type', 'payload', 'created_at');
      if (found.length)
        await q('events')
          .whereIn(
            'seq',
            found.map((r) => r.seq),
          )
          .update({ published_at: now });
      return found;
    });
  }
  return withRooms(db, rows);
}
