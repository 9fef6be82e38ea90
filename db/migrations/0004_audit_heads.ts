import type { Knex } from 'knex';
import { AUDIT_CHAINS } from '../constants.js';

/**
 * The head of each audit hash chain: its last row, hash and length. Writers lock the head
 * row (one of 16, picked among the unlocked), and verification compares each chain's
 * computed tail with its head, so cutting rows off the end of a chain is detected too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_heads', (t) => {
    t.integer('chain').primary();
    t.bigInteger('last_id');
    t.string('last_hash', 64).notNullable();
    t.integer('length').notNullable();
  });
  const rows = [];
  for (let chain = 0; chain < AUDIT_CHAINS; chain++) {
    const tail = await knex('audit_log').where({ chain }).orderBy('id', 'desc').first('id', 'hash');
    const [{ n }] = await knex('audit_log').where({ chain }).count({ n: '*' });
    rows.push({ chain, last_id: tail?.id ?? null, last_hash: tail?.hash ?? '0'.repeat(64), length: Number(n) });
  }
  await knex('audit_heads').insert(rows);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_heads');
}
