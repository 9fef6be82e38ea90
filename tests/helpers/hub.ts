import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { io, type Socket } from 'socket.io-client';
import type { BankContext } from '../../bank/core/context.js';
import { createTestDb, type TestDb } from './db.js';
import { bankOn, createCustomer, seedReference, userWithSession } from './fixtures.js';
import { apiClient } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Received {
  seq: number | undefined;
  event: string;
  data: any;
  via: 'live' | 'sync';
  /** Epoch ms (sub-millisecond) when it arrived. */
  receivedAt: number;
}

export interface SyncAck {
  ok: boolean;
  events?: { seq: number; event: string; data: any }[];
  upTo?: number;
  error?: { code: string; message: string };
}

export interface HubClientOptions {
  /** Token for `auth: {token}`; omit to send none. */
  token?: string | null;
  /** Extra handshake headers (a Cookie, an Origin). */
  headers?: Record<string, string>;
  /**
   * Fail over to the next URL when the connection drops (not when the server closes it on
   * purpose), and `sync` from the last seq after every reconnect, as the web client does.
   */
  failover?: boolean;
  /** sync from `since` right after each connect. */
  syncOnConnect?: boolean;
  since?: number;
}

/** Waits for an outcome, polling (for assertions on asynchronous pushes). */
export async function until<T>(
  probe: () => T | Promise<T>,
  { timeout = 10_000, every = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * A socket client the way the web client uses it: it records every server event (live),
 * de-duplicates by seq, can `sync`, and with `failover` moves to another server when its
 * own dies and catches up from the database.
 */
export class HubClient {
  socket!: Socket;
  /** Every event as it arrived, duplicates included. */
  readonly log: Received[] = [];
  /** One entry per seq: what the client holds after de-duplication. */
  readonly bySeq = new Map<number, Received>();
  /** Live deliveries of a seq already held from a live delivery (should stay empty). */
  readonly liveDuplicates: number[] = [];
  lastSeq: number;
  disconnects: string[] = [];
  connects = 0;
  closed = false;
  private urlIndex = 0;
  private syncing: Promise<void> | null = null;

  constructor(
    readonly urls: string[],
    readonly opts: HubClientOptions = {},
  ) {
    this.lastSeq = opts.since ?? 0;
  }

  get url() {
    return this.urls[this.urlIndex % this.urls.length];
  }

  /** Connects; resolves when connected (and synced, with syncOnConnect), rejects with the connect_error. */
  connect(): Promise<this> {
    const s = io(this.url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
      auth: this.opts.token ? { token: this.opts.token } : {},
      extraHeaders: this.opts.headers,
    });
    this.socket = s;
    s.onAny((event: string, data: any) => this.record(event, data, 'live'));
    s.on('disconnect', (reason) => {
      this.disconnects.push(reason);
      if (this.opts.failover && !this.closed && reason !== 'io server disconnect' && reason !== 'io client disconnect') this.failover();
    });
    return new Promise((resolve, reject) => {
      s.once('connect', () => {
        this.connects++;
        if (!this.opts.syncOnConnect && !this.opts.failover) return resolve(this);
        this.syncAll().then(() => resolve(this), reject);
      });
      s.once('connect_error', (err) => {
        s.close();
        reject(err);
      });
    });
  }

  private failover() {
    const attempt = () => {
      if (this.closed) return;
      this.urlIndex++;
      this.connect().catch(() => setTimeout(attempt, 200));
    };
    setTimeout(attempt, 100);
  }

  private record(event: string, data: any, via: 'live' | 'sync') {
    const seq = typeof data?.seq === 'number' ? data.seq : undefined;
    const r: Received = { seq, event, data, via, receivedAt: performance.timeOrigin + performance.now() };
    this.log.push(r);
    if (seq === undefined) return;
    const had = this.bySeq.get(seq);
    if (had && had.via === 'live' && via === 'live') this.liveDuplicates.push(seq);
    if (!had) this.bySeq.set(seq, r);
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** Sends a command and resolves with its acknowledgement. */
  emit<T = any>(name: string, payload?: unknown, timeoutMs = 5_000): Promise<T> {
    return this.socket.timeout(timeoutMs).emitWithAck(name, payload);
  }

  /** One sync page from `since`; the events are recorded as arriving `via: 'sync'`. */
  async syncPage(since: number): Promise<SyncAck> {
    const ack = await this.emit<SyncAck>('sync', { since });
    if (ack.ok) for (const e of ack.events ?? []) this.record(e.event, e.data, 'sync');
    return ack;
  }

  /** Syncs page after page from the last seq held (or `from`), as the web client does. */
  syncAll(from?: number): Promise<void> {
    return (this.syncing ??= (async () => {
      try {
        let since = from ?? this.lastSeq;
        for (let page = 0; page < 1000; page++) {
          const ack = await this.syncPage(since);
          if (!ack.ok) throw new Error(`sync refused: ${ack.error?.code}`);
          const upTo = ack.upTo ?? since;
          if (upTo > this.lastSeq) this.lastSeq = upTo;
          if ((ack.events?.length ?? 0) < 1000 || upTo <= since) break;
          since = upTo;
        }
      } finally {
        this.syncing = null;
      }
    })());
  }

  /** Events of one name held (de-duplicated), in seq order; ephemeral ones from the log. */
  events(name?: string): Received[] {
    const held = [...this.bySeq.values()].sort((a, b) => a.seq! - b.seq!);
    return name ? held.filter((r) => r.event === name) : held;
  }

  ephemeral(name: string): Received[] {
    return this.log.filter((r) => r.event === name && r.seq === undefined);
  }

  seqs(): Set<number> {
    return new Set(this.bySeq.keys());
  }

  /** Waits for an event (de-duplicated or ephemeral) that satisfies `pred`. */
  waitFor(name: string, pred: (data: any) => boolean = () => true, timeout = 10_000): Promise<Received> {
    return until(() => this.log.find((r) => r.event === name && pred(r.data)), { timeout, every: 5, what: `${name} on ${this.url}` });
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }
}

export async function connectClient(url: string | string[], opts: HubClientOptions = {}): Promise<HubClient> {
  return new HubClient(Array.isArray(url) ? url : [url], opts).connect();
}

/** The connect_error message a handshake is refused with. */
export async function refusal(url: string, opts: HubClientOptions = {}): Promise<string> {
  try {
    const c = await connectClient(url, opts);
    c.close();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

/** The seqs whose rooms intersect `rooms`, from the database (what a client is entitled to). */
export async function entitledSeqs(db: Knex, rooms: string[], after = 0): Promise<Set<number>> {
  const rows = await db('event_rooms').distinct('seq').whereIn('room', rooms).where('seq', '>', after);
  return new Set(rows.map((r) => Number(r.seq)));
}

/** The rooms a session is entitled to, written out independently of hub/rooms.ts. */
export function roomsOf(
  u: { userId: number; sessionId: number; role: string; customerId?: number | null },
  watching: string[] = [],
): string[] {
  const base = [`user:${u.userId}`, `session:${u.sessionId}`, 'all'];
  if (u.role === 'customer') return [...base, `customer:${u.customerId}`, 'customers', ...watching];
  return [...base, 'staff', ...(u.role === 'manager' || u.role === 'admin' ? ['managers'] : []), ...watching];
}

export const diff = (a: Set<number>, b: Set<number>) => [...a].filter((x) => !b.has(x)).sort((x, y) => x - y);

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------
// Child processes: real servers (`node --import tsx server.ts`) and a private Redis.

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k === 'REDIS_URL' || k === 'DATABASE_URL') continue;
    out[k] = v;
  }
  return { ...out, ...env };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string | null>;
  alive(): boolean;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `node --import tsx server.ts` and resolves once /healthz answers. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  // SERVER_CPU_PROF=<dir> (benchmarks): each server writes a V8 CPU profile there when it stops.
  const prof = process.env.SERVER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SERVER_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: childEnv({ PORT: '0', HOST: '127.0.0.1', ROLE: 'web', DEMO_DATA: '0', LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let code: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (c, sig) => {
      children.delete(child);
      code = c ?? sig;
      resolve(code);
    });
  });
  const url = await until(
    () => {
      if (code !== undefined) throw new Error(`server exited (${code}) before it was ready:\n${out}`);
      return /Banking hub is running at (http:\/\/\S+)/.exec(out)?.[1];
    },
    { timeout: 90_000, every: 50, what: 'server start' },
  ); // a loaded CI machine starts tsx slowly
  await until(
    async () =>
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    { timeout: 10_000, what: 'healthz' },
  );
  return {
    url,
    child,
    exited,
    alive: () => code === undefined,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (code !== undefined) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Cluster {
  testDb: TestDb;
  /** The test's own bank on the shared database (fixtures; its commits have no hub, so the relay publishes them). */
  bank: BankContext;
  servers: ServerProcess[];
  env: Record<string, string>;
  spawn(): Promise<ServerProcess>;
  close(): Promise<void>;
}

/**
 * N server processes on one fresh PostgreSQL schema, joined by Redis under a channel
 * prefix of their own (parallel test runs on the same Redis never cross-talk).
 */
export async function launchCluster(n: number, opts: { redisUrl?: string; env?: Record<string, string> } = {}): Promise<Cluster> {
  const testDb = await createTestDb('pg');
  const servers: ServerProcess[] = [];
  try {
    const bank = await bankOn(testDb.db); // the test's own bank context on the shared database
    const env = {
      DATABASE_URL: testDb.url,
      DATABASE_POOL_MAX: '5',
      REDIS_URL: opts.redisUrl ?? 'redis://127.0.0.1:6379',
      HUB_REDIS_PREFIX: `hubtest-${crypto.randomBytes(6).toString('hex')}`,
      ...opts.env,
    };
    servers.push(...(await Promise.all(Array.from({ length: n }, () => spawnServer(env)))));
    return {
      testDb,
      bank,
      servers,
      env,
      async spawn() {
        const s = await spawnServer(env);
        servers.push(s);
        return s;
      },
      async close() {
        await Promise.all(servers.map((s) => s.kill('SIGTERM')));
        if (process.env.HUB_TEST_LOGS) for (const s of servers) console.log(`--- ${s.url}\n${s.output()}`);
        await testDb.destroy();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    await testDb.destroy();
    throw err;
  }
}

export interface RedisProcess {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A private redis-server (never the machine's shared one), stoppable and restartable on the same port. */
export async function privateRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('error', () => resolve(false));
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (b) => {
        sock.destroy();
        resolve(b.toString().startsWith('+PONG'));
      });
    });
  const r: RedisProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      children.add(child);
      const c = child;
      c.once('exit', () => children.delete(c));
      await until(ping, { timeout: 10_000, what: 'redis-server' });
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const done = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await done;
    },
  };
  await r.start();
  return r;
}

// ---------------------------------------------------------------------------------------
// A small bank on a cluster, and a driver that moves money through REST.

export interface Person {
  userId: number;
  sessionId: number;
  token: string;
  role: 'customer' | 'teller' | 'manager';
  customerId: number | null;
  account?: { id: number; number: string };
}

/** A teller, a manager and `n` customers with a funded current account each (made through REST on `url`). */
export async function smallBank(bank: BankContext, url: string, n: number) {
  await seedReference(bank.db);
  const person = async (role: Person['role'], customerId: number | null = null): Promise<Person> => {
    const u = await userWithSession(bank, role, customerId ? { customerId } : {});
    return { userId: u.user.id, sessionId: u.sessionId, token: u.token, role, customerId };
  };
  const teller = await person('teller');
  const manager = await person('manager');
  const api = apiClient(url, teller.token);
  const customers: Person[] = [];
  for (let i = 0; i < n; i++) {
    const cid = await createCustomer(bank.db, `Hub${i}${crypto.randomBytes(3).toString('hex')}`);
    const p = await person('customer', cid);
    const acct = await api.post('/accounts', { customerId: cid, type: 'CUR', branch: 'MAIN' });
    if (acct.status !== 201) throw new Error(`open account: ${acct.status} ${acct.text}`);
    p.account = { id: acct.body.id, number: acct.body.number };
    const dep = await api.post('/deposits', { accountId: p.account.id, amount: '5000' });
    if (dep.status !== 201) throw new Error(`deposit: ${dep.status} ${dep.text}`);
    customers.push(p);
  }
  return { teller, manager, customers };
}

/** A seeded generator of integers in [0, n) (mulberry32). */
export function rng(seed: number) {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * Moves money through REST on the given servers: deposits by the teller, transfers between
 * customers. A server that is gone (or going) is skipped; `outcomes` counts the answers.
 */
export async function moveMoney(opts: {
  urls: () => string[];
  teller: Person;
  customers: Person[];
  count: number;
  seed?: number;
  onEach?: (i: number) => void | Promise<void>;
}) {
  const next = rng(opts.seed ?? 7);
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < opts.count; i++) {
    const urls = opts.urls();
    const url = urls[next(urls.length)];
    const to = opts.customers[next(opts.customers.length)];
    const others = opts.customers.filter((c) => c !== to);
    const from = others[next(others.length)];
    let status: number | string;
    try {
      const r =
        next(3) === 0
          ? await apiClient(url, opts.teller.token).post('/deposits', { accountId: to.account!.id, amount: `${1 + next(90)}` })
          : await apiClient(url, from.token).post('/transfers', {
              fromAccountId: from.account!.id,
              toAccountNumber: to.account!.number,
              amount: `${1 + next(30)}.${next(100).toString().padStart(2, '0')}`,
            });
      status = r.status === 201 || r.status === 202 ? r.status : `${r.status} ${r.body?.error?.code}`;
    } catch {
      status = 'network';
    }
    outcomes[status] = (outcomes[status] ?? 0) + 1;
    await opts.onEach?.(i);
  }
  return outcomes;
}
