import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor, BankContext, Role } from '../../bank/core/context.js';
import { SYSTEM } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { createTicket } from '../../bank/support/tickets.js';
import { createAnnouncement } from '../../bank/announcements/announcements.js';
import { addAddress } from '../../bank/customers/customers.js';
import { withTx } from '../../bank/core/db-tx.js';
import { notifyUsers } from '../../bank/notifications/send.js';
import { totpCode } from '../../bank/access/totp.js';
import { createCustomer, openTestAccount, seedReference, userWithSession, TEST_PASSWORD } from './fixtures.js';
import { apiClient, type TestServer } from './server.js';
import { setFrozen } from '../../bank/accounts/freeze.js';
import { createAlert } from '../../bank/accounts/alerts.js';
import { createStandingOrder } from '../../bank/ledger/standing-orders.js';

export const CALLERS = ['anon', 'owner', 'other', 'teller', 'manager', 'admin'] as const;
export type Caller = (typeof CALLERS)[number];
export type Expect = 'ok' | 401 | 403 | 404;

export interface Req {
  path: string;
  body?: unknown;
  /** Use this session instead of the caller's own (requests that end or change a session). */
  token?: string | null;
}

interface Person {
  actor: Actor;
  token: string;
  username: string;
}

/**
 * The small bank every authorization and bad-input test runs against: an owner customer
 * and another customer (each with a login and accounts), one staff user per role, a
 * ticket, an announcement, a notification. Factories make fresh objects for requests
 * that consume what they touch (closing, approving, deleting).
 */
export async function buildWorld(srv: TestServer) {
  const bank: BankContext = srv.running.bank;
  const db: Knex = bank.db;
  await seedReference(db);
  const ownerCustomer = await createCustomer(db, 'Owner');
  const otherCustomer = await createCustomer(db, 'Other');
  for (const id of [ownerCustomer, otherCustomer]) {
    await addAddress(bank, SYSTEM, id, { line1: '1 Main Road', city: 'Pune', postalCode: '411001', country: 'IN' });
  }
  const person = async (role: Role, customerId?: number): Promise<Person> => {
    const u = await userWithSession(bank, role, { customerId });
    return { actor: u.actor, token: u.token, username: u.user.username };
  };
  const people: Record<Exclude<Caller, 'anon'>, Person> = {
    owner: await person('customer', ownerCustomer),
    other: await person('customer', otherCustomer),
    teller: await person('teller'),
    manager: await person('manager'),
    admin: await person('admin'),
  };
  const ownerAccount = await openTestAccount(bank, ownerCustomer, 'CUR');
  const ownerBiz = await openTestAccount(bank, ownerCustomer, 'BIZ');
  const otherAccount = await openTestAccount(bank, otherCustomer, 'CUR');
  const ownerTx = (await ledger.deposit(bank, SYSTEM, { accountId: ownerAccount.id, amount: '1000000' })).value;
  await ledger.deposit(bank, SYSTEM, { accountId: ownerBiz.id, amount: '1000000' });
  await ledger.deposit(bank, SYSTEM, { accountId: otherAccount.id, amount: '1000' });
  const ownerTicket = await createTicket(bank, people.owner.actor, { category: 'general', subject: 'Hello', body: 'Question' });
  const announcement = await createAnnouncement(bank, people.manager.actor, { title: 'Hi', message: 'All', audience: 'all' });
  let seq = 0;
  const unique = (prefix: string) => `${prefix}${++seq}${crypto.randomBytes(2).toString('hex')}`;
  let day = 10;

  const w = {
    srv,
    bank,
    db,
    people,
    ownerCustomer,
    otherCustomer,
    ownerAccount,
    ownerBiz,
    otherAccount,
    ownerTx,
    ownerTicket,
    announcement,
    unique,
    client: (caller: Caller, token?: string | null) =>
      apiClient(srv.url, token === undefined ? (caller === 'anon' ? null : people[caller].token) : token),
    async freshSession(caller: Caller) {
      if (caller === 'anon') return null;
      const p = people[caller];
      return (await userWithSession(bank, p.actor.role as Role, { customerId: p.actor.customerId ?? undefined })).token;
    },
    async freshZeroAccount() {
      return openTestAccount(bank, ownerCustomer, 'CUR');
    },
    async freshFrozenAccount() {
      const a = await openTestAccount(bank, ownerCustomer, 'CUR');
      await setFrozen(bank, people.owner.actor, a.id, true);
      return a;
    },
    /** A payee of the owner's (written directly: the look-up rate limit is not what these tests count). */
    async freshPayee() {
      const a = await openTestAccount(bank, otherCustomer, 'CUR');
      const [row] = await db('payees').insert(
        {
          customer_id: ownerCustomer,
          account_id: a.id,
          nickname: 'Payee',
          created_by: people.owner.actor.userId,
          created_at: new Date().toISOString(),
        },
        ['id'],
      );
      return { id: Number(typeof row === 'object' ? row.id : row) };
    },
    async freshAlert() {
      const a = await openTestAccount(bank, ownerCustomer, 'CUR');
      return createAlert(bank, people.owner.actor, a.id, { kind: 'debit_over', threshold: '100.00' });
    },
    async freshOrder() {
      return createStandingOrder(bank, people.owner.actor, {
        fromAccountId: ownerAccount.id,
        toAccountNumber: otherAccount.number,
        amount: '1.00',
        frequency: 'monthly',
        startDate: w.futureDate(),
      });
    },
    async freshPosted() {
      return (await ledger.deposit(bank, SYSTEM, { accountId: ownerAccount.id, amount: '3.00' })).value;
    },
    async freshPending() {
      return (
        await ledger.transfer(bank, people.owner.actor, {
          fromAccountId: ownerBiz.id,
          toAccountNumber: otherAccount.number,
          amount: '10000.01',
        })
      ).value;
    },
    /** Held for approval, between the owner's own accounts: the owner's transfer, or this staff member's counter withdrawal. */
    async freshPendingBy(caller: Exclude<Caller, 'anon'>) {
      if (caller === 'owner' || caller === 'other') {
        return (
          await ledger.transfer(bank, people.owner.actor, {
            fromAccountId: ownerBiz.id,
            toAccountNumber: ownerAccount.number,
            amount: '10000.01',
          })
        ).value;
      }
      return (await ledger.withdraw(bank, people[caller].actor, { accountId: ownerBiz.id, amount: '10000.01' })).value;
    },
    async freshTicket() {
      return createTicket(bank, people.owner.actor, { category: 'account', subject: 'Fresh', body: 'Please help' });
    },
    async freshAnnouncement() {
      return createAnnouncement(bank, people.manager.actor, { title: 'Fresh', message: 'Note', audience: 'all' });
    },
    async freshAddress() {
      return addAddress(bank, SYSTEM, ownerCustomer, { line1: unique('Lane '), city: 'Pune', postalCode: '411002', country: 'IN' });
    },
    async freshUser() {
      return userWithSession(bank, 'teller');
    },
    async ownerNotification() {
      return withTx(bank, async (t) => {
        await notifyUsers(t, [people.owner.actor.userId!], { kind: 'test', title: 'Test', body: 'Hello' });
        return (await t.q('notifications').where({ user_id: people.owner.actor.userId }).orderBy('id', 'desc').first()).id as number;
      });
    },
    /** A fresh user of the caller's role with TOTP set up (not yet enabled), and a valid code. */
    async totpReady(caller: Caller) {
      const token = await w.freshSession(caller);
      if (!token) return { token, otp: '000000' };
      const setup = await apiClient(srv.url, token).post('/auth/totp/setup');
      return { token, otp: setup.status === 200 ? await totpCode(setup.body.secret) : '000000' };
    },
    /** A fresh user of the caller's role with TOTP on (enabled with the previous step's code) and the current code. */
    async totpOn(caller: Caller) {
      const ready = await w.totpReady(caller);
      if (!ready.token) return ready;
      const api = apiClient(srv.url, ready.token);
      const { secret } = (await api.post('/auth/totp/setup')).body;
      await api.post('/auth/totp/enable', { otp: await totpCode(secret, new Date(Date.now() - 30_000)) });
      return { token: ready.token, otp: await totpCode(secret) };
    },
    /** A fresh session of the caller's role, with its id. */
    async freshSessionWithId(caller: Caller) {
      if (caller === 'anon') return { token: null, id: 1 };
      const p = people[caller];
      const u = await userWithSession(bank, p.actor.role as Role, { customerId: p.actor.customerId ?? undefined });
      return { token: u.token, id: u.sessionId };
    },
    futureDate() {
      day += 1;
      return new Date(Date.now() + day * 86_400_000).toISOString().slice(0, 10);
    },
  };
  return w;
}
export type World = Awaited<ReturnType<typeof buildWorld>>;

export const PASSWORD = TEST_PASSWORD;
