import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeSessions } from '../../bank/access/sessions.js';
import { withTx } from '../../bank/core/db-tx.js';
import { userWithSession } from '../helpers/fixtures.js';
import {
  connectClient,
  diff,
  entitledSeqs,
  HubClient,
  launchCluster,
  moveMoney,
  percentile,
  roomsOf,
  smallBank,
  until,
  type Cluster,
  type Person,
} from '../helpers/hub.js';
import { apiClient } from '../helpers/server.js';

// Three server processes on one PostgreSQL schema, joined by the real Redis.

let cluster: Cluster;
let bankSetup: Awaited<ReturnType<typeof smallBank>>;
const clients: HubClient[] = [];

async function client(url: string | string[], person: Person, opts: { failover?: boolean } = {}) {
  const c = await connectClient(url, { token: person.token, syncOnConnect: true, ...opts });
  clients.push(c);
  return c;
}

const maxSeq = async () => Number((await cluster.bank.db('events').max({ m: 'seq' }).first())?.m ?? 0);

beforeAll(async () => {
  cluster = await launchCluster(3);
  bankSetup = await smallBank(cluster.bank, cluster.servers[0].url, 4);
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await cluster?.close();
});

describe('three processes joined by Redis', () => {
  it('delivers every event to every entitled client exactly once, across processes', async () => {
    const { teller, manager, customers } = bankSetup;
    const urls = cluster.servers.map((s) => s.url);
    const watched = customers[0].account!.id;
    const subjects: { who: Person; c: HubClient; watching: string[] }[] = [];
    for (const [i, p] of customers.entries()) {
      subjects.push({ who: p, c: await client(urls[i % 3], p), watching: [] });
      subjects.push({ who: p, c: await client(urls[(i + 1) % 3], p), watching: [] });
    }
    subjects.push({ who: teller, c: await client(urls[2], teller), watching: [] });
    const mgr = await client(urls[1], manager);
    expect(await mgr.emit('account.watch', { accountId: watched })).toEqual({ ok: true, accountId: watched });
    subjects.push({ who: manager, c: mgr, watching: [`account:${watched}`] });
    const watermark = await maxSeq();

    const outcomes = await moveMoney({ urls: () => urls, teller, customers, count: 45 });
    expect(outcomes['201'], JSON.stringify(outcomes)).toBeGreaterThan(30);
    // Events committed where no hub runs (this test process) reach clients through the relay,
    // and cover the broadcast rooms.
    // Stub payloads (only the routing matters here), so they are queued raw: recordEvent would
    // (rightly) refuse them.
    await withTx(cluster.bank, async (t) => {
      t.events.push({ type: 'announcement.published', rooms: ['customers'], data: { announcement: { id: 1, title: 'to customers' } } });
      t.events.push({ type: 'announcement.published', rooms: ['staff'], data: { announcement: { id: 2, title: 'to staff' } } });
      t.events.push({ type: 'announcement.published', rooms: ['all'], data: { announcement: { id: 3, title: 'to all' } } });
      t.events.push({
        type: 'transaction.pending',
        rooms: [`account:${watched}`, `customer:${customers[0].customerId}`, 'managers'],
        data: { transaction: { id: 0 } },
      });
    });

    const lags: number[] = [];
    for (const { who, c, watching } of subjects) {
      const entitled = await entitledSeqs(cluster.bank.db, roomsOf(who, watching), watermark);
      const live = () => new Set([...c.bySeq.values()].filter((r) => r.via === 'live' && r.seq! > watermark).map((r) => r.seq!));
      await until(() => diff(entitled, live()).length === 0, {
        timeout: 15_000,
        what: `live events on ${c.url} for ${who.role} ${who.userId}`,
      });
      expect(diff(live(), entitled), 'foreign live events').toEqual([]);
      expect(c.liveDuplicates, 'the same event twice live').toEqual([]);
      for (const r of c.log)
        if (r.via === 'live' && r.seq! > watermark && r.event === 'balance.updated') lags.push(r.receivedAt - Date.parse(r.data.at));
      // ...and a replay from the start holds exactly the entitled history.
      const all = await entitledSeqs(cluster.bank.db, roomsOf(who, watching), 0);
      await c.syncAll(0);
      expect(diff(c.seqs(), all), 'foreign').toEqual([]);
      expect(diff(all, c.seqs()), 'missing').toEqual([]);
    }
    // The manager watching an account got an event addressed to three of its rooms once.
    expect(mgr.log.filter((r) => r.event === 'transaction.pending' && r.via === 'live').length).toBe(1);
    console.log(
      `[hub latency, 3 processes + Redis, n=${lags.length}] transaction start (at)→client p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms`,
    );
  });

  it('shows ticket presence and typing across processes', async () => {
    const { teller, manager, customers } = bankSetup;
    const owner = customers[1];
    const now = new Date().toISOString();
    const [row] = await cluster.bank.db('tickets').insert(
      {
        customer_id: owner.customerId,
        category: 'card',
        subject: 'Card',
        status: 'open',
        priority: 'normal',
        created_at: now,
        updated_at: now,
      },
      ['id'],
    );
    const ticketId = typeof row === 'object' ? row.id : row;
    const cust = await client(cluster.servers[0].url, owner);
    const staff = await client(cluster.servers[2].url, teller);
    const colleague = await client(cluster.servers[1].url, manager);
    expect((await cust.emit('ticket.watch', { ticketId })).ok).toBe(true);
    await staff.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.some((v: any) => v.userId === owner.userId));
    expect((await staff.emit('ticket.watch', { ticketId })).ok).toBe(true);
    await colleague.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.length === 2);
    expect((await cust.emit('ticket.typing', { ticketId })).ok).toBe(true);
    await staff.waitFor('ticket.typing', (d) => d.ticketId === ticketId && d.userId === owner.userId);
    expect((await staff.emit('ticket.typing', { ticketId })).ok).toBe(true);
    await colleague.waitFor('ticket.typing', (d) => d.ticketId === ticketId && d.userId === teller.userId);
    // Staff presence and typing reach staff only (API.md, second round).
    expect(
      cust.log.filter((r) => r.event === 'presence.ticket' || (r.event === 'ticket.typing' && r.data.userId !== owner.userId)),
    ).toEqual([]);
    cust.close();
    await staff.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.length === 1);
  });

  it("logging out disconnects the session's sockets on another process", async () => {
    const owner = bankSetup.customers[2];
    const u = await userWithSession(cluster.bank, 'customer', { customerId: owner.customerId! });
    const person: Person = { userId: u.user.id, sessionId: u.sessionId, token: u.token, role: 'customer', customerId: owner.customerId };
    const onB = await client(cluster.servers[1].url, person);
    const onC = await client(cluster.servers[2].url, person);
    const bystander = await client(cluster.servers[1].url, owner);
    // The other processes have the session in their caches now.
    for (const srv of cluster.servers.slice(1)) expect((await apiClient(srv.url, u.token).get('/auth/me')).status).toBe(200);
    const res = await apiClient(cluster.servers[0].url, u.token).post('/auth/logout');
    if (res.status === 404) {
      // The REST route is not there yet: revoke through the bank, as it does.
      console.warn('POST /auth/logout answered 404: revoking through bank/sessions instead');
      await revokeSessions(cluster.bank, { sessionId: u.sessionId }, 'logout');
    } else {
      expect(res.status).toBe(204);
    }
    for (const c of [onB, onC]) {
      await until(() => c.disconnects.includes('io server disconnect'), { timeout: 8_000, what: `disconnect on ${c.url}` });
      expect(c.log.find((r) => r.event === 'session.revoked')?.data).toMatchObject({ reason: 'logout', seq: expect.any(Number) });
    }
    expect(bystander.socket.connected).toBe(true);
    // ...and every process refuses the session's token at once (the cache was dropped over Redis).
    for (const srv of cluster.servers) expect((await apiClient(srv.url, u.token).get('/auth/me')).status).toBe(401);
  });

  it('measures push latency across processes (reported, not asserted)', async () => {
    const { teller, customers } = bankSetup;
    const p = customers[0];
    const c = await client(cluster.servers[1].url, p);
    const api = apiClient(cluster.servers[0].url, teller.token);
    const sinceRequest: number[] = [];
    const sinceResponse: number[] = [];
    for (let i = 0; i < 60; i++) {
      const sent = performance.timeOrigin + performance.now();
      const dep = await api.post('/deposits', { accountId: p.account!.id, amount: '1' });
      const answered = performance.timeOrigin + performance.now();
      const got = await c.waitFor('balance.updated', (d) => d.transactionId === dep.body.id);
      sinceRequest.push(got.receivedAt - sent);
      sinceResponse.push(got.receivedAt - answered);
    }
    const f = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
    console.log(
      `[hub latency, REST on process 1 → socket on process 2 via Redis, n=60] request sent→push p50 ${f(sinceRequest, 50)} ms, p99 ${f(sinceRequest, 99)} ms; REST answer→push p50 ${f(sinceResponse, 50)} ms, p99 ${f(sinceResponse, 99)} ms`,
    );
    expect(sinceRequest).toHaveLength(60);
  });

  it("a killed process's clients reconnect elsewhere and, after sync, miss nothing", async () => {
    const { teller, customers } = bankSetup;
    const [s0, s1, victim] = cluster.servers;
    const fleeing: { who: Person; c: HubClient }[] = [];
    for (const p of [...customers, teller]) fleeing.push({ who: p, c: await client([victim.url, s0.url, s1.url], p, { failover: true }) });
    const stay = await client(s0.url, customers[3]);
    const watermark = await maxSeq();

    let killed = false;
    const outcomes = await moveMoney({
      urls: () => (killed ? [s0.url, s1.url] : [s0.url, s1.url, victim.url]),
      teller,
      customers,
      count: 50,
      seed: 99,
      onEach: (i) => {
        // Killed while requests are on their way to it.
        if (i === 20) {
          setTimeout(() => victim.child.kill('SIGKILL'), 5);
          void victim.exited.then(() => (killed = true));
        }
      },
    });
    expect(outcomes['201'], JSON.stringify(outcomes)).toBeGreaterThan(30);
    for (const { who, c } of fleeing) {
      await until(() => c.connects >= 2 && c.socket.connected, { timeout: 10_000, what: 'failover' });
      expect(c.url).not.toBe(victim.url);
      const entitled = await entitledSeqs(cluster.bank.db, roomsOf(who), 0);
      // Events the dead process committed but never emitted come back through the relay or the sync.
      await until(
        async () => {
          await c.syncAll();
          return diff(entitled, c.seqs()).length === 0;
        },
        { timeout: 15_000, every: 500, what: `catch-up of ${who.role} ${who.userId}` },
      );
      expect(diff(c.seqs(), entitled), 'foreign').toEqual([]);
      if (who.role === 'customer') expect([...c.seqs()].filter((s) => s > watermark).length).toBeGreaterThan(0);
    }
    const stayEntitled = await entitledSeqs(cluster.bank.db, roomsOf(customers[3]), 0);
    await until(() => diff(stayEntitled, stay.seqs()).length === 0, { timeout: 10_000, what: 'the client on a surviving process' });
    expect(s0.alive() && s1.alive()).toBe(true);
  });
});
