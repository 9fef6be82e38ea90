import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnex } from '../../db/knex.js';
import { createCustomer, openTestAccount, seedReference, userWithSession } from '../helpers/fixtures.js';
import { PG_URL } from '../helpers/db.js';
import { figure, invariants, latencyProbe, ok } from '../helpers/faults.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * PostgreSQL drops every connection of the server mid-load (pg_terminate_backend on the
 * test schema's connections, as a restart would, without restarting the shared server).
 * Requests in flight fail cleanly with 503 and Retry-After; the same request with the same
 * Idempotency-Key then succeeds exactly once; the pool recovers without a restart; the
 * ledger and the audit chain verify.
 */
describe('PostgreSQL connections killed under load', () => {
  let srv: TestServer;
  const admin = createKnex({ url: PG_URL, poolMax: 1 });

  beforeAll(async () => {
    srv = await startTestServer({ dialect: 'pg', env: { DATABASE_POOL_MAX: '6' } });
    await seedReference(srv.running.bank.db);
  });
  afterAll(async () => {
    await srv?.close();
    await admin.destroy();
  });

  const killServerConnections = async () => {
    const r = await admin.raw(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()',
      [srv.testDb.schema!],
    );
    return Number(r.rows[0].n);
  };

  it('answers 503 with Retry-After to the requests in flight; retries with the same key succeed once; nothing is half-written', async () => {
    const bank = srv.running.bank;
    const teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
    const accounts = await Promise.all(Array.from({ length: 6 }, async () => openTestAccount(bank, await createCustomer(bank.db), 'CUR')));
    const tally = { sent: 0, ok: 0, unavailable: 0, retries: 0, other: [] as string[], inFlight: 0, inFlightAtKill: [] as number[] };
    const done = new Map<string, number>();

    /** One deposit, retried with the same key on 503 as a client should. */
    const deposit = async (accountId: number) => {
      const key = crypto.randomUUID();
      for (let attempt = 0; attempt < 20; attempt++) {
        if (attempt) tally.retries++;
        tally.sent++;
        tally.inFlight++;
        const r = await teller.post('/deposits', { accountId, amount: '1.00' }, { 'Idempotency-Key': key }).finally(() => tally.inFlight--);
        if (r.status === 201) {
          tally.ok++;
          done.set(key, r.body.id);
          return;
        }
        if (r.status === 503) {
          tally.unavailable++;
          expect(r.headers.get('retry-after')).toBe('1');
          expect(r.body.error.code).toBe('unavailable');
          await new Promise((res) => setTimeout(res, 200)); // a test waits less than Retry-After asks
          continue;
        }
        if (r.status === 409 && r.body.error.code === 'idempotency_in_flight') {
          await new Promise((res) => setTimeout(res, 200));
          continue;
        }
        tally.other.push(`${r.status} ${r.body?.error?.code}`);
        return;
      }
      tally.other.push('gave up');
    };

    const health = latencyProbe(() => ok(`${srv.url}/healthz`), 25);
    let running = true;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      let i = 0;
      while (running) await deposit(accounts[(w + i++) % accounts.length].id);
    });
    const killed: number[] = [];
    for (const at of [400, 900, 1400]) {
      await new Promise((r) => setTimeout(r, at - (killed.length ? [400, 900, 1400][killed.length - 1] : 0)));
      tally.inFlightAtKill.push(tally.inFlight);
      killed.push(await killServerConnections());
    }
    await new Promise((r) => setTimeout(r, 600));
    running = false;
    await Promise.all(workers);
    const h = await health.stop();

    figure('postgres kill', {
      connectionsKilled: killed,
      inFlightAtKill: tally.inFlightAtKill,
      requests: tally.sent,
      succeeded: tally.ok,
      answered503: tally.unavailable,
      retries: tally.retries,
      healthzWorstMs: h.worstMs,
    });
    expect(killed.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(tally.other).toEqual([]);
    expect(tally.unavailable).toBeGreaterThan(0);
    expect(tally.ok).toBe(done.size);

    // The pool recovered without a restart: plain requests work at once.
    expect((await teller.get('/accounts?limit=1')).status).toBe(200);
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);

    // Exactly one deposit per key that succeeded, none for the rest; balances match.
    const deposits = await bank
      .db('transactions')
      .whereIn('id', [...done.values()])
      .count({ n: '*' })
      .first();
    expect(Number(deposits!.n)).toBe(done.size);
    const [{ n: total }] = await bank.db('transactions').where({ kind: 'deposit' }).count({ n: '*' });
    expect(Number(total)).toBe(done.size);
    const sum = await bank
      .db('accounts')
      .whereIn(
        'id',
        accounts.map((a) => a.id),
      )
      .sum({ s: 'balance' })
      .first();
    expect(Number(sum!.s)).toBe(done.size * 100);
    const { audit, ledger } = await invariants(bank.db);
    expect(ledger.ok).toBe(true);
    expect(audit.ok).toBe(true);
  });
});
