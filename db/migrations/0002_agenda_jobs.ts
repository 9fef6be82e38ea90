import type { Knex } from 'knex';

// Storage for Agenda jobs (jobs/knex-backend.ts). Timestamps follow the project convention:
// ISO 8601 UTC strings (always Date.toISOString(), 24 chars), so string comparison orders
// them on both databases and the backend compares them with bound ISO strings.
const ts = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 30);

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agenda_jobs', (t) => {
    // UUID made in JS: the same on both databases and known before the INSERT.
    t.string('id', 36).primary();
    t.string('name', 255).notNullable();
    t.integer('priority').notNullable().defaultTo(0);
    t.string('type', 8).notNullable().defaultTo('normal');
    ts(t, 'next_run_at');
    ts(t, 'locked_at');
    ts(t, 'last_run_at');
    ts(t, 'last_finished_at');
    ts(t, 'failed_at');
    t.integer('fail_count');
    t.text('fail_reason');
    t.string('repeat_interval', 255);
    t.string('repeat_timezone', 64);
    t.string('repeat_at', 255);
    ts(t, 'start_date');
    ts(t, 'end_date');
    t.string('skip_days', 32); // JSON array of weekday numbers
    t.boolean('disabled').notNullable().defaultTo(false);
    t.boolean('fork').notNullable().defaultTo(false);
    t.double('progress');
    t.text('data'); // JSON; NULL when the job has no data
    // sha256 of (name, unique spec): unique() jobs upsert on it; NULL for other jobs
    // (NULLs never collide on either database).
    t.string('unique_key', 64).unique('agenda_jobs_unique_key');
    ts(t, 'debounce_started_at');
    t.string('last_modified_by', 255);
    t.check(`?? in ('normal', 'single')`, ['type'], 'agenda_jobs_type_check');
    // The claim query: name = ? AND (next_run_at <= ? OR locked_at <= ?) ORDER BY next_run_at, priority.
    t.index(['name', 'next_run_at', 'priority'], 'agenda_jobs_next_idx');
    t.index(['name', 'locked_at'], 'agenda_jobs_locked_idx');
  });
  // every() jobs ('single') exist once per name; the backend upserts on this partial index.
  // Same syntax on SQLite and PostgreSQL.
  await knex.raw(`CREATE UNIQUE INDEX agenda_jobs_single_name ON agenda_jobs (name) WHERE type = 'single'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('agenda_jobs');
}
