import type { Knex } from 'knex';
import { dialectOf } from './knex.js';

/**
 * The ledger's fixed statements without the query builder. knex compiles every statement
 * anew (and builds a multi-row insert as one long compound SELECT); on the write path that
 * cost more than the database work itself. Here each statement is written once:
 *  - SQLite: prepared single-row statements run in a loop on the transaction's own
 *    connection (better-sqlite3 is synchronous, so a loop of them is a few microseconds a row;
 *    db/knex.ts keeps the prepared statements);
 *  - PostgreSQL: one named prepared statement per shape that takes whole columns as arrays
 *    (`unnest`), so a hundred rows are one round trip.
 * Use it inside a knex transaction only (it writes on that transaction's connection).
 */
export interface FastSql {
  /** Inserts rows (values in `columns` order) and returns the generated keys in row order. */
  insert(table: Table, rows: unknown[][]): Promise<number[]>;
  /** Runs one fixed statement (`?` placeholders) and returns its rows. */
  query<T = Record<string, unknown>>(name: string, sql: { sqlite: string; pg: string }, params: unknown[]): Promise<T[]>;
  dialect: 'sqlite' | 'pg';
}

/** A table's insert shape: columns with their PostgreSQL array types, and the generated key. */
export interface Table {
  name: string;
  columns: readonly (readonly [column: string, pgType: string])[];
  key?: string;
}

interface SqliteStatement {
  run(...params: unknown[]): { lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
  reader: boolean;
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  pragma(sql: string, opts?: { simple: boolean }): unknown;
}

/** How long a connection waits for another's write lock (db/knex.ts sets it on every connection). */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * SQLite: takes the database's write lock for this transaction now (the equivalent of BEGIN
 * IMMEDIATE) if no other connection holds it; if one does, answers at once with how long the
 * connection is set to wait for it (its busy_timeout). SQLite's own wait sleeps inside the
 * statement, which would stop this whole process — every request, every socket — while
 * another process (a worker sharing the file) writes; the caller waits on timers instead, and
 * requests keep arriving (and queue up for the ledger writer).
 */
export async function trySqliteWriteLock(trx: Knex.Transaction): Promise<{ locked: true } | { locked: false; busyTimeoutMs: number }> {
  const conn = (await (trx.client as { acquireConnection(): Promise<unknown> }).acquireConnection()) as SqliteConnection;
  const busyTimeoutMs = Number(conn.pragma('busy_timeout', { simple: true }));
  conn.pragma('busy_timeout = 0');
  try {
    conn.prepare('UPDATE branches SET id = id WHERE 0').run();
    return { locked: true };
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return { locked: false, busyTimeoutMs };
    throw err;
  } finally {
    conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}
interface PgConnection {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

const cache = new WeakMap<Knex.Transaction, Promise<FastSql>>();

/** The fast path on this transaction's connection. */
export function fastSql(trx: Knex.Transaction): Promise<FastSql> {
  let f = cache.get(trx);
  if (!f) {
    f = (async () => {
      const conn = await (trx.client as { acquireConnection(): Promise<unknown> }).acquireConnection();
      return dialectOf(trx) === 'sqlite' ? sqliteFast(conn as SqliteConnection) : pgFast(conn as PgConnection);
    })();
    cache.set(trx, f);
  }
  return f;
}

function sqliteFast(conn: SqliteConnection): FastSql {
  const inserts = new Map<Table, SqliteStatement>();
  return {
    dialect: 'sqlite',
    async insert(table, rows) {
      let stmt = inserts.get(table);
      if (!stmt) {
        const cols = table.columns.map(([c]) => `"${c}"`).join(', ');
        stmt = conn.prepare(`INSERT INTO "${table.name}" (${cols}) VALUES (${table.columns.map(() => '?').join(', ')})`);
        inserts.set(table, stmt);
      }
      const keys: number[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) keys[i] = Number(stmt.run(...rows[i].map(sqliteValue)).lastInsertRowid);
      return keys;
    },
    async query(_name, sql, params) {
      const stmt = conn.prepare(sql.sqlite);
      const values = params.map(sqliteValue);
      if (stmt.reader) return stmt.all(...values) as never;
      stmt.run(...values);
      return [];
    },
  };
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans are 0/1 here. */
const sqliteValue = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v);

function pgFast(conn: PgConnection): FastSql {
  return {
    dialect: 'pg',
    async insert(table, rows) {
      if (!rows.length) return [];
      const cols = table.columns.map(([c]) => `"${c}"`).join(', ');
      const arrays = table.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
      const text = `INSERT INTO "${table.name}" (${cols}) SELECT * FROM unnest(${arrays})${table.key ? ` RETURNING "${table.key}"` : ''}`;
      const values = table.columns.map((_, c) => rows.map((r) => r[c] ?? null));
      const res = await conn.query({ name: `fast_ins_${table.name}_${table.columns.length}`, text, values });
      // Serial keys are handed out in the order unnest yields the rows, whatever order RETURNING lists them in.
      return table.key ? res.rows.map((r) => Number((r as Record<string, unknown>)[table.key!])).sort((a, b) => a - b) : [];
    },
    async query(name, sql, params) {
      let n = 0;
      const text = sql.pg.replace(/\?/g, () => `$${++n}`);
      return (await conn.query({ name: `fast_${name}`, text, values: params })).rows as never;
    },
  };
}
