import { recordEvent, rooms } from './events.js';
import type { Tx } from './tx.js';

/** Stores a notification for each user and pushes it to them, in the caller's transaction. */
export async function notifyUsers(t: Tx, userIds: number[], n: { kind: string; title: string; body: string }): Promise<void> {
  for (const userId of new Set(userIds)) {
    const [row] = await t.q('notifications').insert({ user_id: userId, ...n, created_at: t.now }, ['id']);
    const id = typeof row === 'object' ? row.id : row;
    recordEvent(t, 'notification', [rooms.user(userId)], { id, ...n });
  }
}

/** Every active login of a customer. */
export async function customerUserIds(t: Tx, customerId: number | null): Promise<number[]> {
  if (customerId === null) return [];
  const rows = await t.q('users').where({ customer_id: customerId, active: true }).select('id');
  return rows.map((r) => r.id as number);
}
