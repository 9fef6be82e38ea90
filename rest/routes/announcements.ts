import { z } from 'zod';
import * as announcements from '../../bank/announcements/index.js';
import { route, listQuery, decodeCursor, isoDateTime } from '../route.js';

const title = z.string().trim().min(1).max(announcements.TITLE_MAX);
const message = z.string().trim().min(1).max(announcements.MESSAGE_MAX);
const audience = z.enum(announcements.AUDIENCES);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

route({
  method: 'get',
  path: '/announcements',
  tag: 'Announcements',
  summary: "Announcements for the caller's audience: active, published, not expired; newest first",
  roles: 'anyone signed in (includeInactive: manager+)',
  query: listQuery.extend({ includeInactive: flag.optional() }),
  handler: async ({ bank, actor, query }) => announcements.listAnnouncements(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/announcements',
  tag: 'Announcements',
  summary: 'Publish an announcement',
  roles: 'manager+',
  body: z.object({ title, message, audience, publishedAt: isoDateTime.optional(), expiresAt: isoDateTime.nullable().optional() }).strict(),
  responses: { 201: 'The announcement' },
  handler: async ({ bank, actor, body }) => ({ status: 201, body: await announcements.createAnnouncement(bank, actor, body) }),
});

route({
  method: 'patch',
  path: '/announcements/:id',
  tag: 'Announcements',
  summary: 'Edit an announcement (active: false withdraws it)',
  roles: 'manager+',
  body: z
    .object({
      title: title.optional(),
      message: message.optional(),
      audience: audience.optional(),
      expiresAt: isoDateTime.nullable().optional(),
      active: z.boolean().optional(),
    })
    .strict(),
  handler: async ({ bank, actor, id, body }) => announcements.updateAnnouncement(bank, actor, id(), body),
});

route({
  method: 'delete',
  path: '/announcements/:id',
  tag: 'Announcements',
  summary: 'Withdraw an announcement (the row stays)',
  roles: 'manager+',
  handler: async ({ bank, actor, id }) => announcements.withdrawAnnouncement(bank, actor, id()),
});
