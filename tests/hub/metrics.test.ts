/**
 * The real-time hub's own metrics, which the hub dashboard draws: connects by transport,
 * refused handshakes, disconnects by reason, events by type, commands by outcome (sync
 * volume, rate limiting) and the Redis adapter's health. Scraped from a real server's
 * /metrics with real sockets and the real Redis.
 */
import { randomBytes } from 'node:crypto';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { connectClient, refusal, until } from '../helpers/hub.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

/** The value of one series in the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const body = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
    const have = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('hub metrics', () => {
  let srv: TestServer;
  let teller: ApiClient;
  let customer: { token: string; accountId: number };
  const scrape = async () => (await fetch(`${srv.url}/metrics`)).text();

  beforeAll(async () => {
    srv = await startTestServer({
      env: { REDIS_URL: 'redis://127.0.0.1:6379', HUB_REDIS_PREFIX: `test-metrics-${randomBytes(4).toString('hex')}` },
    });
    await seedReference(srv.running.bank.db);
    teller = apiClient(srv.url, (await userWithSession(srv.running.bank, 'teller')).token);
    const customerId = await createCustomer(srv.running.bank.db, `Mia${randomBytes(3).toString('hex')}`);
    const u = await userWithSession(srv.running.bank, 'customer', { customerId });
    const account = (await teller.post('/accounts', { customerId, type: 'CUR', branch: 'MAIN' })).body;
    customer = { token: u.token, accountId: account.id };
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('counts refusals, connects by transport, events by type, commands by outcome and disconnects by reason', async () => {
    expect(await refusal(srv.url, { token: 'not-a-token' })).toBe('unauthenticated');

    const ws = await connectClient(srv.url, { token: customer.token });
    const polling = ioClient(srv.url, {
      path: '/socket.io',
      transports: ['polling'],
      auth: { token: customer.token },
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      polling.once('connect', () => resolve());
      polling.once('connect_error', reject);
    });

    expect((await teller.post('/deposits', { accountId: customer.accountId, amount: '25.00' })).status).toBe(201);
    await ws.waitFor('balance.updated');
    const synced = await ws.emit('sync', { since: 0 });
    expect(synced.ok).toBe(true);
    // A burst past the per-socket command bucket: some answers are rate_limited.
    const burst = await Promise.all(Array.from({ length: 60 }, () => ws.emit('account.unwatch', { accountId: customer.accountId })));
    const limited = burst.filter((a) => a.error?.code === 'rate_limited').length;
    expect(limited).toBeGreaterThan(0);

    let text = await scrape();
    expect(sample(text, 'bank_socket_refusals_total', { reason: 'unauthenticated' })).toBe(1);
    expect(sample(text, 'bank_socket_connects_total', { transport: 'websocket' })).toBe(1);
    expect(sample(text, 'bank_socket_connects_total', { transport: 'polling' })).toBe(1);
    expect(sample(text, 'bank_socket_connections')).toBe(2);
    expect(sample(text, 'bank_events_published_total', { path: 'live', type: 'balance.updated' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'bank_socket_commands_total', { command: 'sync', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'bank_events_replayed_total')).toBe(synced.events.length);
    expect(sample(text, 'bank_socket_commands_total', { command: 'account.unwatch', outcome: 'rate_limited' })).toBe(limited);
    expect(sample(text, 'bank_socket_commands_total', { command: 'account.unwatch', outcome: 'ok' })).toBe(60 - limited);
    expect(sample(text, 'bank_redis_adapter_up', { client: 'pub' })).toBe(1);
    expect(sample(text, 'bank_redis_adapter_up', { client: 'sub' })).toBe(1);
    expect(sample(text, 'bank_redis_adapter_publish_failures_total')).toBe(0);

    ws.close();
    polling.close();
    text = await until(async () => {
      const t = await scrape();
      return sample(t, 'bank_socket_connections') === 0 ? t : null;
    });
    expect(sample(text, 'bank_socket_disconnects_total', { reason: 'client namespace disconnect' })).toBe(2);
  });

  it('a process without Redis has no adapter series', async () => {
    const local = await startTestServer();
    try {
      const text = await (await fetch(`${local.url}/metrics`)).text();
      expect(text).toContain('# TYPE bank_redis_adapter_up gauge');
      expect(sample(text, 'bank_redis_adapter_up')).toBe(0);
      expect(text).not.toMatch(/^bank_redis_adapter_up\{/m);
    } finally {
      await local.close();
    }
  });
});
