import { z } from 'zod';
import { hasControl } from '../../bank/core/index.js';
import * as customers from '../../bank/customers/index.js';
import { passwordProblem } from '../../bank/access/index.js';
import { USERNAME_RE } from '../../bank/access/index.js';
import { decodeCursor, listQuery, route } from '../route.js';

/** A body object that refuses unknown fields (rest/errors.ts names each one in details.fields). */
export const closed = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();
const today = () => new Date().toISOString().slice(0, 10);
const L = customers.LIMITS;

const person = {
  firstName: text(L.firstName),
  lastName: text(L.lastName),
  email: z.string().trim().max(L.email).refine(customers.isEmail, 'must be an email address').meta({ format: 'email' }),
  phone: z
    .string()
    .trim()
    .max(L.phone)
    .refine(customers.isPhone, 'must be a phone number: +, digits, spaces or dashes, 7-15 digits')
    .meta({ pattern: customers.PHONE_RE.source }),
  dateOfBirth: z
    .string()
    .max(10)
    .refine((s) => customers.isBirthDate(s, today()), `must be a real past date YYYY-MM-DD from ${customers.EARLIEST_BIRTH_DATE} on`)
    .meta({ format: 'date' }),
};

const address = {
  line1: text(L.line1),
  line2: optionalText(L.line2),
  city: text(L.city),
  state: optionalText(L.state),
  postalCode: z.string().trim().max(L.postalCode).refine(customers.isPostalCode, 'must be letters, digits, spaces or dashes'),
  country: z.string().max(2).refine(customers.isCountry, 'must be an ISO 3166 alpha-2 code such as IN').meta({ pattern: '^[A-Z]{2}$' }),
};

const login = closed({
  username: z
    .string()
    .max(64)
    .refine((s) => USERNAME_RE.test(s.toLowerCase()), 'must be 3-64 characters of a-z, 0-9, . _ -'),
  password: z
    .string()
    .max(200)
    .superRefine((s, ctx) => {
      const problem = passwordProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
});

route({
  method: 'post',
  path: '/customers',
  tag: 'Customers',
  summary: 'Onboard a customer: record, first address and (optionally) a login, in one transaction',
  roles: 'teller+',
  body: closed({ ...person, address: closed(address), login: login.optional() }),
  responses: { 201: 'The new customer', 409: 'The username is taken (nothing was created)' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await customers.onboardCustomer(bank, actor, body) }),
});

route({
  method: 'get',
  path: '/customers',
  tag: 'Customers',
  summary: 'Search customers by name, email, phone or account number',
  roles: 'teller+',
  query: listQuery.extend({
    q: z
      .string()
      .max(200)
      .refine((s) => !hasControl(s), 'must not contain control characters')
      .optional(),
  }),
  handler: async ({ bank, actor, query }) =>
    customers.searchCustomers(bank, actor, { q: query.q, limit: query.limit, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/customers/:id',
  tag: 'Customers',
  summary: 'Read a customer with their addresses',
  roles: 'that customer, teller+',
  handler: async ({ bank, actor, id }) => customers.getCustomer(bank, actor, id()),
});

route({
  method: 'patch',
  path: '/customers/:id',
  tag: 'Customers',
  summary: 'Edit a customer (the customer themself: email and phone only)',
  roles: 'that customer (email, phone), teller+',
  body: closed({
    firstName: person.firstName.optional(),
    lastName: person.lastName.optional(),
    email: person.email.optional(),
    phone: person.phone.optional(),
    dateOfBirth: person.dateOfBirth.optional(),
    currentPassword: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .meta({ description: 'A customer changing their own email confirms it with their password' }),
  }),
  responses: {
    200: 'The customer',
    400: 'invalid_request (a customer changing email without currentPassword)',
    401: 'invalid_credentials (currentPassword wrong)',
  },
  handler: async ({ bank, actor, id, body }) => customers.editCustomer(bank, actor, id(), body),
});

route({
  method: 'get',
  path: '/customers/:id/addresses',
  tag: 'Customers',
  summary: "A customer's addresses",
  roles: 'that customer, teller+',
  handler: async ({ bank, actor, id }) => customers.listAddresses(bank, actor, id()),
});

route({
  method: 'post',
  path: '/customers/:id/addresses',
  tag: 'Customers',
  summary: 'Add an address',
  roles: 'that customer, teller+',
  body: closed(address),
  responses: { 201: 'The new address' },
  handler: async ({ bank, actor, id, body }) => ({ status: 201, body: await customers.addAddress(bank, actor, id(), body) }),
});

route({
  method: 'patch',
  path: '/customers/:id/addresses/:addressId',
  tag: 'Customers',
  summary: 'Edit an address',
  roles: 'that customer, teller+',
  body: closed({
    line1: address.line1.optional(),
    line2: address.line2,
    city: address.city.optional(),
    state: address.state,
    postalCode: address.postalCode.optional(),
    country: address.country.optional(),
  }),
  handler: async ({ bank, actor, id, body }) => customers.editAddress(bank, actor, id(), id('addressId'), body),
});

route({
  method: 'delete',
  path: '/customers/:id/addresses/:addressId',
  tag: 'Customers',
  summary: 'Remove an address (never the last one)',
  roles: 'that customer, teller+',
  responses: { 204: 'Removed', 409: 'It is the last address' },
  handler: async ({ bank, actor, id }) => {
    await customers.removeAddress(bank, actor, id(), id('addressId'));
  },
});
