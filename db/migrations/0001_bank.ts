import type { Knex } from 'knex';

// High-volume tables (transactions, entries, events, audit, notifications, keys, login events)
// use 64-bit keys: 32-bit serials run out in months at a busy bank.
// Timestamps are ISO 8601 UTC strings (24 chars) and dates 'YYYY-MM-DD' on both databases,
// so the same code reads them the same way and string comparison orders them.
const ts = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 30);

function check(t: Knex.CreateTableBuilder, column: string, values: readonly string[], name: string) {
  t.check(`?? in (${values.map(() => '?').join(', ')})`, [column, ...values], name);
}

export const ROLES = ['customer', 'teller', 'manager', 'admin'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('customers', (t) => {
    t.increments('id').primary();
    t.string('first_name', 100).notNullable();
    t.string('last_name', 100).notNullable();
    t.string('email', 254).notNullable();
    t.string('phone', 32).notNullable();
    t.string('date_of_birth', 10).notNullable();
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    t.index(['last_name', 'first_name']);
    t.index(['email']);
  });

  await knex.schema.createTable('addresses', (t) => {
    t.increments('id').primary();
    t.integer('customer_id').notNullable().references('customers.id');
    t.string('line1', 200).notNullable();
    t.string('line2', 200);
    t.string('city', 100).notNullable();
    t.string('state', 100);
    t.string('postal_code', 20).notNullable();
    t.string('country', 2).notNullable();
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    t.index(['customer_id']);
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('password_hash', 255).notNullable();
    t.string('role', 16).notNullable();
    t.integer('customer_id').references('customers.id');
    t.string('display_name', 200).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('failed_logins').notNullable().defaultTo(0);
    ts(t, 'locked_until');
    t.string('totp_secret', 64);
    t.boolean('totp_enabled').notNullable().defaultTo(false);
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    check(t, 'role', ROLES, 'users_role_check');
    t.index(['customer_id']);
  });

  await knex.schema.createTable('sessions', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('users.id');
    t.string('token_hash', 64).notNullable().unique();
    ts(t, 'created_at').notNullable();
    ts(t, 'last_seen_at').notNullable();
    ts(t, 'expires_at').notNullable();
    ts(t, 'revoked_at');
    t.string('revoked_reason', 64);
    t.string('ip', 64);
    t.string('user_agent', 512);
    t.index(['user_id']);
  });

  await knex.schema.createTable('login_events', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').references('users.id');
    t.string('username', 64).notNullable();
    t.string('kind', 16).notNullable();
    t.string('ip', 64);
    t.string('user_agent', 512);
    ts(t, 'at').notNullable();
    check(t, 'kind', ['login', 'logout', 'failed', 'locked'], 'login_events_kind_check');
    t.index(['user_id', 'id']);
  });

  await knex.schema.createTable('branches', (t) => {
    t.increments('id').primary();
    t.string('code', 16).notNullable().unique();
    t.string('name', 200).notNullable();
    t.string('city', 100).notNullable();
    t.string('address', 300);
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('account_types', (t) => {
    t.increments('id').primary();
    t.string('code', 16).notNullable().unique();
    t.string('name', 200).notNullable();
    // Minor units. min_balance may be negative only through overdraft_limit, kept apart.
    t.bigInteger('min_balance').notNullable().defaultTo(0);
    t.bigInteger('overdraft_limit').notNullable().defaultTo(0);
    t.bigInteger('approval_threshold');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    t.check('?? >= 0', ['overdraft_limit'], 'account_types_overdraft_check');
  });

  await knex.schema.createTable('interest_rates', (t) => {
    t.increments('id').primary();
    t.string('account_type', 16).notNullable().references('account_types.code');
    // Percent per year in millionths of a percent: "3.50" -> 3_500_000. Exact integers.
    t.bigInteger('annual_rate_micro').notNullable();
    t.string('effective_from', 10).notNullable();
    t.integer('created_by').references('users.id');
    ts(t, 'created_at').notNullable();
    t.unique(['account_type', 'effective_from']);
    t.check('?? >= 0', ['annual_rate_micro'], 'interest_rates_rate_check');
  });

  await knex.schema.createTable('accounts', (t) => {
    t.increments('id').primary();
    t.string('number', 12).notNullable().unique();
    t.string('kind', 24).notNullable().defaultTo('customer');
    // Bank-owned accounts: a stable code such as CASH-INR-3 (hot accounts are sharded).
    t.string('internal_code', 40).unique();
    t.integer('customer_id').references('customers.id');
    t.string('type', 16).references('account_types.code');
    t.string('branch', 16).references('branches.code');
    t.string('currency', 3).notNullable();
    t.bigInteger('balance').notNullable().defaultTo(0);
    // Funds held by pending transactions; available = balance - held.
    t.bigInteger('held').notNullable().defaultTo(0);
    t.string('status', 16).notNullable().defaultTo('active');
    ts(t, 'opened_at').notNullable();
    ts(t, 'closed_at');
    check(t, 'kind', ['customer', 'cash', 'interest_expense', 'suspense'], 'accounts_kind_check');
    check(t, 'status', ['active', 'frozen', 'closed'], 'accounts_status_check');
    t.check('?? >= 0', ['held'], 'accounts_held_check');
    t.index(['customer_id']);
    t.index(['branch']);
  });

  await knex.schema.createTable('account_edits', (t) => {
    t.increments('id').primary();
    t.integer('account_id').notNullable().references('accounts.id');
    t.integer('by').references('users.id');
    t.text('changes').notNullable();
    t.string('note', 500);
    ts(t, 'at').notNullable();
    t.index(['account_id', 'id']);
  });

  await knex.schema.createTable('closed_accounts', (t) => {
    t.increments('id').primary();
    t.integer('account_id').notNullable().unique().references('accounts.id');
    t.integer('closed_by').references('users.id');
    t.string('reason', 500).notNullable();
    t.text('snapshot').notNullable();
    ts(t, 'closed_at').notNullable();
  });

  await knex.schema.createTable('transactions', (t) => {
    t.bigIncrements('id').primary();
    t.string('kind', 16).notNullable();
    t.string('status', 24).notNullable();
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.integer('from_account_id').references('accounts.id');
    t.integer('to_account_id').references('accounts.id');
    t.string('memo', 500).notNullable().defaultTo('');
    // Natural key for system-made transactions (interest per account and period).
    t.string('external_ref', 120).unique();
    t.integer('created_by').references('users.id');
    t.integer('decided_by').references('users.id');
    t.string('decision_note', 500);
    ts(t, 'created_at').notNullable();
    ts(t, 'posted_at');
    ts(t, 'decided_at');
    check(t, 'kind', ['deposit', 'withdrawal', 'transfer', 'interest'], 'transactions_kind_check');
    check(t, 'status', ['posted', 'pending_approval', 'rejected'], 'transactions_status_check');
    t.check('?? > 0', ['amount'], 'transactions_amount_check');
    t.index(['from_account_id', 'id']);
    t.index(['to_account_id', 'id']);
    t.index(['status', 'id']);
    t.index(['created_at']);
  });

  await knex.schema.createTable('entries', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('transaction_id').notNullable().references('transactions.id');
    t.integer('account_id').notNullable().references('accounts.id');
    t.bigInteger('amount').notNullable();
    t.bigInteger('balance_after').notNullable();
    ts(t, 'at').notNullable();
    t.index(['account_id', 'id']);
    t.index(['transaction_id']);
    t.check('?? <> 0', ['amount'], 'entries_amount_check');
  });

  await knex.schema.createTable('balance_snapshots', (t) => {
    t.integer('account_id').notNullable().references('accounts.id');
    t.string('date', 10).notNullable();
    t.bigInteger('balance').notNullable();
    ts(t, 'created_at').notNullable();
    t.primary(['account_id', 'date']);
  });

  await knex.schema.createTable('interest_accruals', (t) => {
    t.integer('account_id').notNullable().references('accounts.id');
    t.string('date', 10).notNullable();
    // Accrued interest in millionths of a minor unit, so fractions carry forward exactly.
    t.bigInteger('accrued_micro').notNullable();
    t.bigInteger('closing_balance').notNullable();
    t.bigInteger('annual_rate_micro').notNullable();
    t.bigInteger('posted_transaction_id').references('transactions.id');
    ts(t, 'created_at').notNullable();
    t.primary(['account_id', 'date']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.bigIncrements('id').primary();
    t.string('scope', 120).notNullable();
    t.string('key', 255).notNullable();
    t.string('request_hash', 64).notNullable();
    t.string('state', 16).notNullable();
    t.integer('response_status');
    t.text('response_body');
    ts(t, 'created_at').notNullable();
    ts(t, 'expires_at').notNullable();
    t.unique(['scope', 'key']);
    t.index(['expires_at']);
    check(t, 'state', ['in_flight', 'done'], 'idempotency_state_check');
  });

  await knex.schema.createTable('tickets', (t) => {
    t.increments('id').primary();
    t.integer('customer_id').notNullable().references('customers.id');
    t.string('category', 16).notNullable();
    t.string('subject', 200).notNullable();
    t.string('status', 16).notNullable().defaultTo('open');
    t.string('priority', 16).notNullable().defaultTo('normal');
    t.integer('assignee_id').references('users.id');
    t.text('resolution');
    t.integer('escalation_level').notNullable().defaultTo(0);
    ts(t, 'escalated_at');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    check(t, 'category', ['account', 'card', 'transaction', 'security', 'general'], 'tickets_category_check');
    check(t, 'status', ['open', 'in_progress', 'resolved', 'closed'], 'tickets_status_check');
    check(t, 'priority', ['low', 'normal', 'high', 'urgent'], 'tickets_priority_check');
    t.index(['customer_id']);
    t.index(['status', 'priority']);
  });

  await knex.schema.createTable('ticket_messages', (t) => {
    t.increments('id').primary();
    t.integer('ticket_id').notNullable().references('tickets.id');
    t.integer('author_id').notNullable().references('users.id');
    t.string('author_role', 16).notNullable();
    t.text('body').notNullable();
    ts(t, 'at').notNullable();
    t.index(['ticket_id', 'id']);
  });

  await knex.schema.createTable('announcements', (t) => {
    t.increments('id').primary();
    t.string('title', 200).notNullable();
    t.text('message').notNullable();
    t.string('audience', 16).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    ts(t, 'published_at').notNullable();
    ts(t, 'expires_at');
    ts(t, 'withdrawn_at');
    t.integer('created_by').references('users.id');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    check(t, 'audience', ['all', 'customers', 'staff'], 'announcements_audience_check');
  });

  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').notNullable().references('users.id');
    t.string('kind', 40).notNullable();
    t.string('title', 200).notNullable();
    t.text('body').notNullable();
    ts(t, 'read_at');
    ts(t, 'created_at').notNullable();
    t.index(['user_id', 'id']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    // Several independent hash chains, so concurrent writers on PostgreSQL do not all
    // queue behind one "last hash" (SQLite always uses chain 0).
    t.integer('chain').notNullable();
    t.integer('actor_id');
    t.string('action', 64).notNullable();
    t.string('entity', 40).notNullable();
    t.string('entity_id', 40);
    t.text('before');
    t.text('after');
    t.string('ip', 64);
    ts(t, 'at').notNullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['chain', 'id']);
    t.index(['entity', 'entity_id']);
    t.index(['actor_id']);
  });

  // The outbox. seq is global and increasing; rooms say who may receive each event.
  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('seq').primary();
    t.string('type', 40).notNullable();
    t.text('payload').notNullable();
    ts(t, 'created_at').notNullable();
    ts(t, 'published_at');
    t.index(['published_at', 'seq']);
  });

  await knex.schema.createTable('event_rooms', (t) => {
    t.bigInteger('seq').notNullable().references('events.seq').onDelete('CASCADE');
    t.string('room', 40).notNullable();
    t.primary(['room', 'seq']);
    t.index(['seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'event_rooms',
    'events',
    'audit_log',
    'notifications',
    'announcements',
    'ticket_messages',
    'tickets',
    'idempotency_keys',
    'interest_accruals',
    'balance_snapshots',
    'entries',
    'transactions',
    'closed_accounts',
    'account_edits',
    'accounts',
    'interest_rates',
    'account_types',
    'branches',
    'login_events',
    'sessions',
    'users',
    'addresses',
    'customers',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
