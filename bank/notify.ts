import { recordEvent, rooms } from './events.js';
import type { Tx } from './tx.js';

export interface NotificationText {
  kind: string;
  title: string;
  body: string;
}

const CHUNK = 200;

/**
 * Stores notifications and pushes each to its user, in the caller's transaction: one
 * multi-row insert per chunk (serial ids follow VALUES order).
 */
async function insertNotifications(t: Tx, rows: ({ user_id: number } & NotificationText)[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK).map((r) => ({ ...r, created_at: t.now }));
    const ins = await t.q('notifications').insert(chunk, ['id']);
    const ids = (ins as unknown[]).map((r) => Number(typeof r === 'object' && r !== null ? (r as { id: number }).id : r)).sort((a, b) => a - b);
    chunk.forEach((n, j) => recordEvent(t, 'notification', [rooms.user(n.user_id)], { id: ids[j], kind: n.kind, title: n.title, body: n.body }));
  }
}

/** One notification to each of these users. */
export async function notifyUsers(t: Tx, userIds: number[], n: NotificationText): Promise<void> {
  await insertNotifications(t, [...new Set(userIds)].map((user_id) => ({ user_id, ...n })));
}

/** Notifications to every active login of each customer named (one look-up for them all). */
export async function notifyCustomers(t: Tx, items: ({ customerId: number | null } & NotificationText)[]): Promise<void> {
  const customerIds = [...new Set(items.map((i) => i.customerId).filter((c): c is number => c !== null))];
  if (!customerIds.length) return;
  const users = new Map<number, number[]>();
  for (let i = 0; i < customerIds.length; i += CHUNK) {
    for (const u of await t.q('users').whereIn('customer_id', customerIds.slice(i, i + CHUNK)).andWhere({ active: true }).select('id', 'customer_id')) {
      users.set(u.customer_id, [...(users.get(u.customer_id) ?? []), u.id]);
    }
  }
  await insertNotifications(t, items.flatMap(({ customerId, ...n }) => (customerId === null ? [] : users.get(customerId) ?? []).map((user_id) => ({ user_id, ...n }))));
}
