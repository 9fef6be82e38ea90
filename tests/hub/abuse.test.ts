import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEvents } from '../../bank/outbox/events.js';
import { createSessionIn } from '../../bank/access/sessions.js';
import { withTx } from '../../bank/core/db-tx.js';
import { HubLimits } from '../../hub/limits.js';
import { createCustomer, openTestAccount, seedReference, userWithSession } from '../helpers/fixtures.js';
import { figure, latencyProbe, ok, RESPONSIVE } from '../helpers/faults.js';
import { connectClient, refusal, type HubClient } from '../helpers/hub.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 9, item 1: one customer with many sockets on one token, each flooding `sync`,
 * stalled the server for everyone. Sockets per session and per user, concurrent syncs per
 * process and each session's sync rate are bounded; the excess is refused with rate_limited.
 */
describe('one customer cannot stall the hub', () => {
  let srv: TestServer;
  const clients: HubClient[] = [];

  beforeAll(async () => {
    srv = await startTestServer({
      env: { HUB_MAX_SOCKETS_PER_SESSION: '5', HUB_MAX_SOCKETS_PER_USER: '8', HUB_SYNC_CONCURRENCY: '2', HUB_SYNC_QUEUE: '8' },
    });
    await seedReference(srv.running.bank.db);
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await srv?.close();
  });

  it('refuses sockets over the per-session and per-user bounds, refuses a sync flood, and another user stays fast', async () => {
    const bank = srv.running.bank;
    const cid = await createCustomer(bank.db);
    const abuser = await userWithSession(bank, 'customer', { customerId: cid });
    // A few hundred events in that customer's history: each sync {since: 0} loads them all.
    for (let i = 0; i < 4; i++) {
      await withTx(bank, (t) =>
        writeEvents(
          t,
          Array.from({ length: 150 }, (_, j) => ({
            type: 'notification',
            rooms: [`customer:${cid}`],
            data: { id: i * 150 + j, kind: 'test', title: 'x', body: 'y'.repeat(200) },
          })),
        ),
      );
    }
    const otherCid = await createCustomer(bank.db);
    const other = await userWithSession(bank, 'customer', { customerId: otherCid });
    await openTestAccount(bank, otherCid, 'CUR');

    // 30 sockets on one token: 5 get in, the rest are refused with rate_limited.
    const attempts = await Promise.all(
      Array.from({ length: 30 }, () =>
        connectClient(srv.url, { token: abuser.token }).then(
          (c) => c,
          (e: Error) => e.message,
        ),
      ),
    );
    const connected = attempts.filter((a): a is HubClient => typeof a !== 'string');
    clients.push(...connected);
    const refusals = attempts.filter((a) => typeof a === 'string');
    expect(connected).toHaveLength(5);
    expect(new Set(refusals)).toEqual(new Set(['rate_limited']));
    figure('sockets accepted of 30 on one session', connected.length);

    // A second session of the same user: up to 8 sockets in all.
    const more = await withTx(bank, async (t) => createSessionIn(t, abuser.user, { idleMinutes: 30, absoluteHours: 12 }, {}));
    const extra = await Promise.all(
      Array.from({ length: 5 }, () =>
        connectClient(srv.url, { token: more.token }).then(
          (c) => c,
          (e: Error) => e.message,
        ),
      ),
    );
    clients.push(...extra.filter((a): a is HubClient => typeof a !== 'string'));
    expect(extra.filter((a) => typeof a !== 'string')).toHaveLength(3);
    expect(extra.filter((a) => a === 'rate_limited')).toHaveLength(2);
    // Another user is not affected by this user's bound.
    const bystander = await connectClient(srv.url, { token: other.token });
    clients.push(bystander);

    // Every admitted socket floods sync {since: 0}, ten a second for three seconds (240 in all).
    const probeRest = latencyProbe(() => ok(`${srv.url}/api/v1/accounts`, { headers: { Authorization: `Bearer ${other.token}` } }), 20);
    const probeHealth = latencyProbe(() => ok(`${srv.url}/healthz`), 20);
    const acks: { ok: boolean; error?: { code: string } }[] = [];
    const flooders = clients.filter((c) => c !== bystander);
    const started = Date.now();
    const pending: Promise<void>[] = [];
    for (let round = 0; round < 30; round++) {
      for (const c of flooders)
        pending.push(
          c.emit('sync', { since: 0 }, 30_000).then(
            (a) => void acks.push(a),
            () => void acks.push({ ok: false, error: { code: 'timeout' } }),
          ),
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    // Meanwhile the bystander's own sync is answered.
    const own = await bystander.emit('sync', { since: 0 }, 20_000);
    await Promise.all(pending);
    const seconds = (Date.now() - started) / 1000;
    const rest = await probeRest.stop();
    const health = await probeHealth.stop();

    const answered = acks.filter((a) => a.ok).length;
    const limited = acks.filter((a) => a.error?.code === 'rate_limited').length;
    figure('sync flood', {
      sent: acks.length,
      answered,
      rateLimited: limited,
      otherUserGetAccountsWorstMs: rest.worstMs,
      otherUserGetAccountsMedianMs: rest.medianMs,
      healthzWorstMs: health.worstMs,
      healthzMedianMs: health.medianMs,
    });
    expect(acks.every((a) => a.ok || a.error?.code === 'rate_limited')).toBe(true);
    expect(acks).toHaveLength(240);
    // Two sessions, each a burst of 10 then 2 a second: that many syncs did any work, at most.
    expect(answered).toBeLessThanOrEqual(2 * (10 + 2 * Math.ceil(seconds)));
    expect(limited).toBe(240 - answered);
    expect(own.ok || own.error?.code === 'rate_limited').toBe(true);
    expect(rest.failures).toEqual([]);
    for (const probe of [rest, health]) {
      expect(probe.worstMs).toBeLessThan(RESPONSIVE.worstMs);
      expect(probe.medianMs).toBeLessThan(RESPONSIVE.medianMs);
    }

    // The bound follows disconnects: a closed socket frees its place.
    flooders[0].close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await connectClient(srv.url, { token: abuser.token });
    clients.push(again);
    expect(await refusal(srv.url, { token: abuser.token })).toBe('rate_limited');
  });
});

describe('HubLimits.sync', () => {
  it('runs at most `syncConcurrency` at once, queues a few, refuses the rest', async () => {
    const limits = new HubLimits({
      socketsPerSession: 1,
      socketsPerUser: 1,
      syncConcurrency: 2,
      syncQueue: 2,
      syncBurst: 100,
      syncPerSession: 100,
    });
    let running = 0;
    let peak = 0;
    const work = () =>
      limits.sync(Math.floor(Math.random() * 1e9), async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        return 'done';
      });
    const results = await Promise.allSettled(Array.from({ length: 6 }, work));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([
      'rate_limited',
      'rate_limited',
    ]);
    expect(peak).toBe(2);
    // Slots come back: more work runs afterwards.
    expect(await work()).toBe('done');
    limits.close();
  });

  it('limits one session to its burst, then its rate', async () => {
    const limits = new HubLimits({
      socketsPerSession: 1,
      socketsPerUser: 1,
      syncConcurrency: 10,
      syncQueue: 10,
      syncBurst: 3,
      syncPerSecond: 1,
    });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await limits.sync(7, async () => 'ok').catch((e) => e.code));
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
    expect(await limits.sync(8, async () => 'ok')).toBe('ok'); // another session has its own allowance
    limits.close();
  });
});
