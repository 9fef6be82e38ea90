import { z } from 'zod';
import * as notifications from '../../bank/notifications/index.js';
import { route, listQuery, decodeCursor } from '../route.js';

route({
  method: 'get',
  path: '/notifications',
  tag: 'Notifications',
  summary: "The caller's notifications, newest first, with the unread count",
  roles: 'anyone signed in (own)',
  query: listQuery.extend({
    unread: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  }),
  handler: async ({ bank, actor, query }) => notifications.listNotifications(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'post',
  path: '/notifications/:id/read',
  tag: 'Notifications',
  summary: "Mark one of the caller's notifications read",
  roles: 'anyone signed in (own)',
  handler: async ({ bank, actor, id }) => notifications.markNotificationRead(bank, actor, id()),
});
