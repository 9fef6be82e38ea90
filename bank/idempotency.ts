import crypto from 'node:crypto';
import { Conflict, type DomainError, RuleViolation, domainErrorFromJSON } from './errors.js';
import type { Tx } from './tx.js';

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

interface KeyRow {
  id: number;
  scope: string;
  key: string;
  request_hash: string;
  state: 'in_flight' | 'done';
  response_body: string | null;
  created_at: string;
  expires_at: string;
}

/** What a key says before the work runs. */
export type KeyState =
  /** Go ahead. `id`: the key's row (PostgreSQL claims it now; an expired row is taken over). */
  | { kind: 'fresh'; id: number | null }
  | { kind: 'replay'; result: IdemResult<unknown> }
  /** Refused now: another payload, still in flight elsewhere, or a stored refusal replayed. */
  | { kind: 'refused'; error: DomainError };

export interface KeyClaim {
  scope: string;
  key: string;
  hash: string;
}

const keyOf = (scope: string, key: string) => `${scope}\u0000${key}`;
const CHUNK = 200;

/**
 * Looks up (and on PostgreSQL claims) many keys at the start of the caller's transaction.
 * PostgreSQL: the claim is an insert that skips keys that exist; a key another transaction is
 * inserting makes this one wait for its commit and then read its answer, so across processes the
 * unique row decides and nothing posts twice. Keys are claimed in sorted order, so two groups
 * never wait on each other's keys in a cycle. SQLite has one writer: reading is enough, and the
 * answer row is written by settleKeys in the same transaction.
 */
export async function claimKeys(t: Tx, claims: KeyClaim[]): Promise<KeyState[]> {
  const states: KeyState[] = new Array(claims.length);
  if (!claims.length) return states;
  const nowMs = Date.parse(t.now);
  const expires = new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString();
  const index = new Map(claims.map((c, i) => [keyOf(c.scope, c.key), i]));
  let toRead = claims;
  if (t.ctx.dialect === 'pg') {
    const sorted = [...claims].sort((a, b) => (keyOf(a.scope, a.key) < keyOf(b.scope, b.key) ? -1 : 1));
    const rows = sorted.map((c) => ({ scope: c.scope, key: c.key, request_hash: c.hash, state: 'in_flight', created_at: t.now, expires_at: expires }));
    const claimed = new Set<string>();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const got = await t.q('idempotency_keys').insert(rows.slice(i, i + CHUNK)).onConflict(['scope', 'key']).ignore().returning(['id', 'scope', 'key']);
      for (const r of got as { id: number; scope: string; key: string }[]) {
        claimed.add(keyOf(r.scope, r.key));
        states[index.get(keyOf(r.scope, r.key))!] = { kind: 'fresh', id: Number(r.id) };
      }
    }
    toRead = sorted.filter((c) => !claimed.has(keyOf(c.scope, c.key)));
  }
  const takeover: { id: number; hash: string }[] = [];
  for (let i = 0; i < toRead.length; i += CHUNK) {
    const part = toRead.slice(i, i + CHUNK);
    let q = t.q<KeyRow>('idempotency_keys').whereIn(['scope', 'key'], part.map((c) => [c.scope, c.key]));
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const found = new Map((await q).map((r) => [keyOf(r.scope, r.key), r]));
    for (const c of part) {
      const row = found.get(keyOf(c.scope, c.key));
      const state = row ? judge(row, c.hash, nowMs) : { kind: 'fresh' as const, id: null };
      if (state.kind === 'fresh' && state.id !== null) takeover.push({ id: state.id, hash: c.hash });
      states[index.get(keyOf(c.scope, c.key))!] = state;
    }
  }
  // PostgreSQL: an expired or abandoned row is taken over now, under its row lock.
  if (t.ctx.dialect === 'pg') {
    for (const tk of takeover) {
      await t.q('idempotency_keys').where({ id: tk.id }).update({ request_hash: tk.hash, state: 'in_flight', response_status: null, response_body: null, created_at: t.now, expires_at: expires });
    }
  }
  return states;
}

function judge(row: KeyRow, hash: string, nowMs: number): KeyState {
  const expired = Date.parse(row.expires_at) <= nowMs;
  const abandoned = row.state === 'in_flight' && Date.parse(row.created_at) + IN_FLIGHT_TAKEOVER_MS <= nowMs;
  if (expired || abandoned) return { kind: 'fresh', id: Number(row.id) };
  if (row.request_hash !== hash) return { kind: 'refused', error: new RuleViolation('idempotency_mismatch', 'This Idempotency-Key was used with a different request') };
  if (row.state === 'in_flight' || !row.response_body) return { kind: 'refused', error: new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight') };
  const stored = JSON.parse(row.response_body) as Stored;
  if (!stored.ok) return { kind: 'refused', error: domainErrorFromJSON(stored.error) };
  return { kind: 'replay', result: { value: stored.value, replayed: true } };
}

export interface KeyOutcome {
  claim: KeyClaim;
  /** The state claimKeys gave it (fresh). */
  id: number | null;
  /** The answer to keep, or null: nothing to remember (the request may be tried again). */
  answer: { ok: true; value: unknown } | { ok: false; error: RuleViolation } | null;
}

/**
 * Writes the answers of fresh keys in the caller's transaction: successes and business-rule
 * refusals are kept (and replayed for 24 hours); a claim with nothing to keep is released.
 */
export async function settleKeys(t: Tx, outcomes: KeyOutcome[]): Promise<void> {
  const nowMs = Date.parse(t.now);
  const expires = new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString();
  const done = (o: KeyOutcome) => {
    const a = o.answer!;
    const stored: Stored = a.ok ? { ok: true, value: a.value } : { ok: false, error: a.error.toJSON() };
    return { request_hash: o.claim.hash, state: 'done', response_status: a.ok ? 200 : 422, response_body: JSON.stringify(stored), created_at: t.now, expires_at: expires };
  };
  const release = outcomes.filter((o) => !o.answer && o.id !== null).map((o) => o.id!);
  const inserts = outcomes.filter((o) => o.answer && o.id === null).map((o) => ({ scope: o.claim.scope, key: o.claim.key, ...done(o) }));
  const updates = outcomes.filter((o) => o.answer && o.id !== null).map((o) => ({ id: o.id!, ...done(o) }));
  for (let i = 0; i < release.length; i += CHUNK) await t.q('idempotency_keys').whereIn('id', release.slice(i, i + CHUNK)).delete();
  for (let i = 0; i < inserts.length; i += CHUNK) await t.q('idempotency_keys').insert(inserts.slice(i, i + CHUNK));
  if (t.ctx.dialect === 'pg') {
    for (let i = 0; i < updates.length; i += CHUNK) {
      await t.q.raw(
        `UPDATE idempotency_keys AS k SET request_hash = v.request_hash, state = v.state, response_status = v.response_status,
           response_body = v.response_body, created_at = v.created_at, expires_at = v.expires_at
         FROM json_to_recordset(?::json) AS v(id bigint, request_hash text, state text, response_status int, response_body text, created_at timestamptz, expires_at timestamptz)
         WHERE k.id = v.id`,
        [JSON.stringify(updates.slice(i, i + CHUNK))],
      );
    }
  } else {
    for (const { id, ...row } of updates) await t.q('idempotency_keys').where({ id }).update(row);
  }
}
