import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex, type Dialect } from '../../db/knex.js';
import { migrateLatest } from '../../db/migrate.js';

export const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  db: Knex;
  dialect: Dialect;
  /** DATABASE_URL for a server process that should share this database. */
  url: string;
  schema?: string;
  destroy(): Promise<void>;
}

/** A fresh, migrated database: a new SQLite file, or a new schema on the real PostgreSQL. */
export async function createTestDb(dialect: Dialect, opts: { migrate?: boolean; poolMax?: number } = {}): Promise<TestDb> {
  const id = crypto.randomBytes(5).toString('hex');
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-test-'));
    const url = `sqlite:${path.join(dir, 'bank.sqlite')}`;
    const db = createKnex({ url });
    if (opts.migrate !== false) await migrateLatest(db);
    return {
      db,
      dialect,
      url,
      async destroy() {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${id}`;
  const admin = createKnex({ url: PG_URL, poolMax: 1 });
  await admin.raw(`CREATE SCHEMA "${schema}"`);
  await admin.destroy();
  const db = createKnex({ url: PG_URL, schema, poolMax: opts.poolMax ?? 20 });
  if (opts.migrate !== false) await migrateLatest(db);
  return {
    db,
    dialect,
    schema,
    // application_name lets a fault test find (and kill) the server's own connections.
    url: `${PG_URL}?options=-c%20search_path%3D${schema}&application_name=${schema}`,
    async destroy() {
      await db.destroy();
      const cleanup = createKnex({ url: PG_URL, poolMax: 1 });
      await cleanup.raw(`DROP SCHEMA "${schema}" CASCADE`);
      await cleanup.destroy();
    },
  };
}

export const DIALECTS: Dialect[] = ['sqlite', 'pg'];
