import { createKnex } from './knex.js';

/** The advisory lock every process (and the migration step) takes to prepare the database. */
export const PREPARE_LOCK = [7271, 1] as const;

/**
 * Pods of one deployment start together on a fresh database: migrations, the bank's own
 * accounts, the admin and the demo data are prepared by one process at a time (a
 * PostgreSQL advisory lock held on a connection of its own), so none of them races.
 * SQLite has one process by design and needs no lock.
 */
export async function oneAtATime<T>(url: string, fn: () => Promise<T>): Promise<T> {
  if (!url.startsWith('postgres')) return fn();
  const lock = createKnex({ url, poolMax: 1 });
  try {
    return await lock.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [...PREPARE_LOCK]);
      return fn();
    });
  } finally {
    await lock.destroy();
  }
}
