import { z } from 'zod';
import * as accounts from '../../bank/accounts/index.js';
import { statementPdf } from '../../bank/accounts/index.js';
import { route, listQuery, decodeCursor, isoDateTime } from '../route.js';

const range = z.object({ from: isoDateTime.optional(), to: isoDateTime.optional() });

route({
  method: 'post',
  path: '/accounts',
  tag: 'Accounts',
  summary: 'Open an account',
  roles: 'teller+',
  body: z
    .object({
      customerId: z.number().int().positive(),
      type: z.string().min(1).max(16),
      branch: z.string().min(1).max(16),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/)
        .optional(),
    })
    .strict(),
  responses: { 201: 'The new account' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await accounts.openAccount(bank, actor, body) }),
});

route({
  method: 'get',
  path: '/accounts',
  tag: 'Accounts',
  summary: 'List accounts (customers: their own)',
  roles: 'customer (own), teller+',
  query: listQuery.extend({
    customerId: z.coerce.number().int().positive().optional(),
    branch: z.string().max(16).optional(),
    status: z.enum(['active', 'frozen', 'closed']).optional(),
  }),
  handler: async ({ bank, actor, query }) => accounts.listAccounts(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/accounts/:id',
  tag: 'Accounts',
  summary: 'Read an account',
  roles: 'owner, teller+',
  handler: async ({ bank, actor, id }) => accounts.getAccount(bank, actor, id()),
});

route({
  method: 'patch',
  path: '/accounts/:id',
  tag: 'Accounts',
  summary: 'Freeze, unfreeze, move branch or change type',
  roles: 'teller+',
  body: z
    .object({
      status: z.enum(['active', 'frozen']).optional(),
      branch: z.string().min(1).max(16).optional(),
      type: z.string().min(1).max(16).optional(),
      note: z.string().max(500).optional(),
    })
    .strict(),
  handler: async ({ bank, actor, id, body }) => accounts.editAccount(bank, actor, id(), body),
});

route({
  method: 'get',
  path: '/accounts/:id/edits',
  tag: 'Accounts',
  summary: 'The history of edits to an account',
  roles: 'teller+',
  handler: async ({ bank, actor, id }) => accounts.accountEdits(bank, actor, id()),
});

route({
  method: 'post',
  path: '/accounts/:id/close',
  tag: 'Accounts',
  summary: 'Close an account with a zero balance',
  roles: 'manager+',
  body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(),
  handler: async ({ bank, actor, id, body }) => accounts.closeAccount(bank, actor, id(), body.reason),
});

route({
  method: 'get',
  path: '/closed-accounts',
  tag: 'Accounts',
  summary: 'Archive records of closed accounts',
  roles: 'manager+',
  query: listQuery,
  handler: async ({ bank, actor, query }) =>
    accounts.closedAccounts(bank, actor, { limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/accounts/:id/entries',
  tag: 'Accounts',
  summary: 'Ledger entries of an account (order=desc for newest first; kind, q, minAmount, maxAmount narrow it)',
  roles: 'owner, teller+',
  query: range.extend(listQuery.shape).extend({
    order: z.enum(['asc', 'desc']).default('asc'),
    kind: z.enum(['deposit', 'withdrawal', 'transfer', 'interest', 'reversal']).optional(),
    q: z.string().trim().min(1).max(100).optional(),
    minAmount: z.string().max(40).optional(),
    maxAmount: z.string().max(40).optional(),
  }),
  handler: async ({ bank, actor, id, query }) =>
    accounts.accountEntries(bank, actor, id(), { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/accounts/:id/pending',
  tag: 'Accounts',
  summary: 'Transactions waiting for approval on this account (held going out, or coming in)',
  roles: 'owner, teller+',
  handler: async ({ bank, actor, id }) => ({ items: await accounts.accountPending(bank, actor, id()) }),
});

route({
  method: 'get',
  path: '/accounts/:id/statement',
  tag: 'Accounts',
  summary: 'Statement: opening balance, entries, closing balance (JSON, CSV or PDF)',
  roles: 'owner, teller+',
  query: range.extend({ format: z.enum(['json', 'csv', 'pdf']).default('json') }),
  handler: async ({ bank, actor, id, query, config }) => {
    if (query.format === 'pdf') {
      const pdf = await statementPdf(bank, actor, id(), query, config.BANK_NAME);
      return {
        body: pdf.stream,
        headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': `attachment; filename="${pdf.filename}"` },
      };
    }
    const s = await accounts.statement(bank, actor, id(), query);
    if (query.format === 'json') return s;
    return {
      text: { contentType: 'text/csv; charset=utf-8', data: accounts.statementCsv(s) },
      headers: { 'Content-Disposition': `attachment; filename="statement-${s.account.number}.csv"` },
    };
  },
});

route({
  method: 'get',
  path: '/accounts/:id/balances',
  tag: 'Accounts',
  summary: 'Daily closing balances',
  roles: 'owner, teller+',
  query: range,
  handler: async ({ bank, actor, id, query }) => accounts.dailyBalances(bank, actor, id(), query),
});
