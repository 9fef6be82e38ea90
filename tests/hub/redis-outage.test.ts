import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithSession } from '../helpers/fixtures.js';
import {
  connectClient,
  diff,
  entitledSeqs,
  HubClient,
  launchCluster,
  moveMoney,
  privateRedis,
  roomsOf,
  smallBank,
  until,
  type Cluster,
  type Person,
  type RedisProcess,
} from '../helpers/hub.js';

// Three server processes on a Redis of this test's own (the machine's shared Redis on 6379
// is never stopped), which goes away mid-run and comes back.

let redis: RedisProcess;
let cluster: Cluster;
const clients: HubClient[] = [];

beforeAll(async () => {
  redis = await privateRedis();
  cluster = await launchCluster(3, { redisUrl: redis.url });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await cluster?.close();
  await redis?.stop();
});

const ready = async (url: string) => {
  const r = await fetch(`${url}/readyz`).catch(() => null);
  return r ? { status: r.status, body: (await r.json()) as { checks: Record<string, boolean> } } : null;
};

describe('a Redis outage', () => {
  it('kills no process, stops no money, and loses no event for a client that syncs', async () => {
    const [a, b, c3] = cluster.servers;
    const urls = [a.url, b.url, c3.url];
    const { teller, customers } = await smallBank(cluster.bank, a.url, 3);
    const subjects: { who: Person; c: HubClient }[] = [];
    for (const [i, p] of customers.entries()) {
      for (const url of [urls[i % 3], urls[(i + 1) % 3]]) {
        const c = await connectClient(url, { token: p.token, syncOnConnect: true });
        clients.push(c);
        subjects.push({ who: p, c });
      }
    }
    expect((await ready(a.url))?.body.checks.redis).toBe(true);

    // Before: a deposit made on one process reaches a client on the other.
    const onB = subjects.find((s) => s.c.url === b.url)!;
    const dep = await fetch(`${a.url}/api/v1/deposits`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${teller.token}` },
      body: JSON.stringify({ accountId: onB.who.account!.id, amount: '10' }),
    }).then((r) => r.json());
    await onB.c.waitFor('balance.updated', (d) => d.transactionId === dep.id);

    await redis.stop();
    await until(async () => (await ready(a.url))?.body.checks.redis === false && (await ready(b.url))?.body.checks.redis === false, {
      what: 'readyz to report Redis down',
    });
    // Still ready: the database is there, and without Redis money still moves.
    expect((await ready(a.url))?.status).toBe(200);
    expect((await ready(a.url))?.body.checks).toMatchObject({ database: true, redis: false });
    const during = await moveMoney({ urls: () => urls, teller, customers, count: 24, seed: 3 });
    expect(
      Object.keys(during).filter((k) => k !== '201' && k !== '202'),
      JSON.stringify(during),
    ).toEqual([]);
    // Sign-in still works: the login rate limit falls back to each process's memory.
    for (const url of urls) {
      const r = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'wrong-password-1' }),
      });
      expect(r.status).toBe(401);
    }
    console.log(
      `[figure] redis outage (3 processes): money requests during the outage ${JSON.stringify(during)}, processes alive ${cluster.servers.filter((s) => s.alive()).length}`,
    );
    // Local sockets still get their pushes while Redis is away.
    const local = subjects.find((s) => s.c.url === a.url)!;
    const dep2 = await fetch(`${a.url}/api/v1/deposits`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${teller.token}` },
      body: JSON.stringify({ accountId: local.who.account!.id, amount: '11' }),
    }).then((r) => r.json());
    await local.c.waitFor('balance.updated', (d) => d.transactionId === dep2.id);
    expect(a.alive() && b.alive() && c3.alive()).toBe(true);

    await redis.start();
    await until(async () => (await Promise.all(urls.map(ready))).every((r) => r?.body.checks.redis === true), {
      timeout: 15_000,
      what: 'readyz to recover',
    });
    const after = await moveMoney({ urls: () => urls, teller, customers, count: 12, seed: 4 });
    expect(
      Object.keys(after).filter((k) => k !== '201' && k !== '202'),
      JSON.stringify(after),
    ).toEqual([]);

    for (const { who, c } of subjects) {
      const entitled = await entitledSeqs(cluster.bank.db, roomsOf(who), 0);
      // The relay re-emits what other processes missed once Redis is back; a sync fills in the rest.
      await until(() => diff(entitled, c.seqs()).length === 0, { timeout: 10_000, what: `relay catch-up on ${c.url}` });
      await c.syncAll(0);
      expect(diff(entitled, c.seqs()), 'missing').toEqual([]);
      expect(diff(c.seqs(), entitled), 'foreign').toEqual([]);
      expect(c.socket.connected).toBe(true);
    }
    expect(a.alive() && b.alive() && c3.alive()).toBe(true);
  });

  it('lets a process start while Redis is down and join the others when it returns', async () => {
    const [a] = cluster.servers;
    await redis.stop();
    const late = await cluster.spawn();
    expect((await ready(late.url))?.body.checks.redis).toBe(false);
    const [p] = await cluster.bank.db('users').where({ role: 'customer' }).orderBy('id').limit(1);
    const u = await userWithSession(cluster.bank, 'customer', { customerId: p.customer_id });
    const acct = await cluster.bank.db('accounts').where({ customer_id: p.customer_id }).first();
    const c = await connectClient(late.url, { token: u.token });
    clients.push(c);
    await redis.start();
    await until(async () => (await ready(late.url))?.body.checks.redis === true && (await ready(a.url))?.body.checks.redis === true, {
      timeout: 15_000,
      what: 'readyz',
    });
    const teller = await userWithSession(cluster.bank, 'teller');
    const dep = await fetch(`${a.url}/api/v1/deposits`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${teller.token}` },
      body: JSON.stringify({ accountId: acct.id, amount: '5' }),
    }).then((r) => r.json());
    await c.waitFor('balance.updated', (d) => d.transactionId === dep.id);
  }, 150_000); // a fourth process starting on a loaded machine
});
