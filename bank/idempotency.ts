import crypto from 'node:crypto';
import type { BankContext } from './context.js';
import { Conflict, type DomainError, RuleViolation, domainErrorFromJSON } from './errors.js';
import { type Tx, withTx } from './tx.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** An in-flight key older than this belonged to a request that died before committing. */
export const IN_FLIGHT_TAKEOVER_MS = 5 * 60_000;

export interface IdemRequest {
  /** Who and what: keys are per caller and per operation. */
  scope: string;
  key: string;
  /** The request's canonical payload; a different payload under the same key is refused. */
  payload: unknown;
}

export interface IdemResult<T> {
  value: T;
  replayed: boolean;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export const requestHash = (payload: unknown) => crypto.createHash('sha256').update(canonical(payload)).digest('hex');

type Stored = { ok: true; value: unknown } | { ok: false; error: ReturnType<DomainError['toJSON']> };

/**
 * Runs op at most once per (scope, key); a refusal by a business rule is remembered too
 * and replayed.
 * - PostgreSQL: the key is claimed in its own short transaction (a concurrent duplicate
 *   sees it in flight at once instead of queueing), and op's transaction marks it done in
 *   the same commit as the money movement, so a retry can never post twice.
 * - SQLite has one writer, so no duplicate can run alongside: the check, the work and the
 *   key are one transaction (half the commits).
 */
export async function idempotent<T>(ctx: BankContext, req: IdemRequest | null, op: (t: Tx) => Promise<T>): Promise<IdemResult<T>> {
  if (!req) return { value: await withTx(ctx, op), replayed: false };
  const hash = requestHash(req.payload);
  if (ctx.dialect === 'sqlite') {
    try {
      return await withTx(ctx, (t) => idempotentIn(t, req, () => op(t)));
    } catch (err) {
      if (err instanceof RuleViolation && !err.replayed) await remember(ctx, { scope: req.scope, key: req.key }, hash, err);
      throw err;
    }
  }
  const claimed = await claim(ctx, req, hash);
  if (claimed.replay) return claimed.replay as IdemResult<T>;
  try {
    const value = await withTx(ctx, async (t) => {
      const v = await op(t);
      await t.q('idempotency_keys').where({ id: claimed.id }).update({ state: 'done', response_status: 200, response_body: JSON.stringify({ ok: true, value: v } satisfies Stored) });
      return v;
    });
    return { value, replayed: false };
  } catch (err) {
    if (err instanceof RuleViolation) {
      await remember(ctx, { id: claimed.id }, hash, err);
    } else {
      // Not a business decision (bad input, unknown account, the database away): a retry may try again.
      await ctx.db('idempotency_keys').where({ id: claimed.id, state: 'in_flight' }).delete().catch(() => undefined);
    }
    throw err;
  }
}

/** Stores a business-rule refusal as the key's answer. */
async function remember(ctx: BankContext, where: { id: number } | { scope: string; key: string }, hash: string, err: RuleViolation): Promise<void> {
  const now = ctx.now();
  const done = {
    request_hash: hash, state: 'done', response_status: 422, response_body: JSON.stringify({ ok: false, error: err.toJSON() } satisfies Stored),
    created_at: now.toISOString(), expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
  };
  const updated = await ctx.db('idempotency_keys').where(where).update(done);
  if (!updated && 'key' in where) await ctx.db('idempotency_keys').insert({ ...where, ...done });
}

async function claim(ctx: BankContext, req: IdemRequest, hash: string): Promise<{ id: number; replay?: undefined } | { id?: undefined; replay: IdemResult<unknown> }> {
  return withTx(ctx, async (t) => {
    const nowMs = Date.parse(t.now);
    let q = t.q('idempotency_keys').where({ scope: req.scope, key: req.key });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const row = await q.first();
    const fresh = { scope: req.scope, key: req.key, request_hash: hash, state: 'in_flight', response_status: null, response_body: null, created_at: t.now, expires_at: new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString() };
    if (!row) {
      try {
        const [ins] = await t.q('idempotency_keys').insert(fresh, ['id']);
        return { id: typeof ins === 'object' ? ins.id : ins };
      } catch (err) {
        // A concurrent request with the same key won the insert.
        if (/unique|duplicate/i.test(String((err as Error).message))) throw new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight');
        throw err;
      }
    }
    const expired = Date.parse(row.expires_at) <= nowMs;
    const abandoned = row.state === 'in_flight' && Date.parse(row.created_at) + IN_FLIGHT_TAKEOVER_MS <= nowMs;
    if (expired || abandoned) {
      await t.q('idempotency_keys').where({ id: row.id }).update(fresh);
      return { id: row.id };
    }
    if (row.request_hash !== hash) throw new RuleViolation('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
    if (row.state === 'in_flight') throw new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight');
    const stored = JSON.parse(row.response_body) as Stored;
    if (!stored.ok) throw domainErrorFromJSON(stored.error);
    return { replay: { value: stored.value, replayed: true } };
  });
}

/**
 * The same contract as idempotent(), inside a transaction the caller owns (batch items):
 * the key row is written in that transaction, so it exists only if the work commits.
 */
export async function idempotentIn<T>(t: Tx, req: IdemRequest, op: () => Promise<T>): Promise<IdemResult<T>> {
  const hash = requestHash(req.payload);
  const row = await t.q('idempotency_keys').where({ scope: req.scope, key: req.key }).first();
  const nowMs = Date.parse(t.now);
  if (row && Date.parse(row.expires_at) > nowMs) {
    if (row.request_hash !== hash) throw new RuleViolation('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
    if (row.state === 'in_flight') throw new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight');
    const stored = JSON.parse(row.response_body) as Stored;
    if (!stored.ok) throw domainErrorFromJSON(stored.error);
    return { value: stored.value as T, replayed: true };
  }
  const value = await op();
  const done = { request_hash: hash, state: 'done', response_status: 200, response_body: JSON.stringify({ ok: true, value } satisfies Stored), created_at: t.now, expires_at: new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString() };
  if (row) await t.q('idempotency_keys').where({ id: row.id }).update(done);
  else await t.q('idempotency_keys').insert({ scope: req.scope, key: req.key, ...done });
  return { value, replayed: false };
}
