import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { bankOn, createCustomer, openTestAccount, seedReference, userWithSession, TELLER } from '../helpers/fixtures.js';
import { spawnServer, type ServerProcess } from '../helpers/hub.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { verifyAudit } from '../../bank/audit/chain.js';

// A server killed (SIGKILL) while groups of 50+ transfers are being written loses no answered
// request and doubles none: every request is retried with its key afterwards, and each key
// ends up as exactly one transaction.

const servers: ServerProcess[] = [];
const dbs: TestDb[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill('SIGKILL');
  for (const d of dbs) await d.destroy();
});

describe.each(DIALECTS)('a SIGKILL during group commit on %s', (dialect) => {
  it('loses no answered transfer and doubles none when every request is retried with its key', async () => {
    const tdb = await createTestDb(dialect);
    dbs.push(tdb);
    const bank = await bankOn(tdb.db);
    await seedReference(tdb.db);
    const customers = await Promise.all(Array.from({ length: 8 }, (_, i) => createCustomer(tdb.db, `Crash${dialect}${i}`)));
    const accounts: Awaited<ReturnType<typeof openTestAccount>>[] = [];
    for (let i = 0; i < 40; i++) accounts.push(await openTestAccount(bank, customers[i % customers.length], 'CUR'));
    for (const a of accounts) await ledger.deposit(bank, TELLER, { accountId: a.id, amount: '100000' });
    const staff = await userWithSession(bank, 'manager');
    const totalBefore = await total(tdb);

    const env = { DATABASE_URL: tdb.url, DATABASE_POOL_MAX: '5' };
    let server = await spawnServer(env);
    servers.push(server);
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const from = accounts[i % accounts.length];
      let to = accounts[(i * 7 + 3) % accounts.length];
      if (to.id === from.id) to = accounts[(i + 1) % accounts.length];
      return {
        key: `crash-${dialect}-${i}-${crypto.randomUUID()}`,
        body: { fromAccountId: from.id, toAccountNumber: to.number, amount: `${1 + (i % 9)}.25` },
      };
    });
    const send = (url: string, r: (typeof requests)[number]) =>
      fetch(`${url}/api/v1/transfers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${staff.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': r.key },
        body: JSON.stringify(r.body),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { id?: number },
        replayed: res.headers.get('idempotent-replayed') === 'true',
      }));

    // While the database is busy (a commit held up), requests pile up in the writer's queue;
    // when it frees, they are written in large groups. First shown with the metrics...
    const burst = (from: number, to: number) => requests.slice(from, to).map((r) => send(server.url, r));
    const lock = holdTheWriteLock(tdb, 1_500);
    await lock.acquired;
    const warm = burst(0, 150);
    await lock.released;
    const warmup = await Promise.all(warm);
    expect(warmup.every((r) => r.status === 201)).toBe(true);
    const metrics = await fetch(`${server.url}/metrics`).then((m) => m.text());
    const buckets = Object.fromEntries(
      [...metrics.matchAll(/bank_ledger_group_size_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]),
    );
    expect(buckets['50']).toBeLessThan(buckets['+Inf']);

    // ...then the same with the rest, and the process killed as soon as the first of them answer.
    const answered = new Map<string, number>();
    warmup.forEach((r, i) => answered.set(requests[i].key, r.body.id!));
    const victim = server;
    let killedAt = -1;
    const lock2 = holdTheWriteLock(tdb, 1_500);
    await lock2.acquired;
    const inFlight = requests.slice(150).map((r) =>
      send(victim.url, r).then(
        (res) => {
          if (killedAt >= 0) return;
          if (res.status === 201 && res.body.id) answered.set(r.key, res.body.id);
          if (answered.size >= 150 + 20) {
            killedAt = answered.size;
            victim.child.kill('SIGKILL');
          }
        },
        () => undefined, // the connection died with the process: unanswered
      ),
    );
    await lock2.released;
    await Promise.all(inFlight);
    if (killedAt < 0) victim.child.kill('SIGKILL');
    await victim.exited;
    expect(killedAt).toBeGreaterThan(0);
    expect(answered.size).toBeLessThan(requests.length);

    // Restart and retry every request with its key.
    server = await spawnServer(env);
    servers.push(server);
    const retried = await Promise.all(requests.map((r) => send(server.url, r)));
    const txOf = new Map<string, number>();
    retried.forEach((res, i) => {
      expect(res.status).toBe(201);
      txOf.set(requests[i].key, res.body.id!);
      const first = answered.get(requests[i].key);
      // An answered request replays exactly its answer.
      if (first !== undefined) {
        expect(res.replayed).toBe(true);
        expect(res.body.id).toBe(first);
      }
    });
    // Each key is exactly one transaction; nothing else was posted.
    expect(new Set(txOf.values()).size).toBe(requests.length);
    const posted = await tdb.db('transactions').where({ kind: 'transfer' }).count({ n: '*' }).first();
    expect(Number(posted!.n)).toBe(requests.length);
    expect(await total(tdb)).toBe(totalBefore);
    expect((await verifyLedger(bank)).ok).toBe(true);
    expect((await verifyAudit(bank)).ok).toBe(true);
    await server.kill();
  }, 120_000);
});

async function total(tdb: TestDb): Promise<number> {
  const r = await tdb.db('accounts').where({ kind: 'customer' }).sum({ s: 'balance' }).first();
  return Number(r!.s);
}

/** Holds the database's write path for a while, as a slow disk or a long commit would. */
/**
 * Holds the database up for `ms` (SQLite: the write lock; PostgreSQL: every customer account,
 * locked in id order as the writer locks them): requests sent once it is `acquired` pile up
 * in the writer's queue and go out in large groups when it is `released`.
 */
function holdTheWriteLock(tdb: TestDb, ms: number): { acquired: Promise<void>; released: Promise<void> } {
  let acquire!: () => void;
  const acquired = new Promise<void>((res) => (acquire = res));
  const released = tdb.db.transaction(async (q) => {
    if (tdb.dialect === 'sqlite') await q.raw('UPDATE branches SET id = id WHERE 0');
    else await q.raw("SELECT id FROM accounts WHERE kind = 'customer' ORDER BY id FOR UPDATE");
    acquire();
    await new Promise((r) => setTimeout(r, ms));
  });
  return { acquired, released };
}
