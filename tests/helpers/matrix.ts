import { SYSTEM } from '../../bank/core/context.js';
import { createCannedReply } from '../../bank/support/desk.js';
import { createWebhook } from '../../bank/outbox/webhooks.js';
import { PASSWORD, type Caller, type Expect, type Req, type World } from './world.js';

export type Row = { expect: Record<Caller, Expect>; req: (w: World, caller: Caller) => Promise<Req> | Req };

const all = (v: Expect): Record<Caller, Expect> => ({ anon: 401, owner: v, other: v, teller: v, manager: v, admin: v });
const SIGNED_IN = all('ok');
const STAFF: Record<Caller, Expect> = { anon: 401, owner: 403, other: 403, teller: 'ok', manager: 'ok', admin: 'ok' };
const MANAGER: Record<Caller, Expect> = { ...STAFF, teller: 403 };
const ADMIN: Record<Caller, Expect> = { ...MANAGER, manager: 403 };
const OWNED: Record<Caller, Expect> = { anon: 401, owner: 'ok', other: 404, teller: 'ok', manager: 'ok', admin: 'ok' };
const OWN_ONLY: Record<Caller, Expect> = { anon: 401, owner: 'ok', other: 404, teller: 404, manager: 404, admin: 404 };
const CUSTOMERS_ONLY: Record<Caller, Expect> = { anon: 401, owner: 'ok', other: 'ok', teller: 403, manager: 403, admin: 403 };
/** Only the owning customer acts; another customer does not find it, staff may not. */
const OWNER_ACTS: Record<Caller, Expect> = { anon: 401, owner: 'ok', other: 404, teller: 403, manager: 403, admin: 403 };

/**
 * Every route × every kind of caller. A route missing here fails the test, so a new
 * endpoint cannot ship without its row. 'ok' means a 2xx.
 */
export const MATRIX: Record<string, Row> = {
  'POST /auth/login': {
    expect: { anon: 'ok', owner: 'ok', other: 'ok', teller: 'ok', manager: 'ok', admin: 'ok' },
    req: (w) => ({ path: '/auth/login', body: { username: w.people.owner.username, password: PASSWORD } }),
  },
  'POST /auth/logout': { expect: SIGNED_IN, req: async (w, c) => ({ path: '/auth/logout', token: await w.freshSession(c) }) },
  'GET /auth/me': { expect: SIGNED_IN, req: () => ({ path: '/auth/me' }) },
  'POST /auth/password': {
    expect: SIGNED_IN,
    req: async (w, c) => ({
      path: '/auth/password',
      body: { currentPassword: PASSWORD, newPassword: 'another-secret-99' },
      token: await w.freshSession(c),
    }),
  },
  'POST /auth/totp/setup': { expect: SIGNED_IN, req: async (w, c) => ({ path: '/auth/totp/setup', token: await w.freshSession(c) }) },
  'POST /auth/totp/enable': {
    expect: SIGNED_IN,
    req: async (w, c) => {
      const r = await w.totpReady(c);
      return { path: '/auth/totp/enable', body: { otp: r.otp }, token: r.token };
    },
  },
  'POST /auth/totp/recovery-codes': {
    expect: SIGNED_IN,
    req: async (w, c) => {
      const r = await w.totpOn(c);
      return { path: '/auth/totp/recovery-codes', body: { otp: r.otp }, token: r.token };
    },
  },
  'POST /auth/totp/disable': {
    expect: SIGNED_IN,
    req: async (w, c) => {
      const r = await w.totpOn(c);
      return { path: '/auth/totp/disable', body: { password: PASSWORD, otp: r.otp }, token: r.token };
    },
  },
  'GET /auth/sessions': { expect: SIGNED_IN, req: () => ({ path: '/auth/sessions' }) },
  'DELETE /auth/sessions/:id': {
    expect: SIGNED_IN,
    req: async (w, c) => {
      const s = await w.freshSessionWithId(c);
      return { path: `/auth/sessions/${s.id}`, token: s.token };
    },
  },
  'GET /users': { expect: ADMIN, req: () => ({ path: '/users' }) },
  'POST /users': {
    expect: ADMIN,
    req: (w) => ({
      path: '/users',
      body: { username: w.unique('user'), password: 'long-enough-pass-1', role: 'teller', displayName: 'New Teller' },
    }),
  },
  'GET /users/:id': { expect: ADMIN, req: (w) => ({ path: `/users/${w.people.teller.actor.userId}` }) },
  'PATCH /users/:id': {
    expect: ADMIN,
    req: async (w) => ({ path: `/users/${(await w.freshUser()).user.id}`, body: { displayName: 'Renamed' } }),
  },
  'GET /login-events': { expect: MANAGER, req: () => ({ path: '/login-events' }) },
  'POST /customers': {
    expect: STAFF,
    req: () => ({
      path: '/customers',
      body: {
        firstName: 'New',
        lastName: 'Person',
        email: 'new@example.com',
        phone: '+91 99999 11111',
        dateOfBirth: '1990-02-03',
        address: { line1: '2 Road', city: 'Pune', postalCode: '411001', country: 'IN' },
      },
    }),
  },
  'GET /customers': { expect: STAFF, req: () => ({ path: '/customers?q=Owner' }) },
  'GET /customers/:id': { expect: OWNED, req: (w) => ({ path: `/customers/${w.ownerCustomer}` }) },
  'PATCH /customers/:id': { expect: OWNED, req: (w) => ({ path: `/customers/${w.ownerCustomer}`, body: { phone: '+91 98888 77777' } }) },
  'GET /customers/:id/addresses': { expect: OWNED, req: (w) => ({ path: `/customers/${w.ownerCustomer}/addresses` }) },
  'POST /customers/:id/addresses': {
    expect: OWNED,
    req: (w) => ({
      path: `/customers/${w.ownerCustomer}/addresses`,
      body: { line1: '9 New Street', city: 'Pune', postalCode: '411003', country: 'IN' },
    }),
  },
  'PATCH /customers/:id/addresses/:addressId': {
    expect: OWNED,
    req: async (w) => ({ path: `/customers/${w.ownerCustomer}/addresses/${(await w.freshAddress()).id}`, body: { city: 'Nashik' } }),
  },
  'DELETE /customers/:id/addresses/:addressId': {
    expect: OWNED,
    req: async (w) => ({ path: `/customers/${w.ownerCustomer}/addresses/${(await w.freshAddress()).id}` }),
  },
  'GET /branches': { expect: SIGNED_IN, req: () => ({ path: '/branches' }) },
  'GET /branches/:id': { expect: SIGNED_IN, req: async (w) => ({ path: `/branches/${(await w.db('branches').first('id')).id}` }) },
  'POST /branches': {
    expect: MANAGER,
    req: (w) => ({ path: '/branches', body: { code: w.unique('B').toUpperCase().slice(0, 16), name: 'New branch', city: 'Pune' } }),
  },
  'PATCH /branches/:id': {
    expect: MANAGER,
    req: async (w) => ({ path: `/branches/${(await w.db('branches').first('id')).id}`, body: { name: 'Main branch (renamed)' } }),
  },
  'GET /account-types': { expect: SIGNED_IN, req: () => ({ path: '/account-types' }) },
  'GET /account-types/:code': { expect: SIGNED_IN, req: () => ({ path: '/account-types/SAV' }) },
  'POST /account-types': {
    expect: MANAGER,
    req: (w) => ({
      path: '/account-types',
      body: { code: w.unique('T').toUpperCase().slice(0, 16), name: 'Type', minBalance: '0', overdraftLimit: '0', approvalThreshold: null },
    }),
  },
  'PATCH /account-types/:code': { expect: MANAGER, req: () => ({ path: '/account-types/SAV', body: { name: 'Savings plus' } }) },
  'GET /interest-rates': { expect: SIGNED_IN, req: () => ({ path: '/interest-rates?accountType=SAV' }) },
  'POST /interest-rates': {
    expect: MANAGER,
    req: (w) => ({ path: '/interest-rates', body: { accountType: 'SAV', annualRate: '3.75', effectiveFrom: w.futureDate() } }),
  },
  'POST /accounts': {
    expect: STAFF,
    req: (w) => ({ path: '/accounts', body: { customerId: w.ownerCustomer, type: 'CUR', branch: 'MAIN' } }),
  },
  'GET /accounts': { expect: SIGNED_IN, req: () => ({ path: '/accounts' }) },
  'GET /accounts/:id': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}` }) },
  'PATCH /accounts/:id': {
    expect: STAFF,
    req: (w) => ({ path: `/accounts/${w.ownerAccount.id}`, body: { status: 'active', note: 'checked' } }),
  },
  'GET /accounts/:id/edits': { expect: STAFF, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/edits` }) },
  'POST /accounts/:id/close': {
    expect: MANAGER,
    req: async (w) => ({ path: `/accounts/${(await w.freshZeroAccount()).id}/close`, body: { reason: 'customer asked' } }),
  },
  'GET /closed-accounts': { expect: MANAGER, req: () => ({ path: '/closed-accounts' }) },
  'GET /accounts/:id/entries': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/entries` }) },
  'GET /accounts/:id/pending': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/pending` }) },
  'GET /accounts/:id/statement': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/statement?format=csv` }) },
  'GET /accounts/:id/balances': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/balances` }) },
  'POST /deposits': { expect: STAFF, req: (w) => ({ path: '/deposits', body: { accountId: w.ownerAccount.id, amount: '5.00' } }) },
  'POST /withdrawals': { expect: STAFF, req: (w) => ({ path: '/withdrawals', body: { accountId: w.ownerAccount.id, amount: '1.00' } }) },
  'POST /transfers': {
    expect: OWNED,
    req: (w) => ({
      path: '/transfers',
      body: { fromAccountId: w.ownerAccount.id, toAccountNumber: w.otherAccount.number, amount: '0.50' },
    }),
  },
  'GET /transactions/:id': { expect: OWNED, req: (w) => ({ path: `/transactions/${w.ownerTx.id}` }) },
  'POST /transactions/:id/cancel': {
    expect: OWNED,
    req: async (w, c) => ({ path: `/transactions/${(await w.freshPendingBy(c === 'anon' ? 'owner' : c)).id}/cancel`, body: {} }),
  },
  'GET /transactions': { expect: STAFF, req: (w) => ({ path: `/transactions?accountId=${w.ownerAccount.id}` }) },
  'GET /approvals': { expect: MANAGER, req: () => ({ path: '/approvals?status=pending' }) },
  'POST /approvals/:transactionId/approve': {
    expect: MANAGER,
    req: async (w) => ({ path: `/approvals/${(await w.freshPending()).id}/approve`, body: {} }),
  },
  'POST /approvals/:transactionId/reject': {
    expect: MANAGER,
    req: async (w) => ({ path: `/approvals/${(await w.freshPending()).id}/reject`, body: { note: 'no' } }),
  },
  'POST /batch/transfers': {
    expect: MANAGER,
    req: (w) => ({
      path: '/batch/transfers',
      body: {
        atomic: false,
        items: [
          {
            idempotencyKey: w.unique('k'),
            fromAccountNumber: w.ownerAccount.number,
            toAccountNumber: w.otherAccount.number,
            amount: '0.01',
          },
        ],
      },
    }),
  },
  'GET /accounts/lookup': { expect: SIGNED_IN, req: (w) => ({ path: `/accounts/lookup?number=${w.otherAccount.number}` }) },
  'GET /payees': { expect: SIGNED_IN, req: () => ({ path: '/payees' }) },
  'POST /payees': {
    expect: CUSTOMERS_ONLY,
    req: async (w) => ({ path: '/payees', body: { accountNumber: (await w.freshZeroAccount()).number, nickname: 'Flat mate' } }),
  },
  'DELETE /payees/:id': { expect: OWNER_ACTS, req: async (w) => ({ path: `/payees/${(await w.freshPayee()).id}` }) },
  'POST /accounts/:id/freeze': {
    expect: OWNED,
    req: async (w) => ({ path: `/accounts/${(await w.freshZeroAccount()).id}/freeze`, body: { reason: 'lost my card' } }),
  },
  'POST /accounts/:id/unfreeze': {
    expect: OWNED,
    req: async (w) => ({ path: `/accounts/${(await w.freshFrozenAccount()).id}/unfreeze`, body: {} }),
  },
  'GET /accounts/:id/alerts': { expect: OWNED, req: (w) => ({ path: `/accounts/${w.ownerAccount.id}/alerts` }) },
  'POST /accounts/:id/alerts': {
    expect: OWNER_ACTS,
    req: async (w) => ({
      path: `/accounts/${(await w.freshZeroAccount()).id}/alerts`,
      body: { kind: 'balance_below', threshold: '100.00' },
    }),
  },
  'DELETE /accounts/:id/alerts/:alertId': {
    expect: OWNER_ACTS,
    req: async (w) => {
      const a = await w.freshAlert();
      return { path: `/accounts/${a.accountId}/alerts/${a.id}` };
    },
  },
  'POST /standing-orders': {
    expect: OWNED,
    req: (w) => ({
      path: '/standing-orders',
      body: {
        fromAccountId: w.ownerAccount.id,
        toAccountNumber: w.otherAccount.number,
        amount: '1.00',
        frequency: 'weekly',
        startDate: w.futureDate(),
      },
    }),
  },
  'GET /standing-orders': { expect: SIGNED_IN, req: () => ({ path: '/standing-orders' }) },
  'GET /standing-orders/:id': { expect: OWNED, req: async (w) => ({ path: `/standing-orders/${(await w.freshOrder()).id}` }) },
  'PATCH /standing-orders/:id': {
    expect: OWNED,
    req: async (w) => ({ path: `/standing-orders/${(await w.freshOrder()).id}`, body: { amount: '2.00' } }),
  },
  'GET /standing-orders/:id/runs': { expect: OWNED, req: async (w) => ({ path: `/standing-orders/${(await w.freshOrder()).id}/runs` }) },
  'POST /transactions/:id/reverse': {
    expect: STAFF,
    req: async (w) => ({ path: `/transactions/${(await w.freshPosted()).id}/reverse`, body: { reason: 'entered twice' } }),
  },
  'POST /tickets': {
    expect: CUSTOMERS_ONLY,
    req: () => ({ path: '/tickets', body: { category: 'general', subject: 'Question', body: 'How do I?' } }),
  },
  'GET /tickets': { expect: SIGNED_IN, req: () => ({ path: '/tickets' }) },
  'GET /tickets/:id': { expect: OWNED, req: (w) => ({ path: `/tickets/${w.ownerTicket.id}` }) },
  'POST /tickets/:id/messages': {
    expect: OWNED,
    req: (w) => ({ path: `/tickets/${w.ownerTicket.id}/messages`, body: { body: 'Any news?' } }),
  },
  'PATCH /tickets/:id': {
    expect: OWNED,
    req: async (w, c) => ({
      path: `/tickets/${(await w.freshTicket()).id}`,
      body: c === 'owner' || c === 'other' ? { status: 'closed' } : { priority: 'high' },
    }),
  },
  'GET /announcements': { expect: SIGNED_IN, req: () => ({ path: '/announcements' }) },
  'POST /announcements': {
    expect: MANAGER,
    req: () => ({ path: '/announcements', body: { title: 'Notice', message: 'Branch closed Monday', audience: 'customers' } }),
  },
  'PATCH /announcements/:id': {
    expect: MANAGER,
    req: (w) => ({ path: `/announcements/${w.announcement.id}`, body: { title: 'Updated' } }),
  },
  'DELETE /announcements/:id': { expect: MANAGER, req: async (w) => ({ path: `/announcements/${(await w.freshAnnouncement()).id}` }) },
  'GET /notifications': { expect: SIGNED_IN, req: () => ({ path: '/notifications' }) },
  'POST /notifications/:id/read': { expect: OWN_ONLY, req: async (w) => ({ path: `/notifications/${await w.ownerNotification()}/read` }) },
  'GET /audit': { expect: MANAGER, req: () => ({ path: '/audit?entity=account' }) },
  'GET /audit/verify': { expect: ADMIN, req: () => ({ path: '/audit/verify' }) },
  'GET /ledger/verify': { expect: ADMIN, req: () => ({ path: '/ledger/verify' }) },
  'GET /jobs': { expect: ADMIN, req: () => ({ path: '/jobs' }) },
  'POST /jobs/:name/run': { expect: ADMIN, req: () => ({ path: '/jobs/cleanup/run' }) },
  'GET /staff-users': { expect: STAFF, req: () => ({ path: '/staff-users' }) },
  'GET /canned-replies': { expect: STAFF, req: () => ({ path: '/canned-replies' }) },
  'POST /canned-replies': {
    expect: STAFF,
    req: () => ({ path: '/canned-replies', body: { title: 'Greeting', body: 'Hello {{firstName}},' } }),
  },
  // Its author (or a manager) may change it: each staff caller edits one of its own.
  'PATCH /canned-replies/:id': {
    expect: STAFF,
    req: async (w, c) => ({ path: `/canned-replies/${await ownCanned(w, c)}`, body: { title: 'Renamed' } }),
  },
  'DELETE /canned-replies/:id': { expect: STAFF, req: async (w, c) => ({ path: `/canned-replies/${await ownCanned(w, c)}` }) },
  'GET /events': { expect: SIGNED_IN, req: () => ({ path: '/events?since=0&limit=10' }) },
  'POST /webhooks': { expect: ADMIN, req: () => ({ path: '/webhooks', body: { url: PUBLIC_HOOK, events: ['ticket.created'] } }) },
  'GET /webhooks': { expect: ADMIN, req: () => ({ path: '/webhooks' }) },
  'PATCH /webhooks/:id': {
    expect: ADMIN,
    req: async (w) => ({ path: `/webhooks/${(await freshWebhook(w)).id}`, body: { active: false } }),
  },
  'DELETE /webhooks/:id': { expect: ADMIN, req: async (w) => ({ path: `/webhooks/${(await freshWebhook(w)).id}` }) },
  'GET /webhooks/:id/deliveries': { expect: ADMIN, req: async (w) => ({ path: `/webhooks/${(await freshWebhook(w)).id}/deliveries` }) },
  'POST /webhooks/:id/deliveries/:deliveryId/redeliver': {
    expect: ADMIN,
    req: async (w) => {
      const d = await freshDelivery(w);
      return { path: `/webhooks/${d.endpointId}/deliveries/${d.id}/redeliver` };
    },
  },
};

/** A public address literal: passes the private-address guard without DNS (the web role sends nothing). */
const PUBLIC_HOOK = 'https://93.184.216.34/hooks/bank';

async function ownCanned(w: World, c: Caller): Promise<number> {
  const author = c === 'teller' || c === 'manager' || c === 'admin' ? w.people[c].actor : w.people.teller.actor;
  return (await createCannedReply(w.bank, author, { title: w.unique('Reply '), body: 'Hello {{firstName}}' })).id;
}

async function freshWebhook(w: World) {
  return createWebhook(
    w.bank,
    { ...SYSTEM, role: 'admin', userId: w.people.admin.actor.userId },
    { url: PUBLIC_HOOK, events: ['*'] },
    { allowPrivate: false },
  );
}

async function freshDelivery(w: World) {
  const hook = await freshWebhook(w);
  const ev = await w.db('events').orderBy('seq', 'desc').first('seq', 'type');
  const now = new Date().toISOString();
  const [ins] = await w.db('webhook_deliveries').insert(
    {
      endpoint_id: hook.id,
      seq: ev.seq,
      event: ev.type,
      status: 'failed',
      attempts: 3,
      give_up_at: now,
      created_at: now,
      updated_at: now,
    },
    ['id'],
  );
  return { endpointId: hook.id, id: Number(typeof ins === 'object' ? ins.id : ins) };
}
