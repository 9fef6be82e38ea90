import crypto from 'node:crypto';
import { Conflict, type DomainError, RuleViolation, domainErrorFromJSON } from '../core/errors.js';
import type { Tx } from '../core/db-tx.js';
import { fastSql, type Table } from '../../db/fast.js';
import type { IdempotencyKey, Row } from '../../db/models.js';

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
    const keys = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export const requestHash = (payload: unknown) => crypto.createHash('sha256').update(canonical(payload)).digest('hex');

type Stored = { ok: true; value: unknown } | { ok: false; error: ReturnType<DomainError['toJSON']> };

/** What idem_read selects (not response_status). */
type KeyRow = Pick<Row<IdempotencyKey>, 'id' | 'scope' | 'key' | 'request_hash' | 'state' | 'response_body' | 'created_at' | 'expires_at'>;

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
  const fast = await fastSql(t.q);
  const nowMs = Date.parse(t.now);
  const expires = new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString();
  const index = new Map(claims.map((c, i) => [keyOf(c.scope, c.key), i]));
  const found = new Map<string, KeyRow>();
  if (fast.dialect === 'pg') {
    const sorted = [...claims].sort((a, b) => (keyOf(a.scope, a.key) < keyOf(b.scope, b.key) ? -1 : 1));
    const claimed = await fast.query<{ id: number; scope: string; key: string }>(
      'idem_claim',
      {
        sqlite: '',
        pg: `INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at, expires_at)
           SELECT s, k, h, 'in_flight', ?, ? FROM unnest(?::text[], ?::text[], ?::text[]) AS v(s, k, h)
           ON CONFLICT (scope, key) DO NOTHING RETURNING id, scope, key`,
      },
      [t.now, expires, sorted.map((c) => c.scope), sorted.map((c) => c.key), sorted.map((c) => c.hash)],
    );
    for (const r of claimed) states[index.get(keyOf(r.scope, r.key))!] = { kind: 'fresh', id: Number(r.id) };
    const rest = sorted.filter((c) => !states[index.get(keyOf(c.scope, c.key))!]);
    if (rest.length) {
      const rows = await fast.query<KeyRow>(
        'idem_read',
        {
          sqlite: '',
          pg: `SELECT id, scope, key, request_hash, state, response_body, created_at, expires_at FROM idempotency_keys
             WHERE (scope, key) IN (SELECT * FROM unnest(?::text[], ?::text[])) ORDER BY scope, key FOR UPDATE`,
        },
        [rest.map((c) => c.scope), rest.map((c) => c.key)],
      );
      for (const r of rows) found.set(keyOf(r.scope, r.key), r);
    }
  } else {
    for (const c of claims) {
      const [row] = await fast.query<KeyRow>(
        'idem_read',
        {
          sqlite:
            'SELECT id, scope, key, request_hash, state, response_body, created_at, expires_at FROM idempotency_keys WHERE scope = ? AND key = ?',
          pg: '',
        },
        [c.scope, c.key],
      );
      if (row) found.set(keyOf(c.scope, c.key), row);
    }
  }
  const takeover: { id: number; hash: string }[] = [];
  for (const c of claims) {
    const i = index.get(keyOf(c.scope, c.key))!;
    if (states[i]) continue;
    const row = found.get(keyOf(c.scope, c.key));
    const state = row ? judge(row, c.hash, nowMs) : { kind: 'fresh' as const, id: null };
    if (state.kind === 'fresh' && state.id !== null) takeover.push({ id: state.id, hash: c.hash });
    states[i] = state;
  }
  // PostgreSQL: an expired or abandoned row is taken over now, under its row lock.
  if (fast.dialect === 'pg') {
    for (const tk of takeover) {
      await t.q('idempotency_keys').where({ id: tk.id }).update({
        request_hash: tk.hash,
        state: 'in_flight',
        response_status: null,
        response_body: null,
        created_at: t.now,
        expires_at: expires,
      });
    }
  }
  return states;
}

function judge(row: KeyRow, hash: string, nowMs: number): KeyState {
  const expired = Date.parse(row.expires_at) <= nowMs;
  const abandoned = row.state === 'in_flight' && Date.parse(row.created_at) + IN_FLIGHT_TAKEOVER_MS <= nowMs;
  if (expired || abandoned) return { kind: 'fresh', id: Number(row.id) };
  if (row.request_hash !== hash)
    return { kind: 'refused', error: new RuleViolation('idempotency_mismatch', 'This Idempotency-Key was used with a different request') };
  if (row.state === 'in_flight' || !row.response_body)
    return {
      kind: 'refused',
      error: new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight'),
    };
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
    return {
      request_hash: o.claim.hash,
      state: 'done',
      response_status: a.ok ? 200 : 422,
      response_body: JSON.stringify(stored),
      created_at: t.now,
      expires_at: expires,
    };
  };
  const release = outcomes.filter((o) => !o.answer && o.id !== null).map((o) => o.id!);
  const inserts = outcomes.filter((o) => o.answer && o.id === null).map((o) => ({ scope: o.claim.scope, key: o.claim.key, ...done(o) }));
  const updates = outcomes.filter((o) => o.answer && o.id !== null).map((o) => ({ id: o.id!, ...done(o) }));
  const fast = await fastSql(t.q);
  if (release.length) await t.q('idempotency_keys').whereIn('id', release).delete();
  await insertKeys(t, inserts);
  if (!updates.length) return;
  if (fast.dialect === 'pg') {
    await fast.query(
      'idem_settle',
      {
        sqlite: '',
        pg: `UPDATE idempotency_keys AS k SET request_hash = v.request_hash, state = v.state, response_status = v.response_status,
             response_body = v.response_body, created_at = v.created_at, expires_at = v.expires_at
           FROM json_to_recordset(?::json) AS v(id bigint, request_hash text, state text, response_status int, response_body text, created_at text, expires_at text)
           WHERE k.id = v.id`,
      },
      [JSON.stringify(updates)],
    );
  } else {
    for (const { id, ...row } of updates) await t.q('idempotency_keys').where({ id }).update(row);
  }
}

type KeyInsert = {
  scope: string;
  key: string;
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
};

/** Inserts answered keys (the batch writes its items' keys through this too). */
export async function insertKeys(t: Tx, rows: KeyInsert[]): Promise<void> {
  await (
    await fastSql(t.q)
  ).insert(
    KEYS,
    rows.map((r) => [r.scope, r.key, r.request_hash, r.state, r.response_status, r.response_body, r.created_at, r.expires_at]),
  );
}

const KEYS: Table = {
  name: 'idempotency_keys',
  columns: [
    ['scope', 'text'],
    ['key', 'text'],
    ['request_hash', 'text'],
    ['state', 'text'],
    ['response_status', 'int'],
    ['response_body', 'text'],
    ['created_at', 'text'],
    ['expires_at', 'text'],
  ],
};
