import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankContext, type BankContext } from '../../bank/core/context.js';
import { writeEvents } from '../../bank/outbox/events.js';
import { revokeSessions } from '../../bank/access/sessions.js';
import { withTx } from '../../bank/core/db-tx.js';
import { loadConfig } from '../../config.js';
import { attachHub } from '../../hub/index.js';
import { createLogger } from '../../log.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createTestDb, DIALECTS } from '../helpers/db.js';
import { bankOn, createCustomer, seedReference, userWithSession } from '../helpers/fixtures.js';
import { connectClient, diff, entitledSeqs, HubClient, percentile, refusal, roomsOf, until } from '../helpers/hub.js';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';

interface Party {
  userId: number;
  sessionId: number;
  token: string;
  customerId: number;
  role: 'customer';
  api: ApiClient;
  account: { id: number; number: string };
}

async function customerParty(srv: TestServer, teller: ApiClient, name: string): Promise<Party> {
  const bank = srv.running.bank;
  const customerId = await createCustomer(bank.db, `${name}${Math.random().toString(36).slice(2, 7)}`);
  const u = await userWithSession(bank, 'customer', { customerId });
  const account = (await teller.post('/accounts', { customerId, type: 'CUR', branch: 'MAIN' })).body;
  expect(account.id).toBeTypeOf('number');
  return {
    userId: u.user.id,
    sessionId: u.sessionId,
    token: u.token,
    customerId,
    role: 'customer',
    api: apiClient(srv.url, u.token),
    account,
  };
}

const clients: HubClient[] = [];
async function client(url: string, opts: Parameters<typeof connectClient>[1]) {
  const c = await connectClient(url, opts);
  clients.push(c);
  return c;
}

async function insertTicket(bank: BankContext, customerId: number): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await bank.db('tickets').insert(
    {
      customer_id: customerId,
      category: 'general',
      subject: 'Help',
      status: 'open',
      priority: 'normal',
      created_at: now,
      updated_at: now,
    },
    ['id'],
  );
  return typeof row === 'object' ? row.id : row;
}

describe.each(DIALECTS)('the hub on %s', (dialect) => {
  let srv: TestServer;
  let teller: ApiClient;
  let alice: Party;
  let bob: Party;

  beforeAll(async () => {
    srv = await startTestServer({ dialect });
    await seedReference(srv.running.bank.db);
    teller = apiClient(srv.url, (await userWithSession(srv.running.bank, 'teller')).token);
    alice = await customerParty(srv, teller, 'Alice');
    bob = await customerParty(srv, teller, 'Bob');
    expect((await teller.post('/deposits', { accountId: alice.account.id, amount: '1000' })).status).toBe(201);
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await srv?.close();
  });

  it('refuses a handshake without a valid session with `unauthenticated`', async () => {
    expect(await refusal(srv.url)).toBe('unauthenticated');
    expect(await refusal(srv.url, { token: 'not-a-token' })).toBe('unauthenticated');
    expect(await refusal(srv.url, { token: 'x'.repeat(500) })).toBe('unauthenticated');
    expect(await refusal(srv.url, { headers: { Cookie: 'bank_session=forged' } })).toBe('unauthenticated');
    // The session cookie works like the token does.
    expect(await refusal(srv.url, { headers: { Cookie: `theme=dark; bank_session=${alice.token}` } })).toBe('connected');
    // ...but not from another site's page.
    expect(await refusal(srv.url, { headers: { Cookie: `bank_session=${alice.token}`, Origin: 'http://evil.example' } })).not.toBe(
      'connected',
    );
  });

  it('pushes a transfer to both parties with their new balances', async () => {
    const a = await client(srv.url, { token: alice.token });
    const b = await client(srv.url, { token: bob.token });
    const before = Number((await alice.api.get(`/accounts/${alice.account.id}`)).body.balance);
    const tr = await alice.api.post('/transfers', {
      fromAccountId: alice.account.id,
      toAccountNumber: bob.account.number,
      amount: '125.50',
    });
    expect(tr.status).toBe(201);
    const txId = tr.body.id;

    const aBal = await a.waitFor('balance.updated', (d) => d.transactionId === txId);
    expect(aBal.data).toMatchObject({
      accountId: alice.account.id,
      accountNumber: alice.account.number,
      balance: (before - 125.5).toFixed(2),
      transactionId: txId,
    });
    expect(aBal.data.availableBalance).toBe(aBal.data.balance);
    const bBal = await b.waitFor('balance.updated', (d) => d.transactionId === txId);
    expect(bBal.data).toMatchObject({ accountId: bob.account.id, balance: '125.50', availableBalance: '125.50' });
    for (const c of [a, b]) {
      const posted = await c.waitFor('transaction.posted', (d) => d.transaction?.id === txId);
      expect(posted.data.transaction).toMatchObject({
        id: txId,
        kind: 'transfer',
        amount: '125.50',
        fromAccountNumber: alice.account.number,
        toAccountNumber: bob.account.number,
      });
      expect(posted.data.seq).toBeTypeOf('number');
      expect(new Date(posted.data.at).toISOString()).toBe(posted.data.at);
    }
    // Each saw only its own balance.
    expect(a.events('balance.updated').every((r) => r.data.accountId === alice.account.id)).toBe(true);
    expect(b.events('balance.updated').every((r) => r.data.accountId === bob.account.id)).toBe(true);
  });

  it("never lets a customer receive another customer's events, live or by sync", async () => {
    const parties = [alice, bob, await customerParty(srv, teller, 'Carol'), await customerParty(srv, teller, 'Dan')];
    const live = await Promise.all(parties.map((p) => client(srv.url, { token: p.token })));
    const top = await srv.running.bank.db('events').max({ m: 'seq' }).first();
    const start = Number(top?.m ?? 0);
    for (const p of parties) await teller.post('/deposits', { accountId: p.account.id, amount: '500' });
    let rnd = 42;
    const next = (n: number) => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31), rnd % n);
    for (let i = 0; i < 30; i++) {
      const from = parties[next(4)];
      const to = parties[next(4)];
      if (next(3) === 0) await teller.post('/deposits', { accountId: to.account.id, amount: `${1 + next(50)}` });
      else
        await from.api.post('/transfers', {
          fromAccountId: from.account.id,
          toAccountNumber: to.account.number,
          amount: `${1 + next(20)}.${next(10)}0`,
        });
    }
    const numbers = new Map(parties.map((p) => [p.customerId, p.account.number]));
    for (const [i, p] of parties.entries()) {
      const c = live[i];
      const entitled = await entitledSeqs(srv.running.bank.db, roomsOf(p), 0);
      // Live first; then a replay from the start fills in what came before this socket.
      await until(() => [...entitled].filter((s) => s > start).every((s) => c.bySeq.has(s)), { what: `live events for customer ${i}` });
      await c.syncAll(0);
      const fresh = await client(srv.url, { token: p.token });
      await fresh.syncAll();
      for (const held of [c, fresh]) {
        expect(diff(held.seqs(), entitled), 'foreign events').toEqual([]);
        expect(diff(entitled, held.seqs()), 'missing events').toEqual([]);
        for (const r of held.events()) {
          if (r.event === 'balance.updated') expect(r.data.accountId).toBe(p.account.id);
          if (r.event.startsWith('transaction.')) {
            expect([r.data.transaction.fromAccountNumber, r.data.transaction.toAccountNumber]).toContain(numbers.get(p.customerId));
          }
        }
      }
      expect(c.liveDuplicates).toEqual([]);
    }
  });
});

describe('hub commands, presence and sessions (PostgreSQL)', () => {
  let srv: TestServer;
  let bank: BankContext;
  let teller: ApiClient;
  let tellerUser: Awaited<ReturnType<typeof userWithSession>>;
  let alice: Party;
  let bob: Party;

  beforeAll(async () => {
    srv = await startTestServer({ dialect: 'pg' });
    bank = srv.running.bank;
    await seedReference(bank.db);
    tellerUser = await userWithSession(bank, 'teller');
    teller = apiClient(srv.url, tellerUser.token);
    alice = await customerParty(srv, teller, 'Alice');
    bob = await customerParty(srv, teller, 'Bob');
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await srv?.close();
  });

  it('shows who is looking at a ticket and relays typing: the owner typing to staff, staff presence and typing to staff only', async () => {
    const ticketId = await insertTicket(bank, alice.customerId);
    const staff = await client(srv.url, { token: tellerUser.token });
    const colleague = await client(srv.url, { token: (await userWithSession(bank, 'manager')).token });
    const a = await client(srv.url, { token: alice.token });
    const b = await client(srv.url, { token: bob.token });

    expect(await a.emit('ticket.watch', { ticketId })).toEqual({ ok: true, ticketId });
    const p1 = await staff.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.length === 1);
    expect(p1.data.viewers).toEqual([{ userId: alice.userId, displayName: expect.any(String) }]);
    expect(p1.seq).toBeUndefined();
    expect(p1.data.at).toMatch(/Z$/);

    expect((await staff.emit('ticket.watch', { ticketId })).ok).toBe(true);
    const both = await colleague.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.length === 2);
    expect(both.data.viewers.map((v: any) => v.userId).sort()).toEqual([alice.userId, tellerUser.user.id].sort());

    // Another customer can neither watch nor type on it, nor hear about it.
    expect(await b.emit('ticket.watch', { ticketId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await b.emit('ticket.typing', { ticketId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await b.emit('ticket.watch', { ticketId: 999_999 })).toMatchObject({ ok: false, error: { code: 'not_found' } });

    expect((await a.emit('ticket.typing', { ticketId })).ok).toBe(true);
    const typing = await staff.waitFor('ticket.typing', (d) => d.ticketId === ticketId);
    expect(typing.data).toMatchObject({ ticketId, userId: alice.userId, displayName: expect.any(String), at: expect.any(String) });
    expect((await staff.emit('ticket.typing', { ticketId })).ok).toBe(true);
    await colleague.waitFor('ticket.typing', (d) => d.userId === tellerUser.user.id);
    await new Promise((r) => setTimeout(r, 100));
    // The owner hears of no staff: neither who is looking (presence) nor who is typing.
    expect(a.log.filter((r) => r.event === 'presence.ticket')).toEqual([]);
    expect(a.ephemeral('ticket.typing')).toEqual([]);
    expect(b.log.filter((r) => r.event === 'ticket.typing' || r.event === 'presence.ticket')).toEqual([]);

    a.close();
    await staff.waitFor(
      'presence.ticket',
      (d) => d.ticketId === ticketId && d.viewers.length === 1 && d.viewers[0].userId === tellerUser.user.id,
    );
    expect((await staff.emit('ticket.unwatch', { ticketId })).ok).toBe(true);
    await staff.waitFor('presence.ticket', (d) => d.ticketId === ticketId && d.viewers.length === 0);
  });

  it("lets staff watch an account's live activity, and nobody else", async () => {
    const staff = await client(srv.url, { token: tellerUser.token });
    const b = await client(srv.url, { token: bob.token });
    expect(await b.emit('account.watch', { accountId: alice.account.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await staff.emit('account.watch', { accountId: 987_654 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await staff.emit('account.watch', { accountId: alice.account.id })).toEqual({ ok: true, accountId: alice.account.id });
    const dep = await teller.post('/deposits', { accountId: alice.account.id, amount: '42' });
    await staff.waitFor('balance.updated', (d) => d.transactionId === dep.body.id);
    // The watched room is part of what sync replays to this socket.
    const ack = await staff.syncPage(0);
    expect(ack.events!.some((e) => e.event === 'balance.updated' && e.data.transactionId === dep.body.id)).toBe(true);
    expect(b.log.some((r) => r.data?.transactionId === dep.body.id)).toBe(false);
    expect((await staff.emit('account.unwatch', { accountId: alice.account.id })).ok).toBe(true);
    const a = await client(srv.url, { token: alice.token });
    const dep2 = await teller.post('/deposits', { accountId: alice.account.id, amount: '43' });
    await a.waitFor('balance.updated', (d) => d.transactionId === dep2.body.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(staff.log.some((r) => r.data?.transactionId === dep2.body.id)).toBe(false);
  });

  it('validates commands, refuses floods and unknown commands', async () => {
    const a = await client(srv.url, { token: alice.token });
    for (const bad of [{ since: -1 }, { since: 'x' }, {}, { since: 1, extra: true }, 'since', null]) {
      expect(await a.emit('sync', bad)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
    expect(await a.emit('ticket.watch', { ticketId: 'a' })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await a.emit('no.such.thing', {})).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const acks = await Promise.all(Array.from({ length: 80 }, () => a.emit('sync', { since: 1e12 })));
    // A session runs two syncs at once at most (tests/hub/abuse.test.ts has the bounds).
    expect(acks.filter((x) => x.ok).length).toBeGreaterThan(0);
    expect(acks.filter((x) => !x.ok && x.error.code === 'rate_limited').length).toBeGreaterThan(60);
    // A message over the size limit closes the connection instead of being read.
    const big = await client(srv.url, { token: alice.token });
    big.socket.emit('sync', { since: 0, pad: 'x'.repeat(200_000) });
    await until(() => big.disconnects.length > 0, { what: 'oversized message refused' });
  });

  it('replays from the database in pages of 1,000, oldest first', async () => {
    const carol = await customerParty(srv, teller, 'Carol');
    const c = await client(srv.url, { token: carol.token });
    const first = (await c.syncPage(0)).events!.length;
    await withTx(bank, async (t) => {
      // Not an event of the contract (recordEvent takes only those): queued raw.
      for (let i = 0; i < 1_150; i++) t.events.push({ type: 'test.bulk', rooms: [`customer:${carol.customerId}`], data: { i } });
    });
    const p1 = await c.syncPage(0);
    expect(p1.events).toHaveLength(1_000);
    const seqs1 = p1.events!.map((e) => e.seq);
    expect(seqs1).toEqual([...seqs1].sort((x, y) => x - y));
    expect(p1.upTo).toBe(seqs1[seqs1.length - 1]);
    expect(p1.events![first].data).toMatchObject({ i: 0, seq: p1.events![first].seq, at: expect.any(String) });
    const p2 = await c.syncPage(p1.upTo!);
    const fresh = p2.events!.filter((e) => e.seq > p1.upTo!);
    expect(fresh.length).toBe(1_150 + first - 1_000);
    expect(fresh[fresh.length - 1].data.i).toBe(1_149);
    expect(p2.upTo).toBeGreaterThanOrEqual(fresh[fresh.length - 1].seq);
  });

  it('replays an event committed after a higher seq was seen (PostgreSQL commit order)', async () => {
    const c = await client(srv.url, { token: alice.token });
    const room = `customer:${alice.customerId}`;
    let releaseA!: () => void;
    const holdA = new Promise<void>((r) => (releaseA = r));
    let seqA = 0;
    let seqAReady!: () => void;
    const aHasSeq = new Promise<void>((r) => (seqAReady = r));
    const txA = withTx(bank, async (t) => {
      [seqA] = await writeEvents(t, [{ type: 'test.late', rooms: [room], data: { which: 'A' } }]);
      seqAReady();
      await holdA;
    });
    await aHasSeq;
    const [seqB] = await withTx(bank, (t) => writeEvents(t, [{ type: 'test.late', rooms: [room], data: { which: 'B' } }]));
    expect(seqB).toBeGreaterThan(seqA);
    const before = await c.syncPage(seqA - 1);
    expect(before.events!.map((e) => e.seq)).toContain(seqB);
    expect(before.events!.map((e) => e.seq)).not.toContain(seqA);
    const since = before.upTo!;
    expect(since).toBeGreaterThanOrEqual(seqB);
    releaseA();
    await txA;
    const after = await c.syncPage(since);
    expect(after.events!.map((e) => e.seq)).toContain(seqA);
  });

  it("sends session.revoked to the session's sockets, then disconnects them", async () => {
    const u = await userWithSession(bank, 'customer', { customerId: alice.customerId });
    const c1 = await client(srv.url, { token: u.token });
    const c2 = await client(srv.url, { token: u.token });
    const other = await client(srv.url, { token: alice.token });
    await revokeSessions(bank, { sessionId: u.sessionId }, 'logout');
    for (const c of [c1, c2]) {
      await until(() => c.disconnects.includes('io server disconnect'), { what: 'server disconnect' });
      const revoked = c.log.find((r) => r.event === 'session.revoked');
      expect(revoked?.data).toMatchObject({ reason: 'logout', seq: expect.any(Number), at: expect.any(String) });
    }
    expect(other.socket.connected).toBe(true);
    expect(other.log.some((r) => r.event === 'session.revoked')).toBe(false);
    expect(await refusal(srv.url, { token: u.token })).toBe('unauthenticated');
  });

  it('counts connections, published and replayed events in /metrics', async () => {
    const c = await client(srv.url, { token: alice.token });
    await c.syncPage(0);
    const text = (await teller.get('/metrics')).text;
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    expect(value(/^bank_socket_connections (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^bank_events_published_total\{path="live",type="[\w.]+"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^bank_events_replayed_total (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^bank_event_publish_lag_seconds_count (\d+)/m)).toBeGreaterThan(0);
  });

  it('measures push latency from commit to the client (reported, not asserted)', async () => {
    const a = await client(srv.url, { token: alice.token });
    // The server runs in this process: its commit signal gives the exact commit time.
    const committedAt = new Map<number, number>();
    const onCommit = (seqs: number[]) => {
      const now = performance.timeOrigin + performance.now();
      for (const s of seqs) committedAt.set(s, now);
    };
    bank.signals.on('committed', onCommit);
    const lags: number[] = [];
    const sinceRecorded: number[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        const dep = await teller.post('/deposits', { accountId: alice.account.id, amount: '1' });
        const got = await a.waitFor('balance.updated', (d) => d.transactionId === dep.body.id);
        lags.push(got.receivedAt - committedAt.get(got.seq!)!);
        sinceRecorded.push(got.receivedAt - Date.parse(got.data.at));
      }
    } finally {
      bank.signals.off('committed', onCommit);
    }
    console.log(
      `[hub latency, one process, PostgreSQL, n=${lags.length}] commit→client p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms; transaction start (at)→client p50 ${percentile(sinceRecorded, 50).toFixed(1)} ms, p99 ${percentile(sinceRecorded, 99).toFixed(1)} ms`,
    );
    expect(lags.every((l) => Number.isFinite(l))).toBe(true);
  });
});

describe('the hub attached with short timers', () => {
  it('disconnects a socket whose session ended without any event (expiry), and relays events committed elsewhere', async () => {
    const testDb = await createTestDb('sqlite');
    const server = createServer();
    let hub: Awaited<ReturnType<typeof attachHub>> | null = null;
    try {
      const bank = await bankOn(testDb.db);
      const config = loadConfig({ DATABASE_URL: testDb.url, LOG_LEVEL: 'silent', DEMO_DATA: '0' });
      const metrics = createMetrics(bank);
      const services = { sessionPolicy: { idleMinutes: 30, absoluteHours: 12 }, readiness: [] };
      hub = await attachHub(
        server,
        { bank, config, logger: createLogger('silent'), metrics, services },
        { sweepEveryMs: 150, relay: { graceMs: 100, everyMs: 100 } },
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const customerId = await createCustomer(bank.db, 'Eve');
      const u = await userWithSession(bank, 'customer', { customerId });
      const c = await connectClient(url, { token: u.token });
      clients.push(c);

      // A commit made by another process (here: another bank context on the same file, no hub).
      const elsewhere = createBankContext(testDb.db, { currency: 'INR' });
      const [seq] = await withTx(elsewhere, (t) =>
        writeEvents(t, [
          { type: 'notification', rooms: [`user:${u.user.id}`], data: { id: 1, kind: 'test', title: 'hi', body: 'from elsewhere' } },
        ]),
      );
      await c.waitFor('notification', (d) => d.seq === seq);
      expect(await metrics.registry.getSingleMetricAsString('bank_events_published_total')).toMatch(
        /path="relay",type="notification"} [1-9]/,
      );
      expect((await bank.db('events').where({ seq }).first()).published_at).toBeTruthy();

      await bank
        .db('sessions')
        .where({ id: u.sessionId })
        .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
      await until(() => c.disconnects.includes('io server disconnect'), { timeout: 5_000, what: 'the sweep' });
      expect(await refusal(url, { token: u.token })).toBe('unauthenticated');
    } finally {
      await hub?.close();
      await new Promise((r) => server.close(r));
      await testDb.destroy();
    }
  });
});
