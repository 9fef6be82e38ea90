import type { Knex } from 'knex';

// Storage for the background jobs (jobs/, bank/ledger/interest.ts, bank/notifications/mail-collect.ts, mail-deliver.ts).
// Timestamps are ISO 8601 UTC strings and dates 'YYYY-MM-DD', as in 0001.
const ts = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 30);

export async function up(knex: Knex): Promise<void> {
  // One row per account and month once its interest is settled: what was accrued, the
  // fraction carried in from the month before, the whole minor units posted and the
  // fraction carried on. The row is the "done" mark: a month with a row is never posted again.
  await knex.schema.createTable('interest_postings', (t) => {
    t.integer('account_id').notNullable().references('accounts.id');
    t.string('period', 7).notNullable(); // 'YYYY-MM'
    t.bigInteger('accrued_micro').notNullable();
    t.bigInteger('carry_in_micro').notNullable();
    t.bigInteger('posted_minor').notNullable();
    t.bigInteger('carry_out_micro').notNullable();
    // NULL when less than one minor unit was due (everything carries on).
    t.bigInteger('transaction_id').references('transactions.id');
    ts(t, 'created_at').notNullable();
    t.primary(['account_id', 'period']);
  });

  // Mail waiting to be sent, and the log of what was. dedupe_key names the cause
  // (notification:12, login:34, tx:56:customer:7, statement:7:2026-03), so scanning the
  // same cause twice never queues a second mail.
  await knex.schema.createTable('mail_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('dedupe_key', 160).notNullable().unique();
    t.string('kind', 40).notNullable();
    t.integer('customer_id').references('customers.id');
    t.string('to_address', 254).notNullable();
    t.string('subject', 200).notNullable();
    t.text('body').notNullable();
    t.string('status', 16).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    ts(t, 'next_attempt_at').notNullable();
    t.text('last_error');
    t.string('message_id', 255);
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    ts(t, 'sent_at');
    t.check(`?? in ('pending', 'sent', 'failed')`, ['status'], 'mail_outbox_status_check');
    t.index(['status', 'next_attempt_at']);
  });

  // Where each scanning job got to in an append-only table (e.g. mail:notifications).
  await knex.schema.createTable('job_cursors', (t) => {
    t.string('name', 64).primary();
    t.bigInteger('position').notNullable().defaultTo(0);
    ts(t, 'updated_at').notNullable();
  });

  // Closing balances by day (snapshots, interest accrual, statements) read an account's
  // entries by time; without this they would scan the account's whole history.
  await knex.schema.alterTable('entries', (t) => {
    t.index(['account_id', 'at'], 'entries_account_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('entries', (t) => {
    t.dropIndex(['account_id', 'at'], 'entries_account_at_idx');
  });
  await knex.schema.dropTableIfExists('job_cursors');
  await knex.schema.dropTableIfExists('mail_outbox');
  await knex.schema.dropTableIfExists('interest_postings');
}
