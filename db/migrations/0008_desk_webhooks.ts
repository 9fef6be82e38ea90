import type { Knex } from 'knex';

// The support desk (service-level targets, internal notes, canned replies) and webhooks for
// API clients. Timestamps are ISO 8601 UTC strings, as in 0001.
const ts = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 30);

/** The defaults of TICKET_SLA at the time of this migration, for tickets that existed before it. */
const MIN = 60_000;
const BACKFILL: Record<string, [number, number]> = {
  urgent: [15 * MIN, 4 * 60 * MIN],
  high: [60 * MIN, 8 * 60 * MIN],
  normal: [4 * 60 * MIN, 24 * 60 * MIN],
  low: [24 * 60 * MIN, 5 * 24 * 60 * MIN],
};

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    ts(t, 'first_response_due_at');
    ts(t, 'resolution_due_at');
    ts(t, 'first_responded_at');
    t.boolean('breached').notNullable().defaultTo(false);
    ts(t, 'breached_at');
  });
  // Existing tickets get the targets they would have had; a staff message already sent is their first response.
  const tickets: { id: number; priority: string; created_at: string }[] = await knex('tickets').select('id', 'priority', 'created_at');
  for (const r of tickets) {
    const [first, resolve] = BACKFILL[r.priority] ?? BACKFILL.normal;
    const created = Date.parse(r.created_at);
    const firstStaff = await knex('ticket_messages')
      .where({ ticket_id: r.id })
      .whereNot('author_role', 'customer')
      .orderBy('id')
      .first('at');
    await knex('tickets')
      .where({ id: r.id })
      .update({
        first_response_due_at: new Date(created + first).toISOString(),
        resolution_due_at: new Date(created + resolve).toISOString(),
        first_responded_at: firstStaff?.at ?? null,
      });
  }
  await knex.schema.alterTable('tickets', (t) => {
    t.index(['breached', 'status']);
  });

  await knex.schema.alterTable('ticket_messages', (t) => {
    // A note between staff: never shown, pushed, replayed or mailed to the ticket's owner.
    t.boolean('internal').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('canned_replies', (t) => {
    t.increments('id').primary();
    t.string('title', 100).notNullable();
    t.text('body').notNullable();
    t.integer('created_by').notNullable().references('users.id');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    t.index(['title']);
  });

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.increments('id').primary();
    t.string('url', 2048).notNullable();
    t.string('description', 200);
    /** JSON array of event names. */
    t.text('events').notNullable();
    /** Needed in the clear to sign; shown to the admin only when created. */
    t.string('secret', 100).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    /** Events with a seq above this are the endpoint's (none from before it existed). */
    t.bigInteger('after_seq').notNullable();
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    ts(t, 'deleted_at');
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.integer('endpoint_id').notNullable().references('webhook_endpoints.id');
    t.bigInteger('seq').notNullable();
    t.string('event', 40).notNullable();
    t.string('status', 16).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status_code');
    t.text('last_error');
    ts(t, 'next_attempt_at');
    /** A sender holds the delivery until then; if it died mid-send, it is due again after. */
    ts(t, 'locked_until');
    /** Retries stop after this (24 h from the first try, or from a redelivery). */
    ts(t, 'give_up_at').notNullable();
    ts(t, 'delivered_at');
    ts(t, 'created_at').notNullable();
    ts(t, 'updated_at').notNullable();
    t.unique(['endpoint_id', 'seq']);
    t.index(['status', 'next_attempt_at']);
    t.index(['endpoint_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhook_endpoints');
  await knex.schema.dropTableIfExists('canned_replies');
  await knex.schema.alterTable('ticket_messages', (t) => t.dropColumn('internal'));
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['breached', 'status']);
    for (const c of ['first_response_due_at', 'resolution_due_at', 'first_responded_at', 'breached', 'breached_at']) t.dropColumn(c);
  });
}
