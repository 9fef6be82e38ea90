import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { registerSqliteFile } from './read.js';
import { SQLITE_BUSY_TIMEOUT_MS } from './fast.js';

// BIGINT (int8) and COUNT(*) come back from node-pg as strings; every integer we store
// (minor units, ids) stays far below 2^53, so numbers are exact.
pg.types.setTypeParser(20, (v) => Number(v));

export type Dialect = 'sqlite' | 'pg';

export interface DbOptions {
  url: string;
  poolMax?: number;
  /** PostgreSQL only: the schema to use (tests get a fresh one per run). */
  schema?: string;
  /**
   * SQLite only: checkpoint the WAL from a worker thread instead of inside COMMIT. A commit
   * that triggers SQLite's automatic checkpoint copies pages and fsyncs on the event loop
   * (most of a write's cost under load); the worker does it beside the server.
   */
  backgroundCheckpoint?: boolean;
}

export function dialectOf(db: Knex): Dialect {
  const client = String((db.client as { config: { client: unknown } }).config.client);
  return client.includes('sqlite') ? 'sqlite' : 'pg';
}

export function createKnex(opts: DbOptions): Knex {
  if (opts.url.startsWith('sqlite:')) {
    const filename = opts.url.slice('sqlite:'.length);
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
    const checkpointer = opts.backgroundCheckpoint && filename !== ':memory:' ? startCheckpointer(path.resolve(filename)) : null;
    const db = knexFactory({
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
            conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
            conn.pragma('foreign_keys = ON');
            conn.pragma('synchronous = NORMAL');
            // With the background checkpointer, SQLite's own checkpoint is only a safety net.
            if (checkpointer) conn.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
            cachePreparedStatements(conn);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
    if (filename !== ':memory:') registerSqliteFile(db, path.resolve(filename));
    if (checkpointer) {
      // knex's own destroy is read-only; its client's is where the pool is closed.
      const client = db.client as { destroy(cb?: unknown): Promise<void> };
      const destroy = client.destroy.bind(client);
      client.destroy = async (cb?: unknown) => {
        await checkpointer.stop();
        return destroy(cb);
      };
    }
    return db;
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

/** WAL pages after which a commit checkpoints by itself (the checkpointer normally keeps it far below). */
const SAFETY_NET_PAGES = 20_000;

/**
 * A worker thread with its own connection that checkpoints the WAL every few hundred
 * milliseconds. PASSIVE never waits for (or blocks) the writer; once the whole log is
 * copied, the next commit starts the WAL from its beginning again.
 */
function startCheckpointer(filename: string): { stop(): Promise<void> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require('better-sqlite3');
    const db = new Database(workerData.filename, { fileMustExist: false });
    db.pragma('busy_timeout = 0');
    const timer = setInterval(() => {
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: next time */ }
    }, workerData.everyMs);
    parentPort.on('message', (m) => {
      if (m !== 'stop') return;
      clearInterval(timer);
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* ignore */ }
      db.close();
      parentPort.postMessage('stopped');
    });
  `;
  const worker = new Worker(code, { eval: true, workerData: { filename, everyMs: 250 } });
  worker.unref();
  worker.on('error', () => undefined); // SQLite's own checkpoint (SAFETY_NET_PAGES) takes over.
  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const done = () => {
          worker.terminate().finally(() => resolve());
        };
        const timer = setTimeout(done, 2_000);
        worker.once('message', () => {
          clearTimeout(timer);
          done();
        });
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage('stop');
      })),
  };
}
