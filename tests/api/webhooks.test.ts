import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../bank/outbox/webhooks.js';
import { recordEvent, rooms } from '../../bank/outbox/events.js';
import { withTx } from '../../bank/core/db-tx.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { createCustomer, openTestAccount, seedReference, userWithSession, bankOn } from '../helpers/fixtures.js';
import { connectClient, spawnServer, until, type ServerProcess } from '../helpers/hub.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

// Webhooks against real HTTP receivers started here, and the event feed. The server runs
// with ROLE=all (the sender runs where the jobs do) and a 50 ms retry base.

interface Hit {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
  at: number;
}

/** A receiver whose answer the test decides per request. */
async function receiver(answer: (hit: Hit, n: number) => number | 'hang' = () => 200) {
  const hits: Hit[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const hit = { headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() };
      hits.push(hit);
      const a = answer(hit, hits.length);
      if (a === 'hang') hanging.push(res);
      else res.writeHead(a).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    hits,
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
type Receiver = Awaited<ReturnType<typeof receiver>>;

/** The documented check (README): HMAC-SHA256 over "<t>.<raw body>" with the endpoint's secret. */
function verify(secret: string, header: string | undefined, raw: string, toleranceSec = 300): boolean {
  const parts = Object.fromEntries(
    String(header)
      .split(',')
      .map((kv) => kv.split('=') as [string, string]),
  );
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSec) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
  return parts.v1?.length === expected.length && crypto.timingSafeEqual(Buffer.from(parts.v1), Buffer.from(expected));
}

/** How long the sender waits for an answer here: a hanging receiver holds its slots this long. */
const SLOW_HOLD_MS = 8_000;

describe.each(DIALECTS)('webhooks on %s', (dialect) => {
  let srv: TestServer;
  let admin: ApiClient;
  let teller: ApiClient;
  let accountId: number;
  const receivers: Receiver[] = [];

  const hook = async (r: Receiver, events: string[] = ['balance.updated']) => {
    const res = await admin.post('/webhooks', { url: r.url, events, description: 'test receiver' });
    expect(res.status).toBe(201);
    return res.body as { id: number; secret: string; url: string; events: string[]; active: boolean };
  };
  const deposit = (amount = '10.00') => teller.post('/deposits', { accountId, amount });

  beforeAll(async () => {
    srv = await startTestServer({
      dialect,
      env: { ROLE: 'all', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_TIMEOUT_MS: String(SLOW_HOLD_MS) },
    });
    const { bank } = srv.running;
    await seedReference(bank.db);
    accountId = (await openTestAccount(bank, await createCustomer(bank.db, 'Hook'))).id;
    admin = apiClient(srv.url, (await userWithSession(bank, 'admin')).token);
    teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await srv?.close();
  });

  it('delivers a committed event, signed as documented; the secret is shown once', async () => {
    const r = await receiver();
    receivers.push(r);
    const h = await hook(r);
    expect(h.secret).toMatch(/^whsec_[0-9a-f]{48}$/);
    expect(JSON.stringify((await admin.get('/webhooks')).body)).not.toContain(h.secret);

    const dep = await deposit('12.34');
    const hit = await until(() => r.hits[0], { what: 'the delivery' });
    expect(hit.headers['x-bank-event']).toBe('balance.updated');
    expect(hit.body).toMatchObject({
      event: 'balance.updated',
      data: { accountId, balance: expect.any(String), transactionId: dep.body.id },
    });
    expect(hit.body.deliveryId).toBe(Number(hit.headers['x-bank-delivery']));
    expect(hit.body.seq).toBe(hit.body.data.seq);
    expect(verify(h.secret, hit.headers['x-bank-signature'] as string, hit.raw)).toBe(true);
    // A changed body or another secret does not verify.
    expect(verify(h.secret, hit.headers['x-bank-signature'] as string, hit.raw.replace('12.34', '99.99'))).toBe(false);
    expect(verify('whsec_other', hit.headers['x-bank-signature'] as string, hit.raw)).toBe(false);

    const log = await until(
      async () => {
        const items = (await admin.get(`/webhooks/${h.id}/deliveries`)).body.items;
        return items[0]?.status === 'delivered' && items;
      },
      { what: 'the delivery log' },
    );
    expect(log[0]).toMatchObject({
      seq: hit.body.seq,
      event: 'balance.updated',
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it('retries a failing receiver with backoff: 500, 500, then 200 on the third attempt', async () => {
    const r = await receiver((_hit, n) => (n <= 2 ? 500 : 200));
    receivers.push(r);
    const h = await hook(r);
    await deposit();
    await until(() => r.hits.length >= 3, { what: 'three attempts' });
    expect(new Set(r.hits.map((x) => x.body.deliveryId)).size).toBe(1);
    expect(r.hits.every((x) => verify(h.secret, x.headers['x-bank-signature'] as string, x.raw))).toBe(true);
    expect(r.hits[1].at - r.hits[0].at).toBeGreaterThanOrEqual(25); // base 50 ms, jittered 50–100 %
    expect(r.hits[2].at - r.hits[1].at).toBeGreaterThanOrEqual(50); // doubled
    const [d] = await until(
      async () => {
        const items = (await admin.get(`/webhooks/${h.id}/deliveries`)).body.items;
        return items[0]?.status === 'delivered' && items;
      },
      { what: 'delivered after retries' },
    );
    expect(d).toMatchObject({ attempts: 3, lastStatusCode: 200 });
    await new Promise((res) => setTimeout(res, 300));
    expect(r.hits).toHaveLength(3);

    const metrics = (await apiClient(srv.url).get('/metrics')).text;
    expect(metrics).toMatch(/bank_webhook_deliveries_total\{outcome="retrying"\} [1-9]/);
    expect(metrics).toMatch(/bank_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(new RegExp(`bank_webhook_attempts_total\\{endpoint="${h.id}",result="failure"\\} 2`));
    expect(metrics).toMatch(/bank_webhook_delivery_lag_seconds_count [1-9]/);
  });

  it('backs off exponentially with jitter, capped at an hour', () => {
    expect(retryDelayMs(5000, 1, 0)).toBe(2500);
    expect(retryDelayMs(5000, 1, 1)).toBe(5000);
    expect(retryDelayMs(5000, 4, 1)).toBe(40_000);
    expect(retryDelayMs(5000, 30, 1)).toBe(3600_000);
    expect(retryDelayMs(5000, 30, 0)).toBe(1800_000);
  });

  it('a disabled endpoint receives nothing; an endpoint only gets the events it names', async () => {
    const off = await receiver();
    const tickets = await receiver();
    receivers.push(off, tickets);
    const h = await hook(off);
    expect((await admin.patch(`/webhooks/${h.id}`, { active: false })).body.active).toBe(false);
    await hook(tickets, ['ticket.created']);
    const watcher = await receiver();
    receivers.push(watcher);
    await hook(watcher);
    await deposit();
    await until(() => watcher.hits.length >= 1, { what: 'an active endpoint got the deposit' });
    await new Promise((res) => setTimeout(res, 1500)); // more than a sender tick
    expect(off.hits).toHaveLength(0);
    expect(tickets.hits).toHaveLength(0);
    expect((await admin.get(`/webhooks/${h.id}/deliveries`)).body.items).toEqual([]);
  });

  it('"*" gets every event but the personal ones (inbox and session events)', async () => {
    const all = await receiver();
    receivers.push(all);
    await hook(all, ['*']);
    const { bank } = srv.running;
    const user = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db, 'Private') });
    await withTx(bank, async (t) => {
      recordEvent(t, 'notification', [rooms.user(user.user.id)], { id: 1, kind: 'test', title: 'Private', body: 'for one person only' });
      recordEvent(t, 'notification.read', [rooms.user(user.user.id)], { id: 1 });
    });
    expect((await apiClient(srv.url, user.token).post('/auth/logout')).status).toBeLessThan(300);
    const dep = await deposit('3.21');
    expect(dep.status).toBe(201);
    // The deposit's own events come after the personal ones: once they are in, so would those be.
    await until(() => all.hits.some((h) => h.body.event === 'transaction.posted' && h.body.data.transaction.id === dep.body.id), {
      what: 'the deposit at the "*" endpoint',
    });
    await new Promise((res) => setTimeout(res, 1000)); // a sender tick more
    const got = new Set(all.hits.map((h) => h.body.event as string));
    expect(got.has('transaction.posted')).toBe(true);
    for (const personal of ['notification', 'notification.read', 'session.revoked']) expect(got.has(personal)).toBe(false);
  });

  it('a slow endpoint delays neither other endpoints nor money movement', async () => {
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    receivers.push(slow, fast);
    await hook(slow);
    await hook(fast);
    const started = Date.now();
    for (let i = 0; i < 6; i++) expect((await deposit('1.00')).status).toBe(201);
    const moneyMs = Date.now() - started;
    await until(() => fast.hits.length >= 6, { what: 'the fast endpoint got all six' });
    const fastMs = Date.now() - started;
    // The slow endpoint holds its own slots (WEBHOOK_CONCURRENCY, 4) unanswered the whole time.
    expect(slow.hits.length).toBeGreaterThanOrEqual(1);
    expect(slow.hits.length).toBeLessThanOrEqual(4);
    expect(fastMs).toBeLessThan(SLOW_HOLD_MS * 0.75);
    expect(moneyMs).toBeLessThan(SLOW_HOLD_MS * 0.75);
  });

  it('keeps a delivery log per endpoint with redelivery', async () => {
    const r = await receiver((_h, n) => (n === 1 ? 410 : 200));
    receivers.push(r);
    const h = await hook(r);
    await admin.patch(`/webhooks/${h.id}`, { events: ['balance.updated'] });
    await deposit();
    await until(() => r.hits.length >= 2, { what: 'a retry' });
    const [d] = (await admin.get(`/webhooks/${h.id}/deliveries`)).body.items;
    const again = await admin.post(`/webhooks/${h.id}/deliveries/${d.id}/redeliver`);
    expect(again.status).toBe(202);
    await until(() => r.hits.length >= 3, { what: 'the redelivery' });
    expect(r.hits[2].body.deliveryId).toBe(d.id);
    expect((await admin.post(`/webhooks/${h.id}/deliveries/999999/redeliver`)).status).toBe(404);
    expect((await admin.del(`/webhooks/${h.id}`)).status).toBe(204);
    expect((await admin.get(`/webhooks/${h.id}/deliveries`)).status).toBe(404);
  });

  it('refuses bad input with 400', async () => {
    for (const body of [
      { url: 'ftp://example.com/x', events: ['balance.updated'] },
      { url: 'not a url', events: ['balance.updated'] },
      { url: 'https://user:pw@93.184.216.34/x', events: ['balance.updated'] },
      { url: 'https://93.184.216.34/x', events: [] },
      { url: 'https://93.184.216.34/x', events: ['notification'] },
      { url: 'https://93.184.216.34/x', events: ['Bad Name'] },
    ]) {
      const res = await admin.post('/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });
});

describe('private addresses are refused by default', () => {
  let srv: TestServer;
  let admin: ApiClient;
  beforeAll(async () => {
    srv = await startTestServer();
    admin = apiClient(srv.url, (await userWithSession(srv.running.bank, 'admin')).token);
  });
  afterAll(() => srv?.close());

  it('loopback, private, link-local and mapped addresses, and names resolving to them, are 400', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://192.168.1.10/hook',
      'http://172.20.0.5/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const res = await admin.post('/webhooks', { url, events: ['balance.updated'] });
      expect(res.status, url).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', details: { fields: ['url'] } });
    }
    expect((await admin.get('/webhooks')).body.items).toEqual([]);
    // A public address is fine; moving it onto a private one later is refused too.
    const ok = await admin.post('/webhooks', { url: 'https://93.184.216.34/hook', events: ['balance.updated'] });
    expect(ok.status).toBe(201);
    expect((await admin.patch(`/webhooks/${ok.body.id}`, { url: 'http://127.0.0.1/hook' })).status).toBe(400);
  });
});

describe('GET /events', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv?.close());

  it('answers exactly what sync answers for the same session, page by page', async () => {
    const { bank } = srv.running;
    await seedReference(bank.db);
    const customerId = await createCustomer(bank.db, 'Feed');
    const me = await userWithSession(bank, 'customer', { customerId });
    const other = await userWithSession(bank, 'customer', { customerId: await createCustomer(bank.db, 'Other') });
    const teller = apiClient(srv.url, (await userWithSession(bank, 'teller')).token);
    const mine = await openTestAccount(bank, customerId);
    const theirs = await openTestAccount(bank, other.actor.customerId!);
    for (let i = 0; i < 5; i++) {
      await teller.post('/deposits', { accountId: mine.id, amount: '5.00' });
      await teller.post('/deposits', { accountId: theirs.id, amount: '7.00' });
    }
    await apiClient(srv.url, me.token).post('/tickets', { category: 'general', subject: 'Feed', body: 'Hello' });

    const socket = await connectClient(srv.url, { token: me.token });
    try {
      const rest = apiClient(srv.url, me.token);
      for (const since of [0, 3, 10]) {
        const ack = await socket.emit('sync', { since });
        const feed = await rest.get(`/events?since=${since}`);
        expect(feed.status).toBe(200);
        expect(feed.body).toEqual({ events: ack.events, upTo: ack.upTo });
      }
      const all = (await rest.get('/events?since=0')).body.events;
      expect(all.length).toBeGreaterThan(5);
      expect(all.every((e: { data: { accountId?: number } }) => e.data.accountId === undefined || e.data.accountId === mine.id)).toBe(true);
      // Paging: limit=2 walks the same events in order.
      const walked: number[] = [];
      let since = 0;
      for (let i = 0; i < 50; i++) {
        const page = (await rest.get(`/events?since=${since}&limit=2`)).body;
        walked.push(...page.events.map((e: { seq: number }) => e.seq));
        if (page.events.length < 2) break;
        since = page.upTo;
      }
      expect(walked).toEqual(all.map((e: { seq: number }) => e.seq));
      expect((await rest.get('/events?since=-1')).status).toBe(400);
      expect((await rest.get('/events?limit=5000')).status).toBe(400);
      expect((await apiClient(srv.url).get('/events')).status).toBe(401);
    } finally {
      socket.close();
    }
  });
});

describe('a crash between commit and delivery', () => {
  let testDb: TestDb;
  let server: ServerProcess | null = null;
  let r: Receiver;
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await r?.close();
    await testDb?.destroy();
  });

  it('SIGKILL while the delivery is in flight: the restarted server delivers it', async () => {
    testDb = await createTestDb('sqlite');
    const bank = await bankOn(testDb.db);
    await seedReference(testDb.db);
    const accountId = (await openTestAccount(bank, await createCustomer(testDb.db, 'Crash'))).id;
    const adminToken = (await userWithSession(bank, 'admin')).token;
    const tellerToken = (await userWithSession(bank, 'teller')).token;
    // The first request is held unanswered: the server dies while it waits for the answer.
    r = await receiver((_h, n) => (n === 1 ? 'hang' : 200));
    const env = {
      DATABASE_URL: testDb.url,
      ROLE: 'all',
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    };
    server = await spawnServer(env);
    const h = (await apiClient(server.url, adminToken).post('/webhooks', { url: r.url, events: ['transaction.posted'] })).body;
    const dep = await apiClient(server.url, tellerToken).post('/deposits', { accountId, amount: '50.00' });
    expect(dep.status).toBe(201);
    await until(() => r.hits.length >= 1, { what: 'the first attempt' });
    await server.kill('SIGKILL');
    const row = await testDb.db('webhook_deliveries').where({ endpoint_id: h.id }).first();
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });

    server = await spawnServer(env);
    await until(() => r.hits.length >= 2, { timeout: 20_000, what: 'the delivery after the restart' });
    expect(r.hits[1].body).toMatchObject({ event: 'transaction.posted', data: { transaction: { id: dep.body.id } } });
    expect(r.hits[1].body.deliveryId).toBe(r.hits[0].body.deliveryId);
    expect(verify(h.secret, r.hits[1].headers['x-bank-signature'] as string, r.hits[1].raw)).toBe(true);
    await until(async () => (await testDb.db('webhook_deliveries').where({ endpoint_id: h.id }).first()).status === 'delivered', {
      what: 'marked delivered',
    });
  }, 90_000);

  it('an event committed while no sender ran is delivered when one starts', async () => {
    const bank = await bankOn(testDb.db);
    await server!.kill('SIGKILL');
    server = null;
    const before = r.hits.length;
    const accountId = (await openTestAccount(bank, await createCustomer(testDb.db, 'Later'))).id;
    const { deposit } = await import('../../bank/ledger/transactions.js');
    const { SYSTEM } = await import('../../bank/core/context.js');
    const tx = (await deposit(bank, SYSTEM, { accountId, amount: '5.00' })).value;
    server = await spawnServer({
      DATABASE_URL: testDb.url,
      ROLE: 'all',
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    });
    const hit = await until(() => r.hits.slice(before).find((x) => x.body.data.transaction?.id === tx.id), {
      timeout: 20_000,
      what: 'the delivery',
    });
    expect(hit.body.event).toBe('transaction.posted');
  }, 90_000);
});
