import { z } from 'zod';
import * as tickets from '../../bank/tickets.js';
import { route, listQuery, decodeCursor, idParam } from '../route.js';

const subject = z.string().trim().min(1).max(tickets.SUBJECT_MAX);
const body = z.string().trim().min(1).max(tickets.BODY_MAX);

route({
  method: 'post', path: '/tickets', tag: 'Tickets', summary: 'Open a support ticket with its first message', roles: 'customer',
  body: z.object({ category: z.enum(tickets.TICKET_CATEGORIES), subject, body, priority: z.enum(tickets.TICKET_PRIORITIES).optional() }).strict(),
  responses: { 201: 'The new ticket with its first message' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await tickets.createTicket(bank, actor, body) }),
});

route({
  method: 'get', path: '/tickets', tag: 'Tickets', summary: 'List tickets, newest first (customers: their own)', roles: 'customer (own), teller+',
  query: listQuery.extend({
    status: z.enum(tickets.TICKET_STATUSES).optional(),
    priority: z.enum(tickets.TICKET_PRIORITIES).optional(),
    assigneeId: idParam.optional(),
    customerId: idParam.optional(),
  }),
  handler: async ({ bank, actor, query }) => tickets.listTickets(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get', path: '/tickets/:id', tag: 'Tickets', summary: 'Read a ticket with its messages', roles: 'owner, teller+',
  handler: async ({ bank, actor, id }) => tickets.getTicket(bank, actor, id()),
});

route({
  method: 'post', path: '/tickets/:id/messages', tag: 'Tickets', summary: 'Reply on a ticket', roles: 'owner, teller+',
  body: z.object({ body }).strict(),
  responses: { 201: 'The new message' },
  handler: async ({ bank, actor, id, body }) => ({ status: 201, body: await tickets.addTicketMessage(bank, actor, id(), body.body) }),
});

route({
  method: 'patch', path: '/tickets/:id', tag: 'Tickets', summary: 'Change status, priority, assignee or resolution (the owner: close, or reopen a resolved ticket)', roles: 'owner (limited), teller+',
  body: z.object({
    status: z.enum(tickets.TICKET_STATUSES).optional(),
    priority: z.enum(tickets.TICKET_PRIORITIES).optional(),
    assigneeId: idParam.nullable().optional(),
    resolution: body.optional(),
  }).strict(),
  handler: async ({ bank, actor, id, body }) => tickets.updateTicket(bank, actor, id(), body),
});
