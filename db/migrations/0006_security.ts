import type { Knex } from 'knex';
import { dialectOf } from '../knex.js';

/**
 * Sign-in hardening (issue 9):
 *  - users.totp_last_step: the RFC 6238 time step of the last accepted code, so a code is
 *    accepted once (a code of that step or an earlier one is refused);
 *  - users.totp_recovery_codes: JSON array of SHA-256 hashes of the unused recovery codes;
 *  - users.totp_secret grows to hold the AES-256-GCM sealed secret ("v1:<base64url>");
 *  - login_throttles: failed sign-ins counted per (username as typed, client address), so a
 *    lock stops one address guessing one username without locking the user out elsewhere,
 *    and an unknown username is answered exactly as a known one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.bigInteger('totp_last_step');
    t.text('totp_recovery_codes');
  });
  // SQLite does not enforce varchar lengths; PostgreSQL does.
  if (dialectOf(knex) === 'pg') await knex.raw('ALTER TABLE users ALTER COLUMN totp_secret TYPE varchar(255)');

  await knex.schema.createTable('login_throttles', (t) => {
    t.bigIncrements('id').primary();
    t.string('username', 64).notNullable();
    t.string('ip', 64).notNullable();
    t.integer('failures').notNullable().defaultTo(0);
    /** Locks so far in this run of failures: each lasts twice as long as the one before. */
    t.integer('locks').notNullable().defaultTo(0);
    t.string('locked_until', 30);
    t.string('updated_at', 30).notNullable();
    t.unique(['username', 'ip']);
    t.index(['updated_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_throttles');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('totp_last_step');
    t.dropColumn('totp_recovery_codes');
  });
}
