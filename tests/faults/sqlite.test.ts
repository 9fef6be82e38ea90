import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnex } from '../../db/knex.js';
import { createCustomer, openTestAccount, seedReference, userWithSession } from '../helpers/fixtures.js';
import { figure, invariants } from '../helpers/faults.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

/**
 * SQLite faults, injected into the server's own connection (the embedded default has one):
 * the database locked by another process past the busy timeout, and the disk full (SQLite's
 * max_page_count makes the file unable to grow, which SQLite reports exactly as a full disk:
 * SQLITE_FULL). Each answers 503 `unavailable` with Retry-After and changes nothing; the file
 * stays intact; the same request with the same key succeeds once the fault is gone.
 */
describe('SQLite busy and disk full', () => {
  let srv: TestServer;
  let teller: ApiClient;
  let accountId: number;
  const db = () => srv.running.bank.db;
  const balance = async () => Number((await db()('accounts').where({ id: accountId }).first()).balance);

  beforeAll(async () => {
    srv = await startTestServer({ dialect: 'sqlite' });
    await seedReference(db());
    teller = apiClient(srv.url, (await userWithSession(srv.running.bank, 'teller')).token);
    accountId = (await openTestAccount(srv.running.bank, await createCustomer(db()), 'CUR')).id;
  });
  afterAll(() => srv?.close());

  const deposit = (key: string) => teller.post('/deposits', { accountId, amount: '10.00' }, { 'Idempotency-Key': key });

  it('locked by another process past the busy timeout: 503 busy with Retry-After, then the retry posts once', async () => {
    const other = createKnex({ url: srv.testDb.url });
    // A short busy timeout on the server's one connection keeps the test quick (10 s in production).
    await db().raw('PRAGMA busy_timeout = 200');
    const before = await balance();
    const key = crypto.randomUUID();
    // Another process takes the write lock and keeps it.
    const held = other.transaction(async (trx) => {
      await trx.raw('UPDATE branches SET id = id WHERE 0');
      await new Promise((r) => setTimeout(r, 1_500));
    });
    await new Promise((r) => setTimeout(r, 100));
    const refused = await deposit(key);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'unavailable' });
    expect(refused.headers.get('retry-after')).toBe('1');
    await held;
    await other.destroy();
    const retried = await deposit(key);
    expect(retried.status).toBe(201);
    expect((await deposit(key)).headers.get('idempotent-replayed')).toBe('true');
    expect(await balance()).toBe(before + 1000);
    await db().raw('PRAGMA busy_timeout = 10000');
    figure('sqlite busy', { firstAnswer: refused.status, retryAfter: refused.headers.get('retry-after'), retry: retried.status });
  });

  it('while another process holds the write lock, the server keeps answering; the waiting deposit posts when it is free', async () => {
    const before = await balance();
    // A real other process (one in this process would stall the server's event loop itself).
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN IMMEDIATE'); console.log('locked');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1500);`,
        srv.testDb.url.slice('sqlite:'.length),
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => holder.once('exit', r));
    await new Promise((r) => holder.stdout!.once('data', r));
    // The server runs in this process: a ticker shows whether its event loop ever stops.
    let last = Date.now();
    let longestStall = 0;
    const ticker = setInterval(() => {
      longestStall = Math.max(longestStall, Date.now() - last);
      last = Date.now();
    }, 10);
    const waiting = deposit(crypto.randomUUID());
    await new Promise((r) => setTimeout(r, 300)); // the deposit is now waiting for the lock
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(200);
    const posted = await waiting;
    await exited;
    clearInterval(ticker);
    // SQLite's own busy wait would have stopped it for the whole 1.5 s; the server waits on timers.
    expect(longestStall).toBeLessThan(300);
    expect(posted.status).toBe(201);
    expect(await balance()).toBe(before + 1000);
  });

  it('disk full: 503 with Retry-After, nothing half-written, the file intact; once there is room the same key posts once', async () => {
    const before = await balance();
    const [{ page_count: pages }] = await db().raw('PRAGMA page_count');
    // Fill the database until it cannot grow: the next writes fail with SQLITE_FULL.
    await db().raw(`PRAGMA max_page_count = ${pages + 2}`);
    const answers: { status: number; key: string; body: any; retryAfter: string | null }[] = [];
    for (let i = 0; i < 40 && !answers.some((a) => a.status === 503); i++) {
      const key = crypto.randomUUID();
      const r = await teller.post('/deposits', { accountId, amount: '1.00', memo: 'x'.repeat(400) }, { 'Idempotency-Key': key });
      answers.push({ status: r.status, key, body: r.body, retryAfter: r.headers.get('retry-after') });
    }
    const full = answers.find((a) => a.status === 503)!;
    expect(full, JSON.stringify(answers.map((a) => a.status))).toBeTruthy();
    expect(full.body.error.code).toBe('unavailable');
    // SQLITE_FULL itself, or the automatic rollback SQLite makes on it (which hides the cause).
    expect(full.body.error.message).toMatch(/nothing was changed/);
    expect(Number(full.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 201 || a.status === 503)).toBe(true);
    const posted = answers.filter((a) => a.status === 201).length;
    // Reads still work while full.
    expect((await teller.get(`/accounts/${accountId}`)).status).toBe(200);
    expect(await balance()).toBe(before + posted * 100);
    const [{ integrity_check: integrity }] = await db().raw('PRAGMA integrity_check');
    expect(integrity).toBe('ok');

    // Room again: the refused request, same key, posts exactly once.
    await db().raw('PRAGMA max_page_count = 1073741823');
    const retried = await teller.post('/deposits', { accountId, amount: '1.00', memo: 'x'.repeat(400) }, { 'Idempotency-Key': full.key });
    expect(retried.status).toBe(201);
    expect(await balance()).toBe(before + (posted + 1) * 100);
    const { audit, ledger } = await invariants(db());
    expect(ledger.ok).toBe(true);
    expect(audit.ok).toBe(true);
    figure('sqlite disk full', {
      postedBeforeFull: posted,
      answer: full.body.error.code,
      retryAfter: full.retryAfter,
      integrity,
      retry: retried.status,
    });
  });
});
