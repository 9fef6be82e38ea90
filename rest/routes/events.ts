import { z } from 'zod';
import { actorRooms, SYNC_PAGE, syncEvents } from '../../bank/outbox/index.js';
import * as webhooks from '../../bank/outbox/index.js';
import { decodeCursor, listQuery, route } from '../route.js';

route({
  method: 'get',
  path: '/events',
  tag: 'Events',
  summary: "Events since a seq, for the caller's audience: what the socket's sync answers",
  roles: 'signed in',
  query: z.object({
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    limit: z.coerce.number().int().min(1).max(SYNC_PAGE).default(SYNC_PAGE),
  }),
  handler: async ({ bank, actor, query }) => syncEvents(bank, actorRooms(actor), query.since, query.limit),
});

const url = z.string().min(1).max(2048);
const events = z.array(z.string().min(1).max(40)).min(1).max(100);

route({
  method: 'post',
  path: '/webhooks',
  tag: 'Webhooks',
  summary: 'Register a webhook endpoint (the secret is shown in this answer only)',
  roles: 'admin',
  body: z.object({ url, events, description: z.string().max(200).optional() }).strict(),
  responses: { 201: 'The endpoint with its signing secret' },
  handler: async ({ bank, actor, body, config }) => ({
    status: 201,
    body: await webhooks.createWebhook(bank, actor, body, { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE }),
  }),
});

route({
  method: 'get',
  path: '/webhooks',
  tag: 'Webhooks',
  summary: 'Webhook endpoints',
  roles: 'admin',
  handler: async ({ bank, actor }) => ({ items: await webhooks.listWebhooks(bank, actor) }),
});

route({
  method: 'patch',
  path: '/webhooks/:id',
  tag: 'Webhooks',
  summary: 'Change or pause a webhook endpoint',
  roles: 'admin',
  body: z.object({ url: url.optional(), events: events.optional(), active: z.boolean().optional() }).strict(),
  handler: async ({ bank, actor, id, body, config }) =>
    webhooks.updateWebhook(bank, actor, id(), body, { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE }),
});

route({
  method: 'delete',
  path: '/webhooks/:id',
  tag: 'Webhooks',
  summary: 'Remove a webhook endpoint (its delivery log stays)',
  roles: 'admin',
  handler: async ({ bank, actor, id }) => webhooks.deleteWebhook(bank, actor, id()),
});

route({
  method: 'get',
  path: '/webhooks/:id/deliveries',
  tag: 'Webhooks',
  summary: "An endpoint's deliveries, newest first",
  roles: 'admin',
  query: listQuery.extend({ status: z.enum(['pending', 'delivered', 'failed']).optional() }),
  handler: async ({ bank, actor, id, query }) =>
    webhooks.listDeliveries(bank, actor, id(), { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/webhooks/:id/deliveries/:deliveryId/redeliver',
  tag: 'Webhooks',
  summary: 'Send a delivery again now',
  roles: 'admin',
  responses: { 202: 'The delivery, pending again' },
  handler: async ({ bank, actor, id }) => ({ status: 202, body: await webhooks.redeliver(bank, actor, id(), id('deliveryId')) }),
});
