// npm run soak — mixed traffic against one server for SOAK_MINUTES (default 30): REST
// (counter deposits, customer transfers, reads), sockets (customers connected, syncing,
// reconnecting) and jobs (run on demand every minute). Every minute it writes one JSON line
// with the server's memory, event-loop lag and the error counts to SOAK_OUT
// (default .tmp/soak-<time>.jsonl), and prints a summary at the end. Not part of CI.
//
//   SOAK_MINUTES=30 npm run soak                      # embedded SQLite in a temporary file
//   DATABASE_URL=postgres://… REDIS_URL=redis://… npm run soak

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { spawnServer } from '../helpers/hub.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const OUT = path.resolve(process.env.SOAK_OUT ?? `.tmp/soak-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
const SOCKETS = Number(process.env.SOAK_SOCKETS ?? 30);
const RATE = Number(process.env.SOAK_REQUESTS_PER_SECOND ?? 20);

interface Minute {
  minute: number;
  at: string;
  rssMb: number;
  heapUsedMb: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  requests: number;
  errors: Record<string, number>;
  socketsConnected: number;
  socketEvents: number;
  syncs: number;
  jobsRun: number;
}

async function main() {
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-soak-'));
  const env: Record<string, string> = {
    DATABASE_URL: process.env.DATABASE_URL ?? `sqlite:${path.join(dir, 'bank.sqlite')}`,
    DEMO_DATA: '1',
    ROLE: 'all',
    LOG_LEVEL: 'warn',
    LOGIN_RATE_PER_MINUTE: '1000',
    MAIL_DIR: path.join(dir, 'mail'),
    ...(process.env.REDIS_URL
      ? { REDIS_URL: process.env.REDIS_URL, HUB_REDIS_PREFIX: `soak-${crypto.randomBytes(4).toString('hex')}` }
      : {}),
  };
  console.log(
    `soak: ${MINUTES} min against a fresh server (${env.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}); one line a minute to ${OUT}`,
  );
  const server = await spawnServer(env);
  const base = `${server.url}/api/v1`;
  const login = async (username: string) => {
    const r = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-demo-2026` }),
    });
    if (!r.ok) throw new Error(`login ${username}: ${r.status}`);
    return ((await r.json()) as { token: string }).token;
  };
  const tokens = Object.fromEntries(
    await Promise.all(['asha', 'ravi', 'meera', 'tara', 'admin'].map(async (u) => [u, await login(u)] as const)),
  );
  const call = async (token: string, method: string, p: string, body?: unknown) => {
    const r = await fetch(`${base}${p}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        ...(method === 'POST' ? { 'Idempotency-Key': crypto.randomUUID() } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json = await r.json().catch(() => null);
    return { status: r.status, body: json as any };
  };
  const customers = ['asha', 'ravi', 'meera'];
  const accounts: Record<string, { id: number; number: string }[]> = {};
  for (const c of customers) accounts[c] = (await call(tokens[c], 'GET', '/accounts')).body.items;

  let m: Omit<Minute, 'minute' | 'at' | 'rssMb' | 'heapUsedMb' | 'eventLoopLagP99Ms' | 'eventLoopLagMaxMs' | 'socketsConnected'> = {
    requests: 0,
    errors: {},
    socketEvents: 0,
    syncs: 0,
    jobsRun: 0,
  };
  const error = (k: string) => (m.errors[k] = (m.errors[k] ?? 0) + 1);
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

  // Sockets: customers connected, syncing on connect, some reconnecting every so often.
  const sockets: Socket[] = [];
  // Each socket signs in on its own (a device of its own), within the per-session bound.
  const openSocket = async (who: string) => {
    const s = io(server.url, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: { token: await login(who) },
      reconnection: true,
      reconnectionDelay: 500,
    });
    let since = 0;
    s.on('connect', () => {
      s.timeout(15_000).emit('sync', { since }, (err: unknown, ack: { ok: boolean; upTo?: number; error?: { code: string } }) => {
        m.syncs++;
        if (err) error('socket:sync-timeout');
        else if (!ack.ok && ack.error?.code !== 'rate_limited') error(`socket:${ack.error?.code}`);
        else if (ack.upTo) since = Math.max(since, ack.upTo);
      });
    });
    s.onAny((_e, data: { seq?: number }) => {
      m.socketEvents++;
      if (typeof data?.seq === 'number') since = Math.max(since, data.seq);
    });
    s.on('connect_error', (e) => error(`socket:connect:${e.message}`));
    sockets.push(s);
  };
  for (let i = 0; i < SOCKETS; i++) await openSocket(customers[i % customers.length]);

  // REST: RATE requests a second, a mix of money movement and reads.
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  const rest = (async () => {
    while (Date.now() < end) {
      const t0 = Date.now();
      const batch = Array.from({ length: RATE }, async () => {
        m.requests++;
        const who = pick(customers);
        const roll = Math.random();
        try {
          let r;
          if (roll < 0.3)
            r = await call(tokens.tara, 'POST', '/deposits', {
              accountId: pick(accounts[who]).id,
              amount: `${1 + Math.floor(Math.random() * 50)}.00`,
            });
          else if (roll < 0.55) {
            const to = pick(customers.filter((c) => c !== who));
            r = await call(tokens[who], 'POST', '/transfers', {
              fromAccountId: pick(accounts[who]).id,
              toAccountNumber: pick(accounts[to]).number,
              amount: `${1 + Math.floor(Math.random() * 9)}.${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`,
            });
          } else if (roll < 0.8) r = await call(tokens[who], 'GET', '/accounts');
          else if (roll < 0.9) r = await call(tokens[who], 'GET', `/accounts/${pick(accounts[who]).id}/entries?limit=50`);
          else r = await call(tokens[who], 'GET', '/notifications?limit=20');
          // Business refusals (insufficient funds, approvals) are answers, not errors.
          if (r.status >= 500) error(`http:${r.status}`);
          else if (r.status >= 400 && r.status !== 422) error(`http:${r.status}:${r.body?.error?.code}`);
        } catch (e) {
          error(`network:${(e as Error).name}`);
        }
      });
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t0))));
    }
  })();

  // Churn: every 10 s one socket drops and reconnects.
  const churn = setInterval(() => {
    const s = pick(sockets);
    s.disconnect();
    setTimeout(() => s.connect(), 1_000);
  }, 10_000);

  const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const lines: Minute[] = [];
  for (let minute = 1; Date.now() < end; minute++) {
    await new Promise((r) => setTimeout(r, Math.min(60_000, end - Date.now())));
    for (const job of ['balance-snapshot', 'cleanup', 'ticket-escalation']) {
      const r = await call(tokens.admin, 'POST', `/jobs/${job}/run`).catch(() => ({ status: 0 }));
      m.jobsRun++;
      if (r.status !== 200) error(`job:${job}:${r.status}`);
    }
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line: Minute = {
      minute,
      at: new Date().toISOString(),
      rssMb: Math.round(metric(text, 'bank_node_process_resident_memory_bytes') / 1e6),
      heapUsedMb: Math.round(metric(text, 'bank_node_nodejs_heap_size_used_bytes') / 1e6),
      eventLoopLagP99Ms: Math.round(metric(text, 'bank_node_nodejs_eventloop_lag_p99_seconds') * 1000),
      eventLoopLagMaxMs: Math.round(metric(text, 'bank_node_nodejs_eventloop_lag_max_seconds') * 1000),
      socketsConnected: sockets.filter((s) => s.connected).length,
      ...m,
    };
    lines.push(line);
    fs.appendFileSync(OUT, JSON.stringify(line) + '\n');
    console.log(JSON.stringify(line));
    m = { requests: 0, errors: {}, socketEvents: 0, syncs: 0, jobsRun: 0 };
  }
  clearInterval(churn);
  await rest;
  for (const s of sockets) s.close();
  const verify = await call(tokens.admin, 'GET', '/ledger/verify');
  const audit = await call(tokens.admin, 'GET', '/audit/verify');
  await server.kill();
  fs.rmSync(dir, { recursive: true, force: true });
  const errors = lines.reduce((n, l) => n + Object.values(l.errors).reduce((a, b) => a + b, 0), 0);
  const summary = {
    minutes: lines.length,
    rssMbStart: lines[0]?.rssMb,
    rssMbEnd: lines.at(-1)?.rssMb,
    heapMbStart: lines[0]?.heapUsedMb,
    heapMbEnd: lines.at(-1)?.heapUsedMb,
    worstLagP99Ms: Math.max(...lines.map((l) => l.eventLoopLagP99Ms)),
    requests: lines.reduce((n, l) => n + l.requests, 0),
    errors,
    ledgerOk: verify.body?.ok,
    auditOk: audit.body?.ok,
  };
  fs.appendFileSync(OUT, JSON.stringify({ summary }) + '\n');
  console.log(`soak summary: ${JSON.stringify(summary)}`);
  process.exit(errors || !summary.ledgerOk || !summary.auditOk ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
