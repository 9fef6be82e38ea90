/**
 * npm run bench — each scenario starts the real server (`node --import tsx server.ts`, ROLE=web,
 * on a fresh SQLite file or a fresh PostgreSQL schema) as a child process and loads it over
 * 127.0.0.1 from this process (autocannon) and from socket-client child processes.
 *
 *   BENCH_SECONDS=10   length of each timed load
 *   BENCH_DB=both      sqlite: the SQLite scenarios; pg: the PostgreSQL transfer scenario;
 *                      both: all of them
 *   BENCH_ONLY=...     a subset, comma separated: ceiling,reads,transfers,batch,pg,push,fanout
 *                      (the ceiling always runs when an HTTP scenario needs its ratio)
 *
 * Prints a markdown table (every HTTP figure also as a share of a bare Koa app loaded the
 * same way in the same run) and writes bench/results.json. Every scenario that writes ends
 * with GET /ledger/verify and GET /audit/verify as an admin.
 */
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import type { BankContext } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { createKnex } from '../../db/knex.js';
import { migrateLatest } from '../../db/migrate.js';
import { PG_URL } from '../helpers/db.js';
import { bankOn, createCustomer, openTestAccount, seedReference, userWithSession, TELLER } from '../helpers/fixtures.js';
import { percentile, spawnServer, type ServerProcess } from '../helpers/hub.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DB_MODE = (process.env.BENCH_DB ?? 'both') as 'sqlite' | 'pg' | 'both';
const SCENARIOS = ['ceiling', 'reads', 'transfers', 'batch', 'pg', 'push', 'fanout'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
const CONNECTIONS = 50;

const only = process.env.BENCH_ONLY
  ? process.env.BENCH_ONLY.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : null;
for (const s of only ?? [])
  if (!SCENARIOS.includes(s as ScenarioName)) throw new Error(`BENCH_ONLY: unknown scenario ${s} (known: ${SCENARIOS.join(', ')})`);
if (!['sqlite', 'pg', 'both'].includes(DB_MODE)) throw new Error('BENCH_DB must be sqlite, pg or both');
if (!(SECONDS > 0)) throw new Error('BENCH_SECONDS must be a positive number');
/** The ceiling runs whenever a figure needs its ratio (reads, single transfers). */
function wanted(s: ScenarioName): boolean {
  if (s === 'ceiling')
    return !only || only.includes('ceiling') || (['reads', 'transfers', 'pg'] as const).some((o) => only.includes(o) && wanted(o));
  if (only && !only.includes(s)) return false;
  if (s === 'pg') return DB_MODE !== 'sqlite';
  return DB_MODE !== 'pg';
}

// ---------------------------------------------------------------------------------------
// Figures

interface Figure {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  /** Share of the bare-Koa ceiling measured in this run (HTTP throughput figures). */
  ratio?: number;
  p50?: number;
  p99?: number;
  errors?: number;
  non2xx?: number;
  target?: string;
  met?: boolean;
  note?: string;
}
const figures: Figure[] = [];
const failures: { scenario: string; error: string }[] = [];
let ceilingRps: number | null = null;
const ratioOf = (rps: number) => (ceilingRps ? rps / ceilingRps : undefined);
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const now = () => performance.timeOrigin + performance.now();
/** A measured load, after a short unmeasured one that warms up the server's code paths. */
async function load(opts: autocannon.Options): Promise<autocannon.Result> {
  await autocannon({ ...opts, duration: Math.min(1, SECONDS / 3) });
  return autocannon({ ...opts, duration: SECONDS });
}
const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function add(f: Figure) {
  figures.push(f);
  const parts = [`${f.scenario}: ${f.figure} = ${round(f.value)} ${f.unit}`];
  if (f.ratio !== undefined) parts.push(`${round(f.ratio * 100)} % of ceiling`);
  if (f.p50 !== undefined) parts.push(`p50 ${round(f.p50)} ms, p99 ${round(f.p99 ?? NaN)} ms`);
  if (f.errors !== undefined) parts.push(`${f.errors} errors${f.non2xx !== undefined ? `, ${f.non2xx} non-2xx` : ''}`);
  if (f.met !== undefined) parts.push(`target ${f.target}: ${f.met ? 'met' : 'NOT met'}`);
  log(parts.join(' · '));
}

/** An autocannon result as a figure: req/s, its ratio to the ceiling, p50/p99, errors. */
function httpFigure(
  scenario: string,
  figure: string,
  r: autocannon.Result,
  target?: { text: string; met: (f: Figure) => boolean },
): Figure {
  const f: Figure = {
    scenario,
    figure,
    value: r.requests.average,
    unit: 'req/s',
    ratio: ratioOf(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
  if (target) {
    f.target = target.text;
    f.met = target.met(f);
  }
  add(f);
  return f;
}

// ---------------------------------------------------------------------------------------
// Clean-up: every child, temp dir and schema goes, also on failure and on Ctrl-C.

const cleanups: (() => Promise<void> | void)[] = [];
function defer(fn: () => Promise<void> | void): () => Promise<void> {
  let done = false;
  const run = async () => {
    if (done) return;
    done = true;
    const i = cleanups.indexOf(run);
    if (i >= 0) cleanups.splice(i, 1);
    try {
      await fn();
    } catch (err) {
      log(`clean-up failed: ${(err as Error).message}`);
    }
  };
  cleanups.push(run);
  return run;
}
async function cleanAll() {
  while (cleanups.length) await cleanups[cleanups.length - 1]();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanAll().finally(() => process.exit(130));
  });
}

for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (err) => {
    log(`${ev}: ${(err as Error)?.stack ?? err}; cleaning up`);
    void cleanAll().finally(() => process.exit(1));
  });
}

const forked = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of forked) c.kill('SIGKILL');
});

/** A TypeScript child process of ours (tests/bench/<file>) with IPC. */
interface Kid {
  child: ChildProcess;
  next<T = any>(type: string, timeoutMs?: number): Promise<T>;
  send(msg: unknown): void;
}
function forkKid(file: string): Kid {
  const child = fork(path.join(ROOT, 'tests/bench', file), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  forked.add(child);
  const waiting: { type: string; resolve(m: any): void }[] = [];
  const queue: any[] = [];
  child.on('message', (m: any) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
    else queue.push(m);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    forked.delete(child);
  });
  defer(async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(t);
  });
  return {
    child,
    send: (msg) => child.send(msg as never),
    next(type, timeoutMs = 120_000) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${file}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (code: number | null) => reject(new Error(`${file} exited (${code}) waiting for '${type}'`));
        child.once('exit', onExit);
        waiting.push({
          type,
          resolve: (m) => {
            clearTimeout(t);
            child.off('exit', onExit);
            resolve(m);
          },
        });
      });
    },
  };
}

// ---------------------------------------------------------------------------------------
// A fresh database, seeded from this process, and the real server on it.

interface Fresh {
  url: string;
  db: Knex;
  bank: BankContext;
  /** Closes this process's connection (before the load, so it never competes). */
  close(): Promise<void>;
}

async function freshDb(dialect: 'sqlite' | 'pg'): Promise<Fresh> {
  let db: Knex;
  let url: string;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-bench-'));
    defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    url = `sqlite:${path.join(dir, 'bank.sqlite')}`;
    db = createKnex({ url });
  } else {
    const schema = `bench_${crypto.randomBytes(5).toString('hex')}`;
    const admin = createKnex({ url: PG_URL, poolMax: 1 });
    await admin.raw(`CREATE SCHEMA "${schema}"`);
    await admin.destroy();
    defer(async () => {
      const cleanup = createKnex({ url: PG_URL, poolMax: 1 });
      await cleanup.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await cleanup.destroy();
    });
    url = `${PG_URL}?options=-c%20search_path%3D${schema}`;
    db = createKnex({ url: PG_URL, schema, poolMax: 4 });
  }
  const close = defer(() => db.destroy());
  await migrateLatest(db);
  const bank = await bankOn(db);
  await seedReference(db);
  return { url, db, bank, close };
}

let lastServer: ServerProcess | null = null;
async function startServer(url: string): Promise<ServerProcess> {
  const server = await spawnServer({ DATABASE_URL: url });
  lastServer = server;
  defer(() => server.kill('SIGTERM'));
  return server;
}

/** Customers with sessions and accounts (funded when `fund` is set, in major units). */
async function customers(bank: BankContext, n: number, opts: { accountsEach?: number; fund?: string; prefix: string }) {
  const out: { customerId: number; token: string; accounts: { id: number; number: string }[] }[] = [];
  for (let i = 0; i < n; i++) {
    const customerId = await createCustomer(bank.db, `${opts.prefix}${i}x${crypto.randomBytes(3).toString('hex')}`);
    const { token } = await userWithSession(bank, 'customer', { customerId });
    const accounts: { id: number; number: string }[] = [];
    for (let k = 0; k < (opts.accountsEach ?? 1); k++) {
      const a = await openTestAccount(bank, customerId, 'CUR');
      if (opts.fund) await ledger.deposit(bank, TELLER, { accountId: a.id, amount: opts.fund });
      accounts.push({ id: a.id, number: a.number });
    }
    out.push({ customerId, token, accounts });
  }
  return out;
}

async function api(base: string, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** GET /ledger/verify and /audit/verify as an admin: both must answer ok: true. */
async function verify(scenario: string, base: string, adminToken: string) {
  const l = await api(base, adminToken, 'GET', '/ledger/verify');
  const a = await api(base, adminToken, 'GET', '/audit/verify');
  const ok = l.status === 200 && l.body.ok === true && a.status === 200 && a.body.ok === true;
  const note = `ledger ok:${l.body?.ok} (${l.body?.transactions} transactions, ${l.body?.accounts} accounts), audit ok:${a.body?.ok} (${a.body?.checked} rows)`;
  add({ scenario, figure: 'ledger & audit verify', value: ok ? 1 : 0, unit: 'ok', target: 'ok:true', met: ok, note });
  if (!ok) log(`verify failed: ${JSON.stringify({ ledger: l.body, audit: a.body }).slice(0, 2000)}`);
}

function bearer(token: string) {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

/** Samples the first few refusals of a load, for the log. */
function refusals() {
  const seen: Record<string, number> = {};
  return {
    onResponse(status: number, body: string | undefined) {
      if (status < 300) return;
      let code = String(status);
      try {
        code += ` ${JSON.parse(body ?? '').error?.code}`;
      } catch {
        /* keep the status */
      }
      seen[code] = (seen[code] ?? 0) + 1;
    },
    print(scenario: string) {
      if (Object.keys(seen).length) log(`${scenario}: refusals ${JSON.stringify(seen)}`);
    },
  };
}

/** Single transfers between the accounts with a fresh Idempotency-Key each (setupRequest). */
async function transferLoad(base: string, staffToken: string, accounts: { id: number; number: string }[]) {
  let i = 0;
  const seen = refusals();
  const r = await load({
    url: `${base}/api/v1/transfers`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        headers: bearer(staffToken),
        setupRequest: (req: any) => {
          const from = accounts[i++ % accounts.length];
          const to = accounts[(i * 7 + 3) % accounts.length];
          const dst = to.id === from.id ? accounts[(i + 1) % accounts.length] : to;
          return {
            ...req,
            headers: { ...req.headers, 'Idempotency-Key': crypto.randomUUID() },
            body: JSON.stringify({ fromAccountId: from.id, toAccountNumber: dst.number, amount: '1.25' }),
          };
        },
        onResponse: (status: number, body: string) => seen.onResponse(status, body),
      },
    ],
  });
  return { r, seen };
}

// ---------------------------------------------------------------------------------------
// Scenarios

async function ceiling() {
  const kid = forkKid('ceiling.ts');
  const { url } = await kid.next<{ url: string }>('ready', 60_000);
  const r = await load({ url, connections: CONNECTIONS, duration: SECONDS });
  ceilingRps = r.requests.average;
  httpFigure('ceiling', 'bare Koa GET {ok:true}', r);
}

async function reads() {
  const fresh = await freshDb('sqlite');
  const { bank, db } = fresh;
  const people = await customers(bank, 10, { accountsEach: 3, fund: '1000', prefix: 'Reader' });
  const admin = await userWithSession(bank, 'admin');
  // The account with 100,000 entries: transfers from a funded account of the same customer.
  const [target, source] = people[0].accounts;
  await ledger.deposit(bank, TELLER, { accountId: source.id, amount: '1000000' });
  const started = now();
  await seedEntries(db, source.id, target.id, 100_000, 100);
  log(`reads: 100,000 transfers (200,000 entries) written in ${Math.round(now() - started)} ms`);
  // Pages from the start, the middle and the end of the account's entries (cursor = entry id).
  const cursors: (number | null)[] = [null];
  for (const offset of [50_000, 99_900])
    cursors.push((await db('entries').where('account_id', target.id).orderBy('id').offset(offset).first('id')).id);
  await fresh.close();
  const server = await startServer(fresh.url);
  const base = server.url;

  const accounts = await load({
    url: `${base}/api/v1/accounts`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: people.map((p) => ({ method: 'GET', path: '/api/v1/accounts', headers: { Authorization: `Bearer ${p.token}` } })),
  });
  httpFigure('reads', 'GET /accounts (10 customers rotated)', accounts, {
    text: '≥ 35 % of ceiling',
    met: (f) => (f.ratio ?? 0) >= 0.35 && !f.errors && !f.non2xx,
  });

  for (const c of cursors) {
    const page = await api(base, people[0].token, 'GET', `/accounts/${target.id}/entries${c ? `?cursor=${c}` : ''}`);
    if (page.status !== 200 || !page.body.items?.length || !page.body.nextCursor)
      throw new Error(`entries page after ${c}: ${page.status} ${JSON.stringify(page.body).slice(0, 300)}`);
  }
  const entries = await load({
    url: `${base}/api/v1/accounts/${target.id}/entries`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: cursors.map((c) => ({
      method: 'GET',
      path: `/api/v1/accounts/${target.id}/entries${c ? `?cursor=${c}` : ''}`,
      headers: { Authorization: `Bearer ${people[0].token}` },
    })),
  });
  httpFigure('reads', 'GET /accounts/:id/entries (100,000 entries; first, middle, last page)', entries, {
    text: '≥ 35 % of ceiling, p99 ≤ 20 ms',
    met: (f) => (f.ratio ?? 0) >= 0.35 && (f.p99 ?? Infinity) <= 20 && !f.errors && !f.non2xx,
  });
  await verify('reads', base, admin.token);
}

/**
 * `count` transfers of `amountMinor` from one account to another, written straight into the
 * database with multi-row inserts: each transaction's two entries sum to zero and each
 * account's balance_after chain continues from its balance (checked by /ledger/verify after).
 */
async function seedEntries(db: Knex, fromId: number, toId: number, count: number, amountMinor: number) {
  await db.transaction(async (trx) => {
    const acc = await trx('accounts').whereIn('id', [fromId, toId]).select('id', 'balance', 'currency');
    const from = acc.find((a) => a.id === fromId)!;
    const to = acc.find((a) => a.id === toId)!;
    let fromBal = Number(from.balance);
    let toBal = Number(to.balance);
    if (fromBal < count * amountMinor) throw new Error('seedEntries: source account is short of funds');
    const [{ t }] = await trx('transactions').max({ t: 'id' });
    const [{ e }] = await trx('entries').max({ e: 'id' });
    let txId = Number(t ?? 0);
    let entryId = Number(e ?? 0);
    const base = Date.now() - count - 60_000;
    const CHUNK = 500;
    for (let done = 0; done < count; done += CHUNK) {
      const txs = [];
      const ens = [];
      for (let k = done; k < Math.min(count, done + CHUNK); k++) {
        const at = new Date(base + k).toISOString();
        txId++;
        txs.push({
          id: txId,
          kind: 'transfer',
          status: 'posted',
          amount: amountMinor,
          currency: from.currency,
          from_account_id: fromId,
          to_account_id: toId,
          memo: 'bench seed',
          created_at: at,
          posted_at: at,
        });
        fromBal -= amountMinor;
        toBal += amountMinor;
        ens.push({ id: ++entryId, transaction_id: txId, account_id: fromId, amount: -amountMinor, balance_after: fromBal, at });
        ens.push({ id: ++entryId, transaction_id: txId, account_id: toId, amount: amountMinor, balance_after: toBal, at });
      }
      await insertRows(trx, 'transactions', txs);
      await insertRows(trx, 'entries', ens);
    }
    await trx('accounts').where('id', fromId).update({ balance: fromBal });
    await trx('accounts').where('id', toId).update({ balance: toBal });
  });
}

/** One multi-row INSERT … VALUES (knex writes SQLite multi-row inserts as UNION ALL selects, limited to 500). */
async function insertRows(trx: Knex.Transaction, table: string, rows: Record<string, unknown>[]) {
  const cols = Object.keys(rows[0]);
  const one = `(${cols.map(() => '?').join(', ')})`;
  await trx.raw(
    `insert into ${table} (${cols.join(', ')}) values ${rows.map(() => one).join(', ')}`,
    rows.flatMap((r) => cols.map((c) => r[c] as Knex.RawBinding)),
  );
}

/** 48 funded accounts over 8 customers, a teller and an admin with sessions. */
async function transferBank(dialect: 'sqlite' | 'pg') {
  const fresh = await freshDb(dialect);
  const people = await customers(fresh.bank, 8, { accountsEach: 6, fund: '10000000', prefix: 'Payer' });
  const teller = await userWithSession(fresh.bank, 'teller');
  const manager = await userWithSession(fresh.bank, 'manager');
  const admin = await userWithSession(fresh.bank, 'admin');
  await fresh.close();
  const server = await startServer(fresh.url);
  return { server, base: server.url, accounts: people.flatMap((p) => p.accounts), teller, manager, admin };
}

async function transfers(scenario: 'transfers' | 'pg') {
  const dialect = scenario === 'pg' ? 'pg' : 'sqlite';
  const { base, accounts, teller, admin } = await transferBank(dialect);
  const { r, seen } = await transferLoad(base, teller.token, accounts);
  seen.print(scenario);
  const label = `POST /transfers, fresh key each (${dialect === 'pg' ? 'PostgreSQL' : 'SQLite'}, ${accounts.length} accounts)`;
  if (dialect === 'sqlite') {
    httpFigure(scenario, label, r, {
      text: '≥ 5,000/s, ≥ 15 % of ceiling, p99 ≤ 25 ms, 0 errors',
      met: (f) => f.value >= 5_000 && (f.ratio ?? 0) >= 0.15 && (f.p99 ?? Infinity) <= 25 && !f.errors && !f.non2xx,
    });
  } else {
    httpFigure(scenario, label, r, { text: '≥ 2,000/s, 0 errors', met: (f) => f.value >= 2_000 && !f.errors && !f.non2xx });
  }
  await verify(scenario, base, admin.token);
}

async function batch() {
  const { base, accounts, manager, admin } = await transferBank('sqlite');
  const requests = Math.max(3, Math.min(10, Math.round(SECONDS / 2)));
  const times: number[] = [];
  let posted = 0;
  let failed = 0;
  const codes: Record<string, number> = {};
  let total = 0;
  for (let b = 0; b < requests; b++) {
    const items = Array.from({ length: 5_000 }, (_, i) => {
      const from = accounts[(i + b) % accounts.length];
      const to = accounts[(i * 7 + b + 1) % accounts.length];
      const dst = to.id === from.id ? accounts[(i + b + 1) % accounts.length] : to;
      return {
        idempotencyKey: `bench-${b}-${i}-${crypto.randomBytes(4).toString('hex')}`,
        fromAccountNumber: from.number,
        toAccountNumber: dst.number,
        amount: '0.75',
      };
    });
    const t0 = now();
    const res = await api(base, manager.token, 'POST', '/batch/transfers', { atomic: false, items });
    const ms = now() - t0;
    times.push(ms);
    total += ms;
    if (res.status !== 200) {
      failed += items.length;
      codes[`http ${res.status} ${res.body?.error?.code}`] = (codes[`http ${res.status} ${res.body?.error?.code}`] ?? 0) + 1;
      continue;
    }
    for (const it of res.body.results as { status: string; error: { code: string } | null }[]) {
      if (it.status === 'posted') posted++;
      else {
        failed++;
        codes[`${it.status} ${it.error?.code ?? ''}`] = (codes[`${it.status} ${it.error?.code ?? ''}`] ?? 0) + 1;
      }
    }
  }
  if (failed) log(`batch: not posted ${JSON.stringify(codes)}`);
  const rate = posted / (total / 1000);
  add({
    scenario: 'batch',
    figure: `POST /batch/transfers, ${requests} × 5,000 items (SQLite)`,
    value: rate,
    unit: 'transfers/s',
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    errors: failed,
    target: '≥ 50,000/s',
    met: rate >= 50_000 && failed === 0,
    note: 'p50/p99 are per 5,000-item request',
  });
  await verify('batch', base, admin.token);
}

/** Spreads `tokens` over `kids` socket-client children and connects them all. */
async function connectSockets(url: string, tokens: string[], kids: number) {
  const children: Kid[] = [];
  for (let k = 0; k < kids; k++) children.push(forkKid('clients.ts'));
  await Promise.all(children.map((c) => c.next('ready', 60_000)));
  const per = Math.ceil(tokens.length / kids);
  const t0 = now();
  children.forEach((c, k) => c.send({ type: 'connect', url, tokens: tokens.slice(k * per, (k + 1) * per), concurrency: 50 }));
  const done = await Promise.all(children.map((c) => c.next<{ connected: number; failed: number; error?: string }>('connected', 300_000)));
  const connected = done.reduce((s, d) => s + d.connected, 0);
  const failed = done.reduce((s, d) => s + d.failed, 0);
  log(
    `${connected} sockets connected in ${Math.round(now() - t0)} ms${failed ? `, ${failed} failed (${done.find((d) => d.error)?.error})` : ''}`,
  );
  const report = async () => {
    const parts = await Promise.all(
      children.map((c) => {
        c.send({ type: 'report' });
        return c.next<{ balance: [number, number, number][]; announcements: [number, number][]; connected: number }>('report', 30_000);
      }),
    );
    return {
      balance: parts.flatMap((p) => p.balance),
      announcements: parts.flatMap((p) => p.announcements),
      connected: parts.reduce((s, p) => s + p.connected, 0),
    };
  };
  return { children, connected, failed, report };
}

async function push() {
  const fresh = await freshDb('sqlite');
  const t0 = now();
  const payers = await customers(fresh.bank, 4, { accountsEach: 10, fund: '10000000', prefix: 'Sender' });
  const receivers = await customers(fresh.bank, 1_000, { prefix: 'Listener' });
  const teller = await userWithSession(fresh.bank, 'teller');
  const admin = await userWithSession(fresh.bank, 'admin');
  log(`push: 1,000 customers and 40 funded accounts seeded in ${Math.round(now() - t0)} ms`);
  await fresh.close();
  const server = await startServer(fresh.url);
  const base = server.url;
  const sockets = await connectSockets(
    base,
    receivers.map((r) => r.token),
    2,
  );

  const from = payers.flatMap((p) => p.accounts);
  const to = receivers.map((r) => r.accounts[0]);
  const answeredAt = new Map<number, number>();
  let i = 0;
  let measuring = false;
  const seen = refusals();
  const paced = (duration: number) =>
    autocannon({
      url: `${base}/api/v1/transfers`,
      connections: CONNECTIONS,
      overallRate: 1_000,
      duration,
      requests: [
        {
          method: 'POST',
          headers: bearer(teller.token),
          setupRequest: (req: any) => {
            const n = i++;
            return {
              ...req,
              headers: { ...req.headers, 'Idempotency-Key': crypto.randomUUID() },
              body: JSON.stringify({ fromAccountId: from[n % from.length].id, toAccountNumber: to[n % to.length].number, amount: '0.10' }),
            };
          },
          onResponse: (status: number, body: string) => {
            const at = now();
            seen.onResponse(status, body);
            if (status !== 201 || !measuring) return;
            try {
              answeredAt.set(JSON.parse(body).id, at);
            } catch {
              /* counted as never pushed */
            }
          },
        },
      ],
    });
  // Warm-up at the same pace; its pushes are drained and not counted.
  await paced(Math.min(1, SECONDS / 3));
  await new Promise((res) => setTimeout(res, 500));
  await sockets.report();
  measuring = true;
  const r = await paced(SECONDS);
  measuring = false;
  seen.print('push');
  // Let the last pushes arrive, then gather them.
  const received = new Map<number, [number, number]>();
  for (let wait = 0; wait < 40; wait++) {
    await new Promise((res) => setTimeout(res, 100));
    const rep = await sockets.report();
    for (const [tx, atMs, at] of rep.balance) if (!received.has(tx)) received.set(tx, [atMs, at]);
    if ([...answeredAt.keys()].every((tx) => received.has(tx))) break;
  }
  const answerToPush: number[] = [];
  const atToPush: number[] = [];
  let missing = 0;
  for (const [tx, answered] of answeredAt) {
    const got = received.get(tx);
    if (!got) {
      missing++;
      continue;
    }
    answerToPush.push(got[1] - answered);
    atToPush.push(got[1] - got[0]);
  }
  const rate = answeredAt.size / SECONDS;
  add({
    scenario: 'push',
    figure: `transfers at ~1,000/s with ${sockets.connected} customer sockets`,
    value: r.requests.average,
    unit: 'req/s',
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    note: `${answeredAt.size} answered 201 (${Math.round(rate)}/s)`,
  });
  add({
    scenario: 'push',
    figure: 'REST answer → balance.updated on the socket',
    value: percentile(answerToPush, 99),
    unit: 'ms (p99)',
    p50: percentile(answerToPush, 50),
    p99: percentile(answerToPush, 99),
    errors: missing + sockets.failed,
    target: 'p99 ≤ 50 ms, none missing, load ≥ 900 transfers/s',
    met: percentile(answerToPush, 99) <= 50 && missing === 0 && sockets.failed === 0 && rate >= 900,
    note: `${answerToPush.length} pushes matched, ${missing} answered transfers never pushed`,
  });
  add({
    scenario: 'push',
    figure: "event's at (transaction start) → socket",
    value: percentile(atToPush, 99),
    unit: 'ms (p99)',
    p50: percentile(atToPush, 50),
    p99: percentile(atToPush, 99),
  });
  sockets.children.forEach((c) => c.send({ type: 'close' }));
  await verify('push', base, admin.token);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]);
}

async function fanout() {
  const fresh = await freshDb('sqlite');
  // 8 sockets a session (the hub's default bound per session; 20 per user): 1,250 customers.
  const people = await customers(fresh.bank, 1_250, { prefix: 'Reader' });
  const manager = await userWithSession(fresh.bank, 'manager');
  const admin = await userWithSession(fresh.bank, 'admin');
  await fresh.close();
  const server = await startServer(fresh.url);
  const base = server.url;
  // Warm the server up a little (the first requests load code) before measuring its memory.
  for (let k = 0; k < 20; k++) await api(base, people[k % people.length].token, 'GET', '/accounts');
  await new Promise((res) => setTimeout(res, 1_000));
  const before = rssKb(server.child.pid!);
  const SOCKETS = 10_000;
  const tokens = Array.from({ length: SOCKETS }, (_, k) => people[k % people.length].token);
  const sockets = await connectSockets(base, tokens, 4);
  await new Promise((res) => setTimeout(res, 2_000));
  const after = rssKb(server.child.pid!);
  const perConn = (after - before) / Math.max(1, sockets.connected);
  add({
    scenario: 'fanout',
    figure: `server RSS per socket (${sockets.connected} sockets)`,
    value: perConn,
    unit: 'KB',
    errors: sockets.failed,
    target: '≤ 15 KB',
    met: perConn <= 15 && sockets.failed === 0,
    note: `RSS ${Math.round(before / 1024)} MiB before, ${Math.round(after / 1024)} MiB after`,
  });

  // One announcement is a single sample of a 2-core machine shared with 4 client processes:
  // three rounds, and the median round is the figure (all three are in the note).
  const rounds: { last: number; arrivals: number[]; missing: number; answeredMs: number }[] = [];
  for (let round = 0; round < 3; round++) {
    const sentAt = now();
    const res = await api(base, manager.token, 'POST', '/announcements', {
      title: `Bench ${round + 1}`,
      message: 'Fan-out to every socket',
      audience: 'all',
    });
    const answeredAt = now();
    if (res.status !== 201) throw new Error(`announcement: ${res.status} ${JSON.stringify(res.body)}`);
    const id = res.body.id as number;
    const arrivals: number[] = [];
    for (let wait = 0; wait < 200 && arrivals.length < sockets.connected; wait++) {
      await new Promise((r) => setTimeout(r, 50));
      const rep = await sockets.report();
      for (const [aid, at] of rep.announcements) if (aid === id) arrivals.push(at - sentAt);
    }
    rounds.push({
      last: arrivals.length ? Math.max(...arrivals) : NaN,
      arrivals,
      missing: sockets.connected - arrivals.length,
      answeredMs: answeredAt - sentAt,
    });
    await new Promise((r) => setTimeout(r, 500));
  }
  const median = [...rounds].sort((a, b) => a.last - b.last)[1];
  const missing = Math.max(...rounds.map((r) => r.missing));
  add({
    scenario: 'fanout',
    figure: `announcement to all ${sockets.connected} sockets: last arrival after POST (median of 3)`,
    value: median.last,
    unit: 'ms',
    p50: percentile(median.arrivals, 50),
    p99: percentile(median.arrivals, 99),
    errors: missing,
    target: '≤ 500 ms, all reached',
    met: median.last <= 500 && missing === 0,
    note: `rounds: ${rounds.map((r) => `${Math.round(r.last)} ms`).join(', ')}; POST answered after ${Math.round(median.answeredMs)} ms`,
  });
  sockets.children.forEach((c) => c.send({ type: 'close' }));
  await verify('fanout', base, admin.token);
}

// ---------------------------------------------------------------------------------------

const RUN: Record<ScenarioName, () => Promise<void>> = {
  ceiling,
  reads,
  transfers: () => transfers('transfers'),
  batch,
  pg: () => transfers('pg'),
  push,
  fanout,
};

function table(): string {
  const fmt = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '' : round(v, d).toLocaleString('en-US'));
  const lines = [
    '| scenario | figure | value | unit | ratio to ceiling | p50 ms | p99 ms | errors | target | met? |',
    '|---|---|---:|---|---:|---:|---:|---:|---|---|',
  ];
  for (const f of figures) {
    const value = f.unit === 'ok' ? (f.value ? 'ok' : 'FAILED') : fmt(f.value, f.unit === 'KB' || f.unit.startsWith('ms') ? 1 : 0);
    const errors = f.errors === undefined ? '' : `${f.errors}${f.non2xx ? ` (+${f.non2xx} non-2xx)` : ''}`;
    const unit = f.unit === 'ok' ? (f.note ?? '') : f.unit;
    lines.push(
      `| ${f.scenario} | ${f.figure} | ${value} | ${unit} | ${f.ratio === undefined ? '' : `${fmt(f.ratio * 100)} %`} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${errors} | ${f.target ?? ''} | ${f.met === undefined ? '' : f.met ? 'yes' : '**no**'} |`,
    );
  }
  for (const x of failures)
    lines.push(`| ${x.scenario} | FAILED: ${x.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200)} | | | | | | | | **no** |`);
  return lines.join('\n');
}

async function main() {
  const started = now();
  const run = SCENARIOS.filter(wanted);
  log(`scenarios: ${run.join(', ')} · BENCH_SECONDS=${SECONDS} · BENCH_DB=${DB_MODE}`);
  for (const s of run) {
    log(`--- ${s}`);
    lastServer = null;
    try {
      await RUN[s]();
    } catch (err) {
      failures.push({ scenario: s, error: (err as Error).message });
      log(`${s} failed: ${(err as Error).stack ?? err}`);
      const server = lastServer as ServerProcess | null; // set by the scenario
      if (server) log(`the server's last output (${server.alive() ? 'running' : 'exited'}):\n${server.output().slice(-3_000)}`);
    } finally {
      await cleanAll();
    }
  }
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavg: os.loadavg().map((v) => round(v, 2)),
  };
  const elapsed = Math.round((now() - started) / 1000);
  const command = `BENCH_SECONDS=${SECONDS} BENCH_DB=${DB_MODE}${only ? ` BENCH_ONLY=${only.join(',')}` : ''} npm run bench`;
  console.log(`\n## Benchmark — \`${command}\`\n`);
  console.log(
    `${new Date().toISOString()} · ${machine.cores} cores (${machine.cpu}) · Node ${machine.node} · ${CONNECTIONS} connections · ${SECONDS} s per load · ${elapsed} s in all · ceiling = bare Koa, same run\n`,
  );
  console.log(table());
  console.log();
  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  const out = path.join(ROOT, 'bench', 'results.json');
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command,
        machine,
        BENCH_SECONDS: SECONDS,
        BENCH_DB: DB_MODE,
        BENCH_ONLY: only,
        connections: CONNECTIONS,
        ceilingRps,
        elapsedSeconds: elapsed,
        figures,
        failures,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(ROOT, out)}`);
  const unmet = figures.filter((f) => f.met === false).length;
  if (unmet) log(`${unmet} target(s) not met`);
  process.exitCode = failures.length ? 1 : 0;
}

main().catch(async (err) => {
  console.error(err);
  await cleanAll();
  process.exit(1);
});
