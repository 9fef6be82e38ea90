import { recordEvent, rooms } from '../outbox/events.js';
import type { Tx } from '../core/db-tx.js';
import { fastSql, type Table } from '../../db/fast.js';

export interface NotificationText {
  kind: string;
  title: string;
  body: string;
}

const NOTIFICATIONS: Table = {
  name: 'notifications',
  key: 'id',
  columns: [
    ['user_id', 'bigint'],
    ['kind', 'text'],
    ['title', 'text'],
    ['body', 'text'],
    ['created_at', 'text'],
  ],
};

/** Stores notifications and pushes each to its user, in the caller's transaction. */
async function insertNotifications(t: Tx, rows: ({ user_id: number } & NotificationText)[]): Promise<void> {
  if (!rows.length) return;
  const ids = await (
    await fastSql(t.q)
  ).insert(
    NOTIFICATIONS,
    rows.map((n) => [n.user_id, n.kind, n.title, n.body, t.now]),
  );
  rows.forEach((n, j) =>
    recordEvent(t, 'notification', [rooms.user(n.user_id)], { id: ids[j], kind: n.kind, title: n.title, body: n.body }),
  );
}

/** One notification to each of these users. */
export async function notifyUsers(t: Tx, userIds: number[], n: NotificationText): Promise<void> {
  await insertNotifications(
    t,
    [...new Set(userIds)].map((user_id) => ({ user_id, ...n })),
  );
}

/** Notifications to every active login of each customer named (one look-up for them all). */
export async function notifyCustomers(t: Tx, items: ({ customerId: number | null } & NotificationText)[]): Promise<void> {
  const customerIds = [...new Set(items.map((i) => i.customerId).filter((c): c is number => c !== null))];
  if (!customerIds.length) return;
  const users = new Map<number, number[]>();
  const fast = await fastSql(t.q);
  const found =
    fast.dialect === 'pg'
      ? await fast.query<{ id: number; customer_id: number }>(
          'customer_users',
          { sqlite: '', pg: 'SELECT id, customer_id FROM users WHERE customer_id = ANY(?::bigint[]) AND active' },
          [customerIds],
        )
      : (
          await Promise.all(
            customerIds.map((c) =>
              fast.query<{ id: number; customer_id: number }>(
                'customer_users',
                { sqlite: 'SELECT id, customer_id FROM users WHERE customer_id = ? AND active = 1', pg: '' },
                [c],
              ),
            ),
          )
        ).flat();
  for (const u of found) users.set(Number(u.customer_id), [...(users.get(Number(u.customer_id)) ?? []), Number(u.id)]);
  await insertNotifications(
    t,
    items.flatMap(({ customerId, ...n }) =>
      (customerId === null ? [] : (users.get(customerId) ?? [])).map((user_id) => ({ user_id, ...n })),
    ),
  );
}
