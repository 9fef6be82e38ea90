import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor, BankContext } from './context.js';
import { type Tx, toJson } from './tx.js';

/** PostgreSQL writers spread over this many independent hash chains (advisory-locked). */
export const AUDIT_CHAINS = 16;
const LOCK_CLASS = 7270;
const GENESIS = '0'.repeat(64);

export interface AuditInput {
  action: string;
  entity: string;
  entityId?: string | number | null;
  before?: unknown;
  after?: unknown;
}

interface AuditRow {
  id: number;
  chain: number;
  actor_id: number | null;
  action: string;
  entity: string;
  entity_id: string | null;
  before: string | null;
  after: string | null;
  ip: string | null;
  at: string;
  prev_hash: string;
  hash: string;
}

function hashRow(prev: string, r: Omit<AuditRow, 'id' | 'hash' | 'prev_hash'>): string {
  const body = JSON.stringify([r.chain, r.actor_id, r.action, r.entity, r.entity_id, r.before, r.after, r.ip, r.at]);
  return crypto.createHash('sha256').update(prev).update('|').update(body).digest('hex');
}

async function takeChain(t: Tx): Promise<number> {
  if (t.ctx.dialect === 'sqlite') return 0;
  const start = crypto.randomInt(AUDIT_CHAINS);
  for (let i = 0; i < AUDIT_CHAINS; i++) {
    const chain = (start + i) % AUDIT_CHAINS;
    const r = await t.q.raw('SELECT pg_try_advisory_xact_lock(?, ?) AS ok', [LOCK_CLASS, chain]);
    if (r.rows[0].ok) return chain;
  }
  await t.q.raw('SELECT pg_advisory_xact_lock(?, ?)', [LOCK_CLASS, start]);
  return start;
}

/**
 * Appends one audit row to a hash chain inside the caller's transaction. Call it last in
 * a transaction: on PostgreSQL the chain's lock is held until commit.
 */
export async function audit(t: Tx, actor: Actor, input: AuditInput): Promise<void> {
  const chain = await takeChain(t);
  const last = await t.q('audit_log').where({ chain }).orderBy('id', 'desc').first('hash');
  const prev = last?.hash ?? GENESIS;
  const row = {
    chain,
    actor_id: actor.userId,
    action: input.action,
    entity: input.entity,
    entity_id: input.entityId === undefined || input.entityId === null ? null : String(input.entityId),
    before: toJson(input.before),
    after: toJson(input.after),
    ip: actor.ip ?? null,
    at: t.now,
  };
  await t.q('audit_log').insert({ ...row, prev_hash: prev, hash: hashRow(prev, row) });
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBrokenId: number | null;
}

/** Walks every chain in id order, recomputing each hash and its link to the one before. */
export async function verifyAudit(ctx: BankContext | { db: Knex }): Promise<AuditVerification> {
  const lastHash = new Map<number, string>();
  let checked = 0;
  let firstBrokenId: number | null = null;
  let after = 0;
  for (;;) {
    const rows: AuditRow[] = await ctx.db('audit_log').where('id', '>', after).orderBy('id').limit(5000);
    if (!rows.length) break;
    for (const r of rows) {
      checked++;
      const prev = lastHash.get(r.chain) ?? GENESIS;
      const { id: _id, hash, prev_hash, ...rest } = r;
      const broken = prev_hash !== prev || hash !== hashRow(prev, { ...rest, actor_id: rest.actor_id ?? null });
      if (broken && (firstBrokenId === null || r.id < firstBrokenId)) firstBrokenId = r.id;
      lastHash.set(r.chain, r.hash);
      after = r.id;
    }
  }
  return { ok: firstBrokenId === null, checked, firstBrokenId };
}

export function auditDto(r: AuditRow) {
  return {
    id: r.id,
    actorId: r.actor_id,
    action: r.action,
    entity: r.entity,
    entityId: r.entity_id,
    before: r.before ? JSON.parse(r.before) : null,
    after: r.after ? JSON.parse(r.after) : null,
    ip: r.ip,
    at: r.at,
    hash: r.hash,
  };
}
