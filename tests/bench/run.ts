/**
 * npm run bench — load the real server (a child process) and print what it sustains.
 *   BENCH_DB=pg       run against PostgreSQL instead of the embedded SQLite file
 *   BENCH_SECONDS=10  duration of each load scenario
 * Scenarios: account reads, transfers (each with a fresh Idempotency-Key), deposits,
 * push latency (commit → socket) when the hub is up, and the server's memory after load.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import autocannon from 'autocannon';
import { createKnex } from '../../db/knex.js';
import { migrateLatest } from '../../db/migrate.js';
import { PG_URL } from '../helpers/db.js';
import { bankOn, createCustomer, openTestAccount, seedReference, userWithSession, TELLER } from '../helpers/fixtures.js';
import * as ledger from '../../bank/ledger.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const usePg = process.env.BENCH_DB === 'pg';

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-bench-'));
  const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
  let url = `sqlite:${path.join(dir, 'bank.sqlite')}`;
  if (usePg) {
    const admin = createKnex({ url: PG_URL, poolMax: 1 });
    await admin.raw(`CREATE SCHEMA "${schema}"`);
    await admin.destroy();
    url = `${PG_URL}?options=-c%20search_path%3D${schema}`;
  }
  const db = createKnex({ url, schema: usePg ? schema : undefined });
  await migrateLatest(db);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: url, DEMO_DATA: '0', LOG_LEVEL: 'warn', ROLE: 'web' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 120) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
    const bank = await bankOn(db);
    await seedReference(db);
    const customers: number[] = [];
    for (let i = 0; i < 10; i++) customers.push(await createCustomer(db, `Bench${i}`));
    const accounts: Awaited<ReturnType<typeof openTestAccount>>[] = [];
    for (let i = 0; i < 100; i++) accounts.push(await openTestAccount(bank, customers[i % 10], 'CUR'));
    for (const a of accounts) await ledger.deposit(bank, TELLER, { accountId: a.id, amount: '1000000' });
    const staff = await userWithSession(bank, 'manager');
    const customer = await userWithSession(bank, 'customer', { customerId: customers[0] });

    const results: { scenario: string; rps: number; p50: number; p99: number; errors: number; non2xx: number }[] = [];
    const run = async (scenario: string, opts: autocannon.Options) => {
      const r = await autocannon({ connections: 20, duration: SECONDS, ...opts });
      results.push({ scenario, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx });
    };

    await run('GET /accounts (customer)', { url: `${base}/api/v1/accounts`, headers: { Authorization: `Bearer ${customer.token}` } });
    await run('POST /transfers (idempotent)', {
      url: `${base}/api/v1/transfers`,
      method: 'POST',
      headers: { Authorization: `Bearer ${staff.token}`, 'Content-Type': 'application/json' },
      requests: [{
        setupRequest: (req: any) => {
          const from = accounts[crypto.randomInt(accounts.length)];
          let to = accounts[crypto.randomInt(accounts.length)];
          if (to.id === from.id) to = accounts[(accounts.indexOf(from) + 1) % accounts.length];
          return { ...req, headers: { ...req.headers, 'Idempotency-Key': crypto.randomUUID() }, body: JSON.stringify({ fromAccountId: from.id, toAccountNumber: to.number, amount: '1.25' }) };
        },
      }],
    });
    await run('POST /deposits', {
      url: `${base}/api/v1/deposits`,
      method: 'POST',
      headers: { Authorization: `Bearer ${staff.token}`, 'Content-Type': 'application/json' },
      requests: [{ setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ accountId: accounts[crypto.randomInt(accounts.length)].id, amount: '10.00' }) }) }],
    });

    // One bulk request: 10,000 transfers, non-atomic.
    const items = Array.from({ length: 10_000 }, (_, i) => {
      const from = accounts[i % accounts.length];
      const to = accounts[(i + 1) % accounts.length];
      return { idempotencyKey: `bench-${i}`, fromAccountNumber: from.number, toAccountNumber: to.number, amount: '0.01' };
    });
    const batchStart = performance.now();
    const batch = await fetch(`${base}/api/v1/batch/transfers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ atomic: false, items }),
    });
    const batchSeconds = (performance.now() - batchStart) / 1000;
    const batchPosted = batch.ok ? ((await batch.json()) as { results: { status: string }[] }).results.filter((r) => r.status === 'posted').length : 0;

    const latency = await pushLatency(base, customer.token, staff.token, accounts.filter((a) => a.customerId === customers[0]), accounts).catch((err) => `unavailable (${(err as Error).message})`);
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    const rss = Number(/bank_node_process_resident_memory_bytes (\d+)/.exec(metrics)?.[1] ?? 0);

    const verify = await import('../../bank/verify.js').then((m) => m.verifyLedger(bank));
    console.log(`\n## Benchmark (${usePg ? 'PostgreSQL' : 'SQLite'}, ${SECONDS}s per scenario, 20 connections, ${os.cpus().length} cores)\n`);
    console.log('| scenario | req/s | p50 ms | p99 ms | errors | non-2xx |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of results) console.log(`| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`);
    console.log(`\nBatch of 10,000 transfers in one request: ${batchSeconds.toFixed(1)} s (${batchPosted} posted, ${Math.round(batchPosted / batchSeconds)} transfers/s)`);
    console.log(`Push latency (transaction start → customer socket, from the event's at): ${typeof latency === 'string' ? latency : `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms over ${latency.n} transfers`}`);
    console.log(`Server RSS after load: ${(rss / 1024 / 1024).toFixed(0)} MiB`);
    console.log(`Ledger verifies after load: ${verify.ok} (${verify.transactions} transactions)`);
  } finally {
    child.kill('SIGTERM');
    await db.destroy();
    if (usePg) {
      const admin = createKnex({ url: PG_URL, poolMax: 1 });
      await admin.raw(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.destroy();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Transfers into the customer's account one at a time; latency = receipt − the event's `at` (its transaction's start). */
async function pushLatency(base: string, customerToken: string, staffToken: string, own: { id: number; number: string }[], all: { id: number }[]) {
  const { io } = await import('socket.io-client');
  const socket = io(base, { path: '/socket.io', transports: ['websocket'], auth: { token: customerToken } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
    setTimeout(() => reject(new Error('no socket connection')), 5000);
  });
  const samples: number[] = [];
  socket.on('balance.updated', (e: { at: string; transactionId: number }) => {
    samples.push(Date.now() - Date.parse(e.at));
  });
  const source = all.find((a) => !own.some((o) => o.id === a.id))!;
  for (let i = 0; i < 200; i++) {
    await fetch(`${base}/api/v1/transfers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ fromAccountId: source.id, toAccountNumber: own[0].number, amount: '0.01' }),
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  socket.close();
  if (!samples.length) throw new Error('no events received');
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { n: samples.length, p50: q(0.5), p99: q(0.99) };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
