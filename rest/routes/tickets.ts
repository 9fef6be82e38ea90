import { z } from 'zod';
import * as tickets from '../../bank/support/index.js';
import * as desk from '../../bank/support/index.js';
import { route, listQuery, decodeCursor, idParam } from '../route.js';

const subject = z.string().trim().min(1).max(tickets.SUBJECT_MAX);
const body = z.string().trim().min(1).max(tickets.BODY_MAX);

route({
  method: 'post',
  path: '/tickets',
  tag: 'Tickets',
  summary: 'Open a support ticket with its first message',
  roles: 'customer',
  body: z
    .object({ category: z.enum(tickets.TICKET_CATEGORIES), subject, body, priority: z.enum(tickets.TICKET_PRIORITIES).optional() })
    .strict(),
  responses: { 201: 'The new ticket with its first message' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await tickets.createTicket(bank, actor, body) }),
});

route({
  method: 'get',
  path: '/tickets',
  tag: 'Tickets',
  summary: 'List tickets, newest first (customers: their own)',
  roles: 'customer (own), teller+',
  query: listQuery.extend({
    status: z.enum(tickets.TICKET_STATUSES).optional(),
    priority: z.enum(tickets.TICKET_PRIORITIES).optional(),
    assigneeId: z.union([z.literal('none'), idParam]).optional(),
    customerId: idParam.optional(),
    breached: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  }),
  handler: async ({ bank, actor, query }) => tickets.listTickets(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/tickets/:id',
  tag: 'Tickets',
  summary: 'Read a ticket with its messages',
  roles: 'owner, teller+',
  handler: async ({ bank, actor, id }) => tickets.getTicket(bank, actor, id()),
});

route({
  method: 'post',
  path: '/tickets/:id/messages',
  tag: 'Tickets',
  summary: 'Reply on a ticket',
  roles: 'owner, teller+',
  body: z.object({ body, internal: z.boolean().optional() }).strict(),
  responses: { 201: 'The new message (internal: a note between staff, never shown to the owner)' },
  handler: async ({ bank, actor, id, body }) => ({
    status: 201,
    body: await tickets.addTicketMessage(bank, actor, id(), body.body, body.internal ?? false),
  }),
});

route({
  method: 'patch',
  path: '/tickets/:id',
  tag: 'Tickets',
  summary: 'Change status, priority, assignee or resolution (the owner: close, or reopen a resolved ticket)',
  roles: 'owner (limited), teller+',
  body: z
    .object({
      status: z.enum(tickets.TICKET_STATUSES).optional(),
      priority: z.enum(tickets.TICKET_PRIORITIES).optional(),
      assigneeId: idParam.nullable().optional(),
      resolution: body.optional(),
    })
    .strict(),
  handler: async ({ bank, actor, id, body }) => tickets.updateTicket(bank, actor, id(), body),
});

route({
  method: 'get',
  path: '/staff-users',
  tag: 'Tickets',
  summary: 'Active staff users, to assign tickets by name',
  roles: 'teller+',
  handler: async ({ bank, actor }) => ({ items: await desk.listStaff(bank, actor) }),
});

const cannedTitle = z.string().trim().min(1).max(desk.TITLE_MAX);
const cannedBody = z.string().trim().min(1).max(desk.CANNED_BODY_MAX);

route({
  method: 'get',
  path: '/canned-replies',
  tag: 'Tickets',
  summary: 'Canned replies, by title',
  roles: 'teller+',
  handler: async ({ bank, actor }) => ({ items: await desk.listCannedReplies(bank, actor) }),
});

route({
  method: 'post',
  path: '/canned-replies',
  tag: 'Tickets',
  summary: 'Create a canned reply ({{firstName}} is filled in on insertion)',
  roles: 'teller+',
  body: z.object({ title: cannedTitle, body: cannedBody }).strict(),
  responses: { 201: 'The new canned reply' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await desk.createCannedReply(bank, actor, body) }),
});

route({
  method: 'patch',
  path: '/canned-replies/:id',
  tag: 'Tickets',
  summary: 'Change a canned reply',
  roles: 'its author, manager+',
  body: z.object({ title: cannedTitle.optional(), body: cannedBody.optional() }).strict(),
  handler: async ({ bank, actor, id, body }) => desk.updateCannedReply(bank, actor, id(), body),
});

route({
  method: 'delete',
  path: '/canned-replies/:id',
  tag: 'Tickets',
  summary: 'Delete a canned reply',
  roles: 'its author, manager+',
  handler: async ({ bank, actor, id }) => desk.deleteCannedReply(bank, actor, id()),
});
