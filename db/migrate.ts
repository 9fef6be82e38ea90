import type { Knex } from 'knex';
import * as m0001 from './migrations/0001_bank.js';
import * as m0002 from './migrations/0002_agenda_jobs.js';
import * as m0003 from './migrations/0003_jobs.js';
import * as m0004 from './migrations/0004_audit_heads.js';
import * as m0006 from './migrations/0006_security.js';
import * as m0007 from './migrations/0007_everyday_banking.js';
import * as m0008 from './migrations/0008_desk_webhooks.js';
import * as m0009 from './migrations/0009_cancelled_transactions.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Migrations are imported, not discovered on disk, so they run the same under tsx, vitest
// and a bundled build.
const MIGRATIONS: Record<string, Migration> = {
  '0001_bank': m0001,
  '0002_agenda_jobs': m0002,
  '0003_jobs': m0003,
  '0004_audit_heads': m0004,
  '0006_security': m0006,
  '0007_everyday_banking': m0007,
  '0008_desk_webhooks': m0008,
  '0009_cancelled_transactions': m0009,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, names] = await db.migrate.latest({ migrationSource: source });
  return names as string[];
}

export async function migrateRollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource: source }, true);
}
