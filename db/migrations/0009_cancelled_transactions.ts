import type { Knex } from 'knex';

// A maker may cancel their own transfer while it waits for approval: transactions.status
// gains 'cancelled'.
const OLD_STATUSES = ['posted', 'pending_approval', 'rejected'];
const NEW_STATUSES = [...OLD_STATUSES, 'cancelled'];
const list = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Replaces the allowed values of transactions.status. PostgreSQL drops and re-adds the named
 * constraint. SQLite cannot alter a CHECK, so the table is rebuilt from its own definition with
 * only the status list changed: rows parked in a copy, table re-created, rows and indexes back.
 * Foreign keys naming it are checked at commit (defer_foreign_keys), when every row is back.
 */
async function setStatuses(knex: Knex, to: string[]): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      `ALTER TABLE transactions DROP CONSTRAINT transactions_status_check, ADD CONSTRAINT transactions_status_check CHECK (status in (${list(to)}))`,
    );
    return;
  }
  const table = await knex('sqlite_master').where({ type: 'table', name: 'transactions' }).first('sql');
  const check = /(transactions_status_check[`"]?\s+CHECK\s*\(\s*[`"]?status[`"]?\s+in\s*\()([^)]*)(\))/i;
  if (!check.test(String(table.sql))) throw new Error('transactions.status check not found');
  const indexes: string[] = (
    await knex('sqlite_master').where({ type: 'index', tbl_name: 'transactions' }).whereNotNull('sql').select('sql')
  ).map((r) => r.sql);
  await knex.raw('PRAGMA defer_foreign_keys = ON');
  await knex.raw('CREATE TABLE transactions_0009 AS SELECT * FROM transactions');
  await knex.raw('DROP TABLE transactions');
  await knex.raw(String(table.sql).replace(check, `$1${list(to)}$3`));
  await knex.raw('INSERT INTO transactions SELECT * FROM transactions_0009');
  await knex.raw('DROP TABLE transactions_0009');
  for (const sql of indexes) await knex.raw(sql);
}

export async function up(knex: Knex): Promise<void> {
  await setStatuses(knex, NEW_STATUSES);
}

export async function down(knex: Knex): Promise<void> {
  // A cancelled transfer released its hold and moved nothing: as a rejection it means the same.
  await knex('transactions').where({ status: 'cancelled' }).update({ status: 'rejected' });
  await setStatuses(knex, OLD_STATUSES);
}
