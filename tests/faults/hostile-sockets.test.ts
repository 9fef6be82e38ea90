import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { BankContext } from '../../bank/core/context.js';
import { writeEvents } from '../../bank/outbox/events.js';
import { withTx } from '../../bank/core/db-tx.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { bankOn, createCustomer, userWithSession } from '../helpers/fixtures.js';
import { figure, latencyProbe, ok, RESPONSIVE } from '../helpers/faults.js';
import { connectClient, spawnServer, until, type HubClient, type ServerProcess } from '../helpers/hub.js';

/**
 * Slow and hostile socket clients against a server in its own process: while each one
 * runs, /healthz is timed from outside and another user's socket must keep working; the
 * server's memory is read from /metrics before and after.
 */
describe('hostile socket clients', () => {
  let tdb: TestDb;
  let bank: BankContext;
  let server: ServerProcess;
  let bystander: HubClient;
  const figures: Record<string, unknown> = {};

  const rssMb = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Math.round(Number(/^bank_node_process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1e6);
  };
  /** Runs a hostile scenario while timing /healthz; the bystander's sync must still answer afterwards. */
  const during = async (name: string, scenario: () => Promise<Record<string, unknown>>) => {
    const before = await rssMb();
    const health = latencyProbe(() => ok(`${server.url}/healthz`), 20);
    const extra = await scenario();
    const h = await health.stop();
    const ack = await bystander.emit('sync', { since: 0 }, 10_000);
    figures[name] = {
      healthzWorstMs: h.worstMs,
      healthzMedianMs: h.medianMs,
      healthzChecks: h.count,
      rssMbBefore: before,
      rssMbAfter: await rssMb(),
      ...extra,
    };
    figure(`hostile ${name}`, figures[name]);
    expect(h.failures).toEqual([]);
    expect(h.worstMs).toBeLessThan(RESPONSIVE.worstMs);
    expect(h.medianMs).toBeLessThan(RESPONSIVE.medianMs);
    expect(ack.ok).toBe(true);
    expect(bystander.socket.connected).toBe(true);
    expect(server.alive()).toBe(true);
  };

  beforeAll(async () => {
    tdb = await createTestDb('sqlite');
    bank = await bankOn(tdb.db);
    server = await spawnServer({ DATABASE_URL: tdb.url, HUB_MAX_SOCKETS_PER_SESSION: '8', HUB_MAX_SOCKETS_PER_USER: '16' });
    const other = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db) });
    bystander = await connectClient(server.url, { token: other.token });
  }, 60_000);
  afterAll(async () => {
    bystander?.close();
    await server?.kill();
    await tdb?.destroy();
  });

  it('a command flood is refused (rate_limited) and others stay responsive', async () => {
    const u = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db) });
    const sockets = await Promise.all(Array.from({ length: 8 }, () => connectClient(server.url, { token: u.token })));
    await during('command flood', async () => {
      const acks: string[] = [];
      const pending: Promise<void>[] = [];
      for (let round = 0; round < 10; round++) {
        for (const s of sockets) {
          for (let i = 0; i < 50; i++) {
            const name = ['sync', 'ticket.watch', 'account.watch', 'no.such.command'][i % 4];
            // An unknown command over the rate gets no answer at all (nothing spent on it).
            const unanswered = name === 'no.such.command' ? 'dropped' : 'timeout';
            pending.push(
              s
                .emit(
                  name,
                  name === 'sync' ? { since: 0 } : { ticketId: 1 + i, accountId: 1 + i },
                  name === 'no.such.command' ? 3_000 : 15_000,
                )
                .then(
                  (a) => void acks.push(a.ok ? 'ok' : a.error.code),
                  () => void acks.push(unanswered),
                ),
            );
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await Promise.all(pending);
      const counts = acks.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
      expect(counts.timeout ?? 0).toBe(0);
      expect(counts.rate_limited + (counts.dropped ?? 0)).toBeGreaterThan(acks.length / 2);
      return { commands: acks.length, answers: counts };
    });
    for (const s of sockets) s.close();
  });

  it('oversized frames close the sender only', async () => {
    const u = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db) });
    await during('oversized frames', async () => {
      const reasons: string[] = [];
      for (let i = 0; i < 20; i++) {
        const c = await connectClient(server.url, { token: u.token });
        const closed = new Promise<string>((resolve) => c.socket.once('disconnect', (reason) => resolve(reason)));
        c.socket.emit('sync', { since: 0, pad: 'x'.repeat(512 * 1024) });
        reasons.push(await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 5_000))]));
        c.close();
      }
      expect(new Set(reasons)).toEqual(new Set(['transport close']));
      return { frames: reasons.length, frameBytes: 512 * 1024 };
    });
  });

  it('a connect/disconnect storm (valid and forged tokens) leaves the server responsive and holding nothing', async () => {
    const u = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db) });
    await during('connect storm', async () => {
      const outcomes: Record<string, number> = {};
      const one = (token: string) =>
        new Promise<void>((resolve) => {
          const s: Socket = ioClient(server.url, {
            path: '/socket.io',
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            timeout: 10_000,
            auth: { token },
          });
          const done = (k: string) => {
            outcomes[k] = (outcomes[k] ?? 0) + 1;
            s.close();
            resolve();
          };
          s.once('connect', () => done('connected'));
          s.once('connect_error', (e) => done(e.message));
        });
      const total = 1_000;
      let next = 0;
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          while (next < total) {
            const i = next++;
            await one(i % 2 ? u.token : `forged-${i}`);
          }
        }),
      );
      expect((outcomes.connected ?? 0) + (outcomes.rate_limited ?? 0) + (outcomes.unauthenticated ?? 0)).toBe(total);
      expect(outcomes.unauthenticated).toBe(total / 2);
      // Every storm socket is gone: the user may connect again up to the bound.
      await until(
        async () => {
          const c = await connectClient(server.url, { token: u.token }).catch(() => null);
          c?.close();
          return !!c;
        },
        { timeout: 5_000, what: 'the storm sockets to be released' },
      );
      return { connects: total, outcomes };
    });
  });

  it('a client that never reads is cut off once too much is queued for it', async () => {
    const cid = await createCustomer(bank.db);
    const u = await userWithSession(bank, 'customer', { customerId: cid });
    await during('never-reading client', async () => {
      // A long-polling client that opens its session, joins, and then never polls again.
      const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
      const open = await (await fetch(base)).text();
      const sid = JSON.parse(open.slice(1)).sid as string;
      expect(
        (
          await fetch(`${base}&sid=${sid}`, {
            method: 'POST',
            body: `40${JSON.stringify({ token: u.token })}`,
            headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
          })
        ).status,
      ).toBe(200);
      expect(await (await fetch(`${base}&sid=${sid}`)).text()).toMatch(/^40/);
      // 3,000 pushes of about 1 kB for that customer (committed elsewhere, published by the relay).
      await withTx(bank, (t) =>
        writeEvents(
          t,
          Array.from({ length: 3_000 }, (_, i) => ({
            type: 'notification',
            rooms: [`customer:${cid}`],
            data: { id: i, kind: 'test', title: 'flood', body: 'z'.repeat(1_000) },
          })),
        ),
      );
      const t0 = Date.now();
      // Cut off: its session is gone (a poll now is refused instead of draining a backlog).
      await until(
        async () =>
          (await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '3', headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }))
            .status === 400,
        { timeout: 15_000, what: 'the stalled client to be cut off' },
      );
      return { pushedEvents: 3_000, cutOffAfterMs: Date.now() - t0 };
    });
  });
});
