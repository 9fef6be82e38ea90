import { z } from 'zod';
import { ROLES } from '../../bank/core/index.js';
import * as users from '../../bank/access/index.js';
import { decodeCursor, idParam, listQuery, route } from '../route.js';

const role = z.enum(ROLES as [(typeof ROLES)[number], ...(typeof ROLES)[number][]]);
const displayName = z.string().trim().min(1).max(200);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

route({
  method: 'get',
  path: '/users',
  tag: 'Users',
  summary: 'List logins (filter by role, active, or text in username / display name)',
  roles: 'admin',
  query: listQuery.extend({ role: role.optional(), active: flag.optional(), q: z.string().trim().max(100).optional() }),
  handler: async ({ bank, actor, query }) => users.listUsers(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/users',
  tag: 'Users',
  summary: 'Create a login (a customer login belongs to an existing customer)',
  roles: 'admin',
  body: z
    .object({
      username: z.string().min(1).max(64),
      password: z.string().max(1000),
      role,
      displayName,
      customerId: z.number().int().positive().nullable().optional(),
    })
    .strict(),
  responses: { 201: 'The new user', 409: 'conflict (username taken)' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await users.createUser(bank, actor, body) }),
});

route({
  method: 'get',
  path: '/users/:id',
  tag: 'Users',
  summary: 'Read a login',
  roles: 'admin',
  handler: async ({ bank, actor, id }) => users.getUser(bank, actor, id()),
});

route({
  method: 'patch',
  path: '/users/:id',
  tag: 'Users',
  summary: 'Change role, active or display name (role change or deactivation signs the user out)',
  roles: 'admin',
  body: z.object({ role: role.optional(), active: z.boolean().optional(), displayName: displayName.optional() }).strict(),
  responses: { 200: 'The user', 409: 'conflict (you cannot demote or deactivate yourself)' },
  handler: async ({ bank, actor, id, body }) => users.updateUser(bank, actor, id(), body),
});

route({
  method: 'get',
  path: '/login-events',
  tag: 'Users',
  summary: 'Sign-in history, newest first',
  roles: 'manager+',
  query: listQuery.extend({ userId: idParam.optional(), kind: z.enum(['login', 'logout', 'failed', 'locked']).optional() }),
  handler: async ({ bank, actor, query }) => users.listLoginEvents(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});
