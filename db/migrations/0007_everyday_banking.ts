import type { Knex } from 'knex';

// Everyday banking: self-service freeze, payees (and the look-ups that confirm them),
// standing orders and their runs, balance alerts, reversals.
// Timestamps are ISO 8601 UTC strings and dates 'YYYY-MM-DD', as in 0001.
const ts = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 30);

function check(t: Knex.CreateTableBuilder, column: string, values: readonly string[], name: string) {
  t.check(`?? in (${values.map(() => '?').join(', ')})`, [column, ...values], name);
}

const OLD_KINDS = ['deposit', 'withdrawal', 'transfer', 'interest'];
const NEW_KINDS = [...OLD_KINDS, 'reversal'];
const kindList = (kinds: string[]) => kinds.map((k) => `'${k}'`).join(', ');

/**
 * Replaces the allowed values of transactions.kind. PostgreSQL drops and re-adds the named
 * constraint. SQLite cannot alter a CHECK (and editing the schema table is refused in
 * defensive mode), so the table is rebuilt with the same definition but the kind list:
 * rows are parked in a copy, the table is dropped and re-created, the rows come back and the
 * indexes are re-made. Foreign keys pointing at it (entries, runs, accruals) are checked at
 * commit (defer_foreign_keys), when every row they name is back. Only the kind list changes,
 * so another migration editing another check composes with this one.
 */
async function setKinds(knex: Knex, to: string[]): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      `ALTER TABLE transactions DROP CONSTRAINT transactions_kind_check, ADD CONSTRAINT transactions_kind_check CHECK (kind in (${kindList(to)}))`,
    );
    return;
  }
  const table = await knex('sqlite_master').where({ type: 'table', name: 'transactions' }).first('sql');
  const check = /(transactions_kind_check[`"]?\s+CHECK\s*\(\s*[`"]?kind[`"]?\s+in\s*\()([^)]*)(\))/i;
  if (!check.test(String(table.sql))) throw new Error('transactions.kind check not found');
  const indexes: string[] = (
    await knex('sqlite_master').where({ type: 'index', tbl_name: 'transactions' }).whereNotNull('sql').select('sql')
  ).map((r) => r.sql);
  await knex.raw('PRAGMA defer_foreign_keys = ON');
  await knex.raw('CREATE TABLE transactions_0007 AS SELECT * FROM transactions');
  await knex.raw('DROP TABLE transactions');
  await knex.raw(String(table.sql).replace(check, `$1${kindList(to)}$3`));
  await knex.raw('INSERT INTO transactions SELECT * FROM transactions_0007');
  await knex.raw('DROP TABLE transactions_0007');
  for (const sql of indexes) await knex.raw(sql);
}

export async function up(knex: Knex): Promise<void> {
  // Who froze an account: the customer (lifts it themselves; money may still come in) or the
  // bank (only staff lift it). NULL unless frozen; a freeze made before this column is the bank's.
  await knex.schema.alterTable('accounts', (t) => {
    t.string('frozen_by', 16);
    // How many balance alerts the account has: a posting to an account without any (nearly
    // all) looks no further, so alerts cost the ledger's hot path nothing.
    t.integer('alert_count').notNullable().defaultTo(0);
  });
  await knex('accounts').where({ status: 'frozen' }).update({ frozen_by: 'bank' });

  await knex.schema.createTable('payees', (t) => {
    t.increments('id').primary();
    t.integer('customer_id').notNullable().references('customers.id');
    t.integer('account_id').notNullable().references('accounts.id');
    t.string('nickname', 60).notNullable();
    t.integer('created_by').references('users.id');
    ts(t, 'created_at').notNullable();
    t.unique(['customer_id', 'account_id']);
  });

  // Every confirmation-of-payee look-up, so the rate limit holds across pods and a harvesting
  // attempt leaves a trace. Old rows are removed by the cleanup job.
  await knex.schema.createTable('payee_lookups', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').notNullable().references('users.id');
    t.string('account_number', 12).notNullable();
    t.boolean('found').notNullable();
    ts(t, 'at').notNullable();
    t.index(['user_id', 'at']);
    t.index(['at']);
  });

  await knex.schema.createTable('standing_orders', (t) => {
    t.increments('id').primary();
    t.integer('from_account_id').notNullable().references('accounts.id');
    t.integer('to_account_id').notNullable().references('accounts.id');
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.string('memo', 500).notNullable().defaultTo('');
    t.string('frequency', 16).notNullable();
    t.string('start_date', 10).notNullable();
    t.string('end_date', 10);
    // The day of the month a monthly order is paid on (the month's last day when shorter).
    t.integer('day_of_month').notNullable();
    t.string('next_run_date', 10);
    t.string('status', 16).notNullable().defaultTo('active');
    t.integer('created_by').references('users.id');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    check(t, 'frequency', ['once', 'daily', 'weekly', 'monthly'], 'standing_orders_frequency_check');
    check(t, 'status', ['active', 'paused', 'cancelled', 'completed'], 'standing_orders_status_check');
    t.check('?? > 0', ['amount'], 'standing_orders_amount_check');
    t.index(['status', 'next_run_date']);
    t.index(['from_account_id']);
  });

  // One row per order and date: the unique key is what makes a run happen exactly once.
  await knex.schema.createTable('standing_order_runs', (t) => {
    t.bigIncrements('id').primary();
    t.integer('standing_order_id').notNullable().references('standing_orders.id');
    t.string('date', 10).notNullable();
    t.string('status', 24).notNullable();
    t.bigInteger('transaction_id').references('transactions.id');
    t.string('error_code', 40);
    t.string('error_message', 500);
    ts(t, 'created_at').notNullable();
    t.unique(['standing_order_id', 'date']);
    check(t, 'status', ['posted', 'pending_approval', 'failed'], 'standing_order_runs_status_check');
  });

  await knex.schema.createTable('balance_alerts', (t) => {
    t.increments('id').primary();
    t.integer('account_id').notNullable().references('accounts.id');
    t.string('kind', 16).notNullable();
    t.bigInteger('threshold').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('created_by').references('users.id');
    ts(t, 'last_triggered_at');
    ts(t, 'created_at').notNullable();
    check(t, 'kind', ['balance_below', 'balance_above', 'debit_over', 'credit_over'], 'balance_alerts_kind_check');
    t.index(['account_id', 'active']);
  });

  // A reversal names the transaction it reverses; the reversed one names its posted reversal.
  // Plain ADD COLUMN on SQLite too (knex would copy the whole table to add a foreign key).
  if (knex.client.config.client === 'pg') {
    await knex.schema.alterTable('transactions', (t) => {
      t.bigInteger('reversal_of').references('transactions.id');
      t.bigInteger('reversed_by').references('transactions.id');
    });
  } else {
    await knex.raw('ALTER TABLE transactions ADD COLUMN reversal_of bigint REFERENCES transactions (id)');
    await knex.raw('ALTER TABLE transactions ADD COLUMN reversed_by bigint REFERENCES transactions (id)');
  }
  // At most one live reversal (awaiting approval or posted) per transaction, on both databases.
  await knex.raw(
    `CREATE UNIQUE INDEX transactions_one_live_reversal ON transactions (reversal_of) WHERE status IN ('pending_approval', 'posted')`,
  );
  await setKinds(knex, NEW_KINDS);
}

export async function down(knex: Knex): Promise<void> {
  await knex('transactions').where({ kind: 'reversal' }).update({ reversal_of: null });
  await knex.raw('DROP INDEX IF EXISTS transactions_one_live_reversal');
  await knex.schema.alterTable('transactions', (t) => {
    t.dropColumn('reversal_of');
    t.dropColumn('reversed_by');
  });
  await setKinds(knex, OLD_KINDS);
  for (const table of ['balance_alerts', 'standing_order_runs', 'standing_orders', 'payee_lookups', 'payees'])
    await knex.schema.dropTableIfExists(table);
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('frozen_by');
    t.dropColumn('alert_count');
  });
}
