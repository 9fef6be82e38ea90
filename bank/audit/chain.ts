import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor, BankContext } from '../core/context.js';
import { type Tx, toJson } from '../core/db-tx.js';
import { fastSql, type Table } from '../../db/fast.js';

import { AUDIT_CHAINS } from '../../db/constants.js';
import type { AuditEntry, AuditHead, Row } from '../../db/models.js';

export { AUDIT_CHAINS };
const GENESIS = '0'.repeat(64);

export interface AuditInput {
  action: string;
  entity: string;
  entityId?: string | number | null;
  before?: unknown;
  after?: unknown;
  /** Who did it, when the rows of one call have different actors (a group commit). */
  actor?: Actor;
}

type AuditRow = Row<AuditEntry>;

function hashRow(prev: string, r: Omit<AuditRow, 'id' | 'hash' | 'prev_hash'>): string {
  const body = JSON.stringify([r.chain, r.actor_id, r.action, r.entity, r.entity_id, r.before, r.after, r.ip, r.at]);
  return crypto.createHash('sha256').update(prev).update('|').update(body).digest('hex');
}

type Head = Pick<Row<AuditHead>, 'chain' | 'last_hash'>;

/**
 * Locks the head of a chain for the rest of the transaction. PostgreSQL: any head no
 * other writer holds (SKIP LOCKED), so concurrent writers rarely wait on each other;
 * only when all are busy does it queue for one. SQLite has one writer: chain 0.
 */
async function takeChain(t: Tx): Promise<Head> {
  const fast = await fastSql(t.q);
  if (fast.dialect === 'sqlite')
    return (await fast.query<Head>('audit_head', { sqlite: 'SELECT chain, last_hash FROM audit_heads WHERE chain = 0', pg: '' }, []))[0];
  const [free] = await fast.query<Head>(
    'audit_free_head',
    { sqlite: '', pg: 'SELECT chain, last_hash FROM audit_heads ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED' },
    [],
  );
  if (free) return free;
  return (
    await fast.query<Head>('audit_wait_head', { sqlite: '', pg: 'SELECT chain, last_hash FROM audit_heads WHERE chain = ? FOR UPDATE' }, [
      crypto.randomInt(AUDIT_CHAINS),
    ])
  )[0];
}

/**
 * Appends one audit row to a hash chain inside the caller's transaction. Call it last in
 * a transaction: the chain's head stays locked until commit.
 */
export async function audit(t: Tx, actor: Actor, input: AuditInput): Promise<void> {
  await auditMany(t, actor, [input]);
}

/**
 * Appends several audit rows, in order, to one chain: one head lock, one multi-row insert
 * per chunk (serial ids follow VALUES order, so id order is chain order).
 */
export async function auditMany(t: Tx, actor: Actor, inputs: AuditInput[]): Promise<void> {
  if (!inputs.length) return;
  const { chain, last_hash: first } = await takeChain(t);
  let prev = first;
  const rows = inputs.map((input) => {
    const by = input.actor ?? actor;
    const row = {
      chain,
      actor_id: by.userId,
      action: input.action,
      entity: input.entity,
      entity_id: input.entityId === undefined || input.entityId === null ? null : String(input.entityId),
      before: toJson(input.before),
      after: toJson(input.after),
      ip: by.ip ?? null,
      at: t.now,
    };
    const hash = hashRow(prev, row);
    const full = { ...row, prev_hash: prev, hash };
    prev = hash;
    return full;
  });
  const fast = await fastSql(t.q);
  const ids = await fast.insert(
    AUDIT_LOG,
    rows.map((r) => [r.chain, r.actor_id, r.action, r.entity, r.entity_id, r.before, r.after, r.ip, r.at, r.prev_hash, r.hash]),
  );
  await fast.query(
    'audit_head_move',
    {
      sqlite: 'UPDATE audit_heads SET last_id = ?, last_hash = ?, length = length + ? WHERE chain = ?',
      pg: 'UPDATE audit_heads SET last_id = ?, last_hash = ?, length = length + ? WHERE chain = ?',
    },
    [Math.max(...ids), prev, rows.length, chain],
  );
}

const AUDIT_LOG: Table = {
  name: 'audit_log',
  key: 'id',
  columns: [
    ['chain', 'int'],
    ['actor_id', 'bigint'],
    ['action', 'text'],
    ['entity', 'text'],
    ['entity_id', 'text'],
    ['before', 'text'],
    ['after', 'text'],
    ['ip', 'text'],
    ['at', 'text'],
    ['prev_hash', 'text'],
    ['hash', 'text'],
  ],
};

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
  // A chain whose computed end differs from its recorded head lost rows off its end.
  const lengths = new Map<number, number>();
  for (const r of (await ctx.db('audit_log').select('chain').count({ n: '*' }).groupBy('chain')) as { chain: number; n: number }[])
    lengths.set(Number(r.chain), Number(r.n));
  for (const head of await ctx.db('audit_heads').select('chain', 'last_id', 'last_hash', 'length')) {
    const end = lastHash.get(head.chain) ?? GENESIS;
    if (end !== head.last_hash || (lengths.get(head.chain) ?? 0) !== Number(head.length)) {
      const broken = Number(head.last_id ?? 0);
      if (firstBrokenId === null || broken < firstBrokenId) firstBrokenId = broken;
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
