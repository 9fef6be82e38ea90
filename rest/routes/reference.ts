import { z } from 'zod';
import * as ref from '../../bank/accounts/index.js';
import { isRealDate } from '../../bank/ledger/index.js';
import { route } from '../route.js';
import { closed } from './customers.js';

const code = z.string().regex(ref.CODE_RE, 'must be 2-16 uppercase letters or digits');
const name = z.string().trim().min(1).max(200);
const city = z.string().trim().min(1).max(100);
const address = z.string().trim().max(300).nullable().optional();
/** Amounts are decimal strings; a number reaches bank/ so it is refused as invalid_amount naming its field. */
const amount = z.union([z.string().max(64), z.number()]).meta({ description: 'decimal string in the bank currency, such as "1000.00"' });
const date = z.string().max(10).refine(isRealDate, 'must be a real date YYYY-MM-DD').meta({ format: 'date' });

// ---- branches ------------------------------------------------------------------------

route({
  method: 'get',
  path: '/branches',
  tag: 'Reference',
  summary: 'Branches',
  roles: 'anyone signed in',
  handler: async ({ bank, actor }) => ref.listBranches(bank, actor),
});

route({
  method: 'get',
  path: '/branches/:id',
  tag: 'Reference',
  summary: 'Read a branch',
  roles: 'anyone signed in',
  handler: async ({ bank, actor, id }) => ref.getBranch(bank, actor, id()),
});

route({
  method: 'post',
  path: '/branches',
  tag: 'Reference',
  summary: 'Open a branch',
  roles: 'manager+',
  body: closed({ code, name, city, address }),
  responses: { 201: 'The new branch', 409: 'The code is taken' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await ref.createBranch(bank, actor, body) }),
});

route({
  method: 'patch',
  path: '/branches/:id',
  tag: 'Reference',
  summary: "Edit a branch's name, city or address (its code never changes)",
  roles: 'manager+',
  body: closed({ name: name.optional(), city: city.optional(), address }),
  handler: async ({ bank, actor, id, body }) => ref.editBranch(bank, actor, id(), body),
});

// ---- account types -------------------------------------------------------------------

route({
  method: 'get',
  path: '/account-types',
  tag: 'Reference',
  summary: 'Account types with their rules and the interest rate in force today',
  roles: 'anyone signed in',
  handler: async ({ bank, actor }) => ref.listAccountTypes(bank, actor),
});

route({
  method: 'get',
  path: '/account-types/:code',
  tag: 'Reference',
  summary: 'Read an account type',
  roles: 'anyone signed in',
  handler: async ({ bank, actor, params }) => ref.getAccountType(bank, actor, params.code),
});

route({
  method: 'post',
  path: '/account-types',
  tag: 'Reference',
  summary: 'Add an account type',
  roles: 'manager+',
  body: closed({ code, name, minBalance: amount, overdraftLimit: amount, approvalThreshold: amount.nullable().optional() }),
  responses: { 201: 'The new account type', 409: 'The code is taken' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await ref.createAccountType(bank, actor, body) }),
});

route({
  method: 'patch',
  path: '/account-types/:code',
  tag: 'Reference',
  summary: "Edit an account type's name and rules (its code never changes)",
  roles: 'manager+',
  body: closed({
    name: name.optional(),
    minBalance: amount.optional(),
    overdraftLimit: amount.optional(),
    approvalThreshold: amount.nullable().optional(),
  }),
  handler: async ({ bank, actor, params, body }) => ref.editAccountType(bank, actor, params.code, body),
});

// ---- interest rates ------------------------------------------------------------------

route({
  method: 'get',
  path: '/interest-rates',
  tag: 'Reference',
  summary: 'Interest rate history (percent per year), oldest first per account type',
  roles: 'anyone signed in',
  query: z.object({ accountType: z.string().max(16).optional() }),
  handler: async ({ bank, actor, query }) => ref.listRates(bank, actor, query),
});

route({
  method: 'post',
  path: '/interest-rates',
  tag: 'Reference',
  summary: 'Add a rate from a date on (today or later); past rates are never rewritten',
  roles: 'manager+',
  body: closed({
    accountType: z.string().max(16),
    annualRate: z.string().max(32).meta({ description: 'percent per year, at most 4 decimals, such as "3.50"' }),
    effectiveFrom: date,
  }),
  responses: { 201: 'The new rate', 409: 'A rate from that date already exists' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await ref.createRate(bank, actor, body) }),
});
