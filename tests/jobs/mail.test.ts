import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, type BankContext } from '../../bank/core/context.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { login } from '../../bank/access/auth.js';
import { deposit, transfer } from '../../bank/ledger/transactions.js';
import { addTicketMessage, createTicket } from '../../bank/support/tickets.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference, TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';
import { bankWithClock, type Clock } from './clock.js';

const POLICY = { idleMinutes: 30, absoluteHours: 12, maxFailures: 5, lockMinutes: 15 };

function mailbox(dir: string): any[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}
const recipient = (m: any) => (Array.isArray(m.to) ? m.to.map((x: any) => x.address ?? x).join(',') : String(m.to?.address ?? m.to));

describe('mail through the file transport', () => {
  let t: TestDb;
  let bank: BankContext;
  let clock: Clock;
  let jobs: Jobs;
  let mailDir: string;
  let aliceId: number;

  beforeAll(async () => {
    t = await createTestDb('sqlite');
    ({ bank, clock, jobs, mailDir } = await bankWithClock(t.db, '2026-06-01T10:00:00.000Z'));
    await seedReference(t.db);
    aliceId = await createCustomer(t.db, 'Alice');
    const bobId = await createCustomer(t.db, 'Bob');
    const alice = await userWithSession(bank, 'customer', { customerId: aliceId });
    await userWithSession(bank, 'customer', { customerId: bobId });
    const teller = await userWithSession(bank, 'teller');
    const a = await openAccount(bank, SYSTEM, { customerId: aliceId, type: 'CUR', branch: 'MAIN' });
    const b = await openAccount(bank, SYSTEM, { customerId: bobId, type: 'CUR', branch: 'MAIN' });
    await deposit(bank, SYSTEM, { accountId: a.id, amount: '15000.00', memo: 'salary' }); // large: Alice
    await deposit(bank, SYSTEM, { accountId: b.id, amount: '50.00' }); // small: no mail
    await transfer(bank, alice.actor, { fromAccountId: a.id, toAccountNumber: b.number, amount: '12000.00' }); // large: Alice and Bob
    const ticket = await createTicket(bank, alice.actor, { category: 'card', subject: 'Card blocked', body: 'My card stopped working' });
    await addTicketMessage(bank, teller.actor, ticket.id, 'We have unblocked it.'); // ticket_reply: Alice
    const meta = (ip: string, userAgent: string) => ({ ip, userAgent });
    await login(bank, { username: alice.user.username, password: TEST_PASSWORD }, meta('10.0.0.1', 'Firefox/140'), POLICY); // first sighting
    await login(bank, { username: alice.user.username, password: TEST_PASSWORD }, meta('10.0.0.1', 'Firefox/140'), POLICY); // known
    await login(bank, { username: alice.user.username, password: TEST_PASSWORD }, meta('192.0.2.7', 'Mobile Safari/19'), POLICY); // new device
  });
  afterAll(() => t?.destroy());

  it("queues and sends one mail per cause, to the customer's address", async () => {
    const r = (await jobs.runNow('mail')) as any;
    expect(r.transport).toBe('file');
    expect(r.queued).toEqual({ notifications: 1, largeTransactions: 3, newDeviceLogins: 2 });
    expect(r.sent).toBe(6);
    const mails = mailbox(mailDir);
    expect(mails).toHaveLength(6);
    const byKind = (kind: string) => mails.filter((m) => m.kind === kind);

    const large = byKind('large_transaction');
    expect(large.map(recipient).sort()).toEqual(['alice@example.com', 'alice@example.com', 'bob@example.com']);
    const salary = large.find((m) => m.subject.includes('deposit'));
    expect(salary.subject).toBe('Large deposit: 15000.00 INR');
    expect(salary.text).toContain('A deposit of 15000.00 INR to account');
    expect(salary.text).toContain('"salary"');
    expect(salary.text).toMatch(/^Dear Alice,/);

    const [reply] = byKind('ticket_reply');
    expect(recipient(reply)).toBe('alice@example.com');
    expect(reply.subject).toMatch(/^New reply on ticket #\d+$/);
    expect(reply.text).toContain('We have unblocked it.');
    expect(reply.from).toMatchObject({ address: 'no-reply@bank.local' });

    const logins = byKind('new_device_login');
    expect(logins.map(recipient)).toEqual(['alice@example.com', 'alice@example.com']);
    expect(logins[1].subject).toBe('New sign-in to your account');
    expect(logins[1].text).toContain('192.0.2.7');
    expect(logins[1].text).toContain('Mobile Safari/19');

    const rows = await t.db('mail_outbox').orderBy('id');
    expect(rows.every((m) => m.status === 'sent' && m.attempts === 1 && m.sent_at)).toBe(true);
  });

  it('never mails the same cause twice, whether the cursor moved or not', async () => {
    let r = (await jobs.runNow('mail')) as any;
    expect(r.queued).toEqual({ notifications: 0, largeTransactions: 0, newDeviceLogins: 0 });
    clock.advance(10 * 60_000); // past the settle time: the cursors move on
    r = (await jobs.runNow('mail')) as any;
    expect(r.sent).toBe(0);
    expect(mailbox(mailDir)).toHaveLength(6);
    const cursors = await t.db('job_cursors').orderBy('name');
    expect(cursors.map((c) => c.name)).toEqual(['mail:events', 'mail:logins', 'mail:notifications']);
    expect(cursors.every((c) => Number(c.position) > 0)).toBe(true);
  });

  it('queues one statement mail per customer for a month, once', async () => {
    clock.set('2026-07-01T01:00:00.000Z');
    const r = (await jobs.runNow('interest-posting')) as any;
    expect(r.statementMails).toBe(2);
    expect((await jobs.runNow('interest-posting')) as any).toMatchObject({ statementMails: 0 });
    await jobs.runNow('mail');
    const statements = mailbox(mailDir).filter((m) => m.kind === 'statement_ready');
    expect(statements.map(recipient).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    const alice = statements.find((m) => recipient(m) === 'alice@example.com');
    expect(alice.subject).toBe('Your statement for June 2026 is ready');
    expect(alice.text).toContain('closing balance 3000.00 INR');
  });
});

/** A minimal SMTP server: accepts every message and keeps it. */
function smtpServer() {
  const received: Array<{ from: string; to: string[]; data: string }> = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let msg = { from: '', to: [] as string[], data: '' };
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            received.push(msg);
            msg = { from: '', to: [], data: '' };
            sock.write('250 OK queued\r\n');
          } else msg.data += `${line}\n`;
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'MAIL') msg.from = line;
        if (cmd === 'RCPT') msg.to.push(line);
        if (cmd === 'DATA') inData = true;
        sock.write(cmd === 'DATA' ? '354 go ahead\r\n' : cmd === 'QUIT' ? '221 bye\r\n' : '250 OK\r\n');
        if (cmd === 'QUIT') sock.end();
      }
    });
    sock.on('error', () => undefined);
  });
  return { server, received };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('mail over SMTP', () => {
  let t: TestDb;
  afterAll(() => t?.destroy());

  it('retries with backoff while the server is down, never touching the transfer, and sends once it is back', async () => {
    t = await createTestDb('sqlite');
    const deadPort = await freePort(); // nothing listens here
    const { bank, clock, jobs } = await bankWithClock(t.db, '2026-06-01T10:00:00.000Z', { SMTP_URL: `smtp://127.0.0.1:${deadPort}` });
    await seedReference(t.db);
    const aliceId = await createCustomer(t.db, 'Carol');
    const bobId = await createCustomer(t.db, 'Dave');
    const carol = await userWithSession(bank, 'customer', { customerId: aliceId });
    const a = await openAccount(bank, SYSTEM, { customerId: aliceId, type: 'CUR', branch: 'MAIN' });
    const b = await openAccount(bank, SYSTEM, { customerId: bobId, type: 'CUR', branch: 'MAIN' });
    await deposit(bank, SYSTEM, { accountId: a.id, amount: '20000.00' });
    const tr = await transfer(bank, carol.actor, { fromAccountId: a.id, toAccountNumber: b.number, amount: '11000.00' });
    const mailFor = () =>
      t
        .db('mail_outbox')
        .where({ dedupe_key: `tx:${tr.value.id}:customer:${bobId}` })
        .first();

    let r = (await jobs.runNow('mail')) as any;
    expect(r.transport).toBe('smtp');
    expect(r.sent).toBe(0);
    expect(r.retrying).toBe(3); // the deposit to Carol, the transfer to Carol and to Dave
    const first = await mailFor();
    expect(first).toMatchObject({ status: 'pending', attempts: 1, to_address: 'dave@example.com' });
    expect(first.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect(Date.parse(first.next_attempt_at) - clock.at.getTime()).toBe(60_000);

    // The money moved regardless.
    expect(await t.db('transactions').where({ id: tr.value.id }).first('status')).toEqual({ status: 'posted' });
    expect(Number((await t.db('accounts').where({ id: b.id }).first('balance')).balance)).toBe(1_100_000);

    // Not due yet: nothing is tried.
    clock.advance(30_000);
    r = (await jobs.runNow('mail')) as any;
    expect(r.retrying).toBe(0);
    expect((await mailFor()).attempts).toBe(1);

    clock.advance(31_000);
    await jobs.runNow('mail');
    const second = await mailFor();
    expect(second.attempts).toBe(2);
    expect(Date.parse(second.next_attempt_at)).toBeGreaterThan(Date.parse(first.next_attempt_at));
    expect(Date.parse(second.next_attempt_at) - clock.at.getTime()).toBe(120_000);
    await jobs.stop();

    // The server is back (another process with the same database and the same outbox).
    const smtp = smtpServer();
    await new Promise<void>((res) => smtp.server.listen(0, '127.0.0.1', res));
    const port = (smtp.server.address() as net.AddressInfo).port;
    try {
      const live = await bankWithClock(t.db, clock.at.toISOString(), { SMTP_URL: `smtp://127.0.0.1:${port}` });
      live.clock.advance(121_000);
      r = (await live.jobs.runNow('mail')) as any;
      expect(r.sent).toBe(3);
      const sent = await mailFor();
      expect(sent).toMatchObject({ status: 'sent', attempts: 3 });
      const toDave = smtp.received.find((m) => m.to.some((x) => x.includes('dave@example.com')))!;
      expect(toDave.data).toContain('Subject: Large transfer: 11000.00 INR');
      expect(toDave.from).toContain('no-reply@bank.local');
      await live.jobs.stop();
    } finally {
      smtp.server.close();
    }
  });
});
