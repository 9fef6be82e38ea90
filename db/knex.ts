import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// BIGINT (int8) and COUNT(*) come back from node-pg as strings; every integer we store
// (minor units, ids) stays far below 2^53, so numbers are exact.
pg.types.setTypeParser(20, (v) => Number(v));

export type Dialect = 'sqlite' | 'pg';

export interface DbOptions {
  url: string;
  poolMax?: number;
  /** PostgreSQL only: the schema to use (tests get a fresh one per run). */
  schema?: string;
}

export function dialectOf(db: Knex): Dialect {
  const client = String((db.client as { config: { client: unknown } }).config.client);
  return client.includes('sqlite') ? 'sqlite' : 'pg';
}

export function createKnex(opts: DbOptions): Knex {
  if (opts.url.startsWith('sqlite:')) {
    const filename = opts.url.slice('sqlite:'.length);
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // One connection: SQLite has one writer; knex queues everything else behind it.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
          try {
            conn.pragma('journal_mode = WAL');
            conn.pragma('busy_timeout = 10000');
            conn.pragma('foreign_keys = ON');
            conn.pragma('synchronous = NORMAL');
            cachePreparedStatements(conn);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
  }
  const schema = opts.schema;
  return knexFactory({
    client: 'pg',
    connection: opts.url,
    searchPath: schema ? [schema] : undefined,
    pool: {
      min: 0,
      max: opts.poolMax ?? 10,
      ...(schema
        ? {
            afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
              conn.query(`SET search_path TO "${schema}"`, (err: Error | null) => done(err, conn));
            },
          }
        : {}),
    },
  });
}

/**
 * knex prepares every statement anew; preparing costs as much as running on SQLite. The
 * same few hundred statements recur, so keep them (knex runs each to completion, so a
 * cached statement is never in use twice at once).
 */
function cachePreparedStatements(conn: { prepare(sql: string): unknown }) {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= 2000) cache.clear();
      stmt = prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}
