import { z } from 'zod';
import * as ledger from '../../bank/ledger/index.js';
import { listTransactions } from '../../bank/accounts/index.js';
import { batchTransfers } from '../../bank/ledger/index.js';
import { listApprovals } from '../../bank/ledger/index.js';
import { cancelTransaction } from '../../bank/ledger/index.js';
import { DomainError } from '../../bank/core/index.js';
import { amountSchema, decodeCursor, idemReply, isoDateTime, listQuery, route, type HandlerArgs, type Reply } from '../route.js';

const memo = z.string().max(500).optional();

/** Shapes 201 (posted) or 202 (held for approval); counts refusals for the ledger metric. */
async function moneyReply(
  args: HandlerArgs<unknown, unknown>,
  kind: string,
  run: () => Promise<{ value: ledger.TransactionDto; replayed: boolean }>,
): Promise<Reply> {
  try {
    const r = await run();
    return idemReply(r, r.value.status === 'pending_approval' ? 202 : 201);
  } catch (err) {
    if (err instanceof DomainError) args.services.observe?.ledger?.(kind, err.code);
    throw err;
  }
}

route({
  method: 'post',
  path: '/deposits',
  tag: 'Money',
  summary: 'Counter deposit',
  roles: 'teller+',
  idempotent: true,
  body: z.object({ accountId: z.number().int().positive(), amount: amountSchema, memo }).strict(),
  responses: { 201: 'Posted' },
  handler: (args) => moneyReply(args, 'deposit', () => ledger.deposit(args.bank, args.actor, args.body, args.idem)),
});

route({
  method: 'post',
  path: '/withdrawals',
  tag: 'Money',
  summary: 'Counter withdrawal (above the approval threshold it waits for a manager)',
  roles: 'teller+',
  idempotent: true,
  body: z.object({ accountId: z.number().int().positive(), amount: amountSchema, memo }).strict(),
  responses: { 201: 'Posted', 202: 'Pending approval' },
  handler: (args) => moneyReply(args, 'withdrawal', () => ledger.withdraw(args.bank, args.actor, args.body, args.idem)),
});

route({
  method: 'post',
  path: '/transfers',
  tag: 'Money',
  summary: 'Transfer to an account number (above the approval threshold it waits for a manager)',
  roles: 'customer (own accounts), teller+',
  idempotent: true,
  body: z
    .object({
      fromAccountId: z.number().int().positive(),
      toAccountNumber: z.string().regex(/^\d{12}$/, 'must be a 12-digit account number'),
      amount: amountSchema,
      memo,
    })
    .strict(),
  responses: { 201: 'Posted', 202: 'Pending approval' },
  handler: (args) => moneyReply(args, 'transfer', () => ledger.transfer(args.bank, args.actor, args.body, args.idem)),
});

route({
  method: 'get',
  path: '/transactions/:id',
  tag: 'Money',
  summary: 'Read a transaction',
  roles: 'a party, teller+',
  handler: async ({ bank, actor, id }) => ledger.getTransaction(bank, actor, id()),
});

route({
  method: 'post',
  path: '/transactions/:id/cancel',
  tag: 'Money',
  summary: 'Cancel a transaction waiting for approval (its maker only; releases the hold)',
  roles: 'its maker',
  responses: { 200: 'Cancelled' },
  handler: async ({ bank, actor, id }) => cancelTransaction(bank, actor, id()),
});

route({
  method: 'get',
  path: '/transactions',
  tag: 'Money',
  summary: 'Search transactions',
  roles: 'teller+',
  query: listQuery.extend({
    accountId: z.coerce.number().int().positive().optional(),
    kind: z.enum(['deposit', 'withdrawal', 'transfer', 'interest', 'reversal']).optional(),
    status: z.enum(['posted', 'pending_approval', 'rejected', 'cancelled']).optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
  }),
  handler: async ({ bank, actor, query }) => listTransactions(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/approvals',
  tag: 'Approvals',
  summary: 'Transactions waiting for a manager',
  roles: 'manager+',
  query: listQuery.extend({ status: z.enum(['pending', 'approved', 'rejected']).default('pending') }),
  handler: async ({ bank, actor, query }) =>
    listApprovals(bank, actor, { status: query.status, limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

const decision = z.object({ note: z.string().max(500).optional() }).strict();

route({
  method: 'post',
  path: '/approvals/:transactionId/approve',
  tag: 'Approvals',
  summary: 'Approve a held transaction (posts it)',
  roles: 'manager+ (not its maker)',
  body: decision,
  handler: async ({ bank, actor, id, body }) => ledger.approve(bank, actor, id('transactionId'), body.note),
});

route({
  method: 'post',
  path: '/approvals/:transactionId/reject',
  tag: 'Approvals',
  summary: 'Reject a held transaction (releases the hold)',
  roles: 'manager+ (not its maker)',
  body: decision,
  handler: async ({ bank, actor, id, body }) => ledger.reject(bank, actor, id('transactionId'), body.note),
});

route({
  method: 'post',
  path: '/batch/transfers',
  tag: 'Money',
  summary: 'Many transfers in one request, atomic or item by item; every item is idempotent',
  roles: 'manager+',
  body: z
    .object({
      atomic: z.boolean(),
      items: z
        .array(
          z
            .object({
              idempotencyKey: z.string().min(1).max(255),
              fromAccountNumber: z.string().regex(/^\d{12}$/, 'must be a 12-digit account number'),
              toAccountNumber: z.string().regex(/^\d{12}$/, 'must be a 12-digit account number'),
              amount: amountSchema,
              memo,
            })
            .strict(),
        )
        .min(1)
        .max(10_000),
    })
    .strict(),
  handler: async ({ bank, actor, body }) => batchTransfers(bank, actor, body),
});
