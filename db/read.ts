import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { dialectOf } from './knex.js';

/**
 * The hot reads (a customer's accounts, a page of an account's entries) without the query
 * builder, as arrays of column values in select order.
 *
 *  - SQLite: a read-only connection of its own beside knex's single read-write one. In WAL
 *    mode it reads the last committed state and never waits for a write transaction the
 *    writer holds open (knex's one connection would queue the read behind it), and it never
 *    sees that transaction's uncommitted rows. Statements are prepared once.
 *  - PostgreSQL: named prepared statements on a pooled connection, rows as arrays.
 *
 * Everything else reads through knex (or Objection); this is for the few reads every
 * screen makes many times a second.
 */
export interface ReadSql {
  /** Each call reads the last committed state on its own: callers must not need two reads to agree. */
  rows(name: string, sql: { sqlite: string; pg: string }, params: readonly unknown[]): Promise<unknown[][]>;
}

interface PgConnection {
  query(q: { name: string; text: string; values: readonly unknown[]; rowMode: 'array' }): Promise<{ rows: unknown[][] }>;
}

const readers = new WeakMap<Knex, ReadSql>();
const sqliteFiles = new WeakMap<Knex, string>();

/** createKnex registers a SQLite database's file here (an in-memory database reads through knex). */
export function registerSqliteFile(db: Knex, filename: string): void {
  sqliteFiles.set(db, filename);
}

export function readSql(db: Knex): ReadSql {
  let r = readers.get(db);
  if (!r) {
    r = dialectOf(db) === 'pg' ? pgReader(db) : sqliteFiles.has(db) ? sqliteReader(db, sqliteFiles.get(db)!) : knexReader(db);
    readers.set(db, r);
  }
  return r;
}

const pgText = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

function pgReader(db: Knex): ReadSql {
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<unknown> };
  const texts = new Map<string, string>();
  return {
    async rows(name, sql, params) {
      let text = texts.get(name);
      if (!text) texts.set(name, (text = pgText(sql.pg)));
      const conn = await client.acquireConnection();
      try {
        return (await conn.query({ name: `read_${name}`, text, values: params, rowMode: 'array' })).rows;
      } finally {
        await client.releaseConnection(conn);
      }
    },
  };
}

function sqliteReader(db: Knex, filename: string): ReadSql {
  let conn: Database.Database | null = null;
  const statements = new Map<string, Database.Statement>();
  const open = () => {
    if (!conn) {
      conn = new Database(filename, { readonly: true, fileMustExist: true });
      conn.pragma('busy_timeout = 10000');
      // knex's destroy closes this connection too.
      const client = db.client as { destroy(cb?: unknown): Promise<void> };
      const destroy = client.destroy.bind(client);
      client.destroy = async (cb?: unknown) => {
        conn?.close();
        conn = null;
        statements.clear();
        return destroy(cb);
      };
    }
    return conn;
  };
  const read = (name: string, sql: { sqlite: string }, params: readonly unknown[]) => {
    const c = open();
    let stmt = statements.get(name);
    if (!stmt) statements.set(name, (stmt = c.prepare(sql.sqlite).raw(true)));
    return stmt.all(...params) as unknown[][];
  };
  return {
    async rows(name, sql, params) {
      return read(name, sql, params);
    },
  };
}

/** An in-memory SQLite database has no second connection: read through knex. */
function knexReader(db: Knex): ReadSql {
  const run = async (sql: { sqlite: string }, params: readonly unknown[]) => {
    const rows = (await db.raw(sql.sqlite, params as Knex.RawBinding[])) as Record<string, unknown>[];
    return rows.map((r) => Object.values(r));
  };
  return {
    rows: (_name, sql, params) => run(sql, params),
  };
}
