import { z } from 'zod';
import { setFrozen } from '../../bank/accounts/index.js';
import { addPayee, deletePayee, listPayees, lookupAccount } from '../../bank/accounts/index.js';
import { ALERT_KINDS, createAlert, deleteAlert, listAlerts } from '../../bank/accounts/index.js';
import * as orders from '../../bank/ledger/index.js';
import { requestReversal } from '../../bank/ledger/index.js';
import { amountSchema, decodeCursor, isoDate, listQuery, route } from '../route.js';

const accountNumber = z.string().regex(/^\d{12}$/, 'must be a 12-digit account number');

// ---- confirmation of payee and payees ---------------------------------------------------------

route({
  method: 'get',
  path: '/accounts/lookup',
  tag: 'Payees',
  summary: 'Confirmation of payee: whose account a number is (masked name); 30 look-ups a minute',
  roles: 'anyone signed in',
  query: z.object({ number: accountNumber }),
  responses: { 200: 'The holder, masked', 404: 'No active customer account has this number', 429: 'Too many look-ups' },
  handler: async ({ bank, actor, query }) => lookupAccount(bank, actor, query.number),
});

route({
  method: 'get',
  path: '/payees',
  tag: 'Payees',
  summary: "The caller's saved payees (staff: ?customerId=)",
  roles: 'customer (own), teller+',
  query: listQuery.extend({ customerId: z.coerce.number().int().positive().optional() }),
  handler: async ({ bank, actor, query }) =>
    listPayees(bank, actor, { customerId: query.customerId, limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/payees',
  tag: 'Payees',
  summary: 'Save a payee (the number is confirmed first, and counts as a look-up)',
  roles: 'customer',
  body: z.object({ accountNumber, nickname: z.string().trim().min(1).max(60) }).strict(),
  responses: { 201: 'The payee' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await addPayee(bank, actor, body) }),
});

route({
  method: 'delete',
  path: '/payees/:id',
  tag: 'Payees',
  summary: 'Forget a payee',
  roles: 'customer (own)',
  handler: async ({ bank, actor, id }) => deletePayee(bank, actor, id()),
});

// ---- freeze -------------------------------------------------------------------------------------

const reasonBody = z.object({ reason: z.string().max(500).optional() }).strict();

route({
  method: 'post',
  path: '/accounts/:id/freeze',
  tag: 'Accounts',
  summary: 'Freeze an account (the owner: a customer freeze; staff: a bank freeze)',
  roles: 'owner, teller+',
  body: reasonBody,
  handler: async ({ bank, actor, id, body }) => setFrozen(bank, actor, id(), true, body.reason),
});

route({
  method: 'post',
  path: '/accounts/:id/unfreeze',
  tag: 'Accounts',
  summary: 'Lift a freeze (a customer lifts only their own)',
  roles: 'owner (own freeze), teller+',
  body: reasonBody,
  handler: async ({ bank, actor, id, body }) => setFrozen(bank, actor, id(), false, body.reason),
});

// ---- balance alerts -----------------------------------------------------------------------------

route({
  method: 'get',
  path: '/accounts/:id/alerts',
  tag: 'Alerts',
  summary: "An account's balance alerts",
  roles: 'owner, teller+',
  query: listQuery,
  handler: async ({ bank, actor, id, query }) => listAlerts(bank, actor, id(), { limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/accounts/:id/alerts',
  tag: 'Alerts',
  summary: 'Add a balance alert',
  roles: 'owner',
  body: z.object({ kind: z.enum(ALERT_KINDS), threshold: amountSchema }).strict(),
  responses: { 201: 'The alert' },
  handler: async ({ bank, actor, id, body }) => ({ status: 201, body: await createAlert(bank, actor, id(), body) }),
});

route({
  method: 'delete',
  path: '/accounts/:id/alerts/:alertId',
  tag: 'Alerts',
  summary: 'Remove a balance alert',
  roles: 'owner',
  handler: async ({ bank, actor, id }) => deleteAlert(bank, actor, id(), id('alertId')),
});

// ---- standing orders ----------------------------------------------------------------------------

route({
  method: 'post',
  path: '/standing-orders',
  tag: 'Standing orders',
  summary: 'Schedule a transfer: once, daily, weekly or monthly',
  roles: 'owner, teller+',
  body: z
    .object({
      fromAccountId: z.number().int().positive(),
      toAccountNumber: accountNumber,
      amount: amountSchema,
      memo: z.string().max(500).optional(),
      frequency: z.enum(orders.FREQUENCIES),
      startDate: isoDate,
      endDate: isoDate.nullable().optional(),
    })
    .strict(),
  responses: { 201: 'The standing order' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await orders.createStandingOrder(bank, actor, body) }),
});

route({
  method: 'get',
  path: '/standing-orders',
  tag: 'Standing orders',
  summary: 'Standing orders (customers: from their own accounts)',
  roles: 'customer (own), teller+',
  query: listQuery.extend({ accountId: z.coerce.number().int().positive().optional() }),
  handler: async ({ bank, actor, query }) =>
    orders.listStandingOrders(bank, actor, { accountId: query.accountId, limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/standing-orders/:id',
  tag: 'Standing orders',
  summary: 'Read a standing order',
  roles: 'owner, teller+',
  handler: async ({ bank, actor, id }) => orders.getStandingOrder(bank, actor, id()),
});

route({
  method: 'patch',
  path: '/standing-orders/:id',
  tag: 'Standing orders',
  summary: 'Pause, resume, cancel, or change the amount or end date',
  roles: 'owner, teller+',
  body: z
    .object({
      status: z.enum(['active', 'paused', 'cancelled']).optional(),
      amount: amountSchema.optional(),
      endDate: isoDate.nullable().optional(),
    })
    .strict(),
  handler: async ({ bank, actor, id, body }) => orders.updateStandingOrder(bank, actor, id(), body),
});

route({
  method: 'get',
  path: '/standing-orders/:id/runs',
  tag: 'Standing orders',
  summary: "The order's runs, newest first",
  roles: 'owner, teller+',
  query: listQuery,
  handler: async ({ bank, actor, id, query }) =>
    orders.standingOrderRuns(bank, actor, id(), { limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

// ---- reversals ----------------------------------------------------------------------------------

route({
  method: 'post',
  path: '/transactions/:id/reverse',
  tag: 'Approvals',
  summary: 'Ask for a posted transaction to be reversed; a manager other than the maker approves',
  roles: 'teller+',
  body: z.object({ reason: z.string().trim().min(1).max(400) }).strict(),
  responses: { 202: 'The reversal, pending approval', 422: 'already_reversed, or conflict (not posted)' },
  handler: async ({ bank, actor, id, body }) => ({ status: 202, body: await requestReversal(bank, actor, id(), body.reason) }),
});
