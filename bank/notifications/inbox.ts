import type { Actor, BankContext } from '../core/context.js';
import { toPage } from '../core/paging.js';
import { NotFound } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { requireCan } from '../access/permissions.js';
import { withTx } from '../core/db-tx.js';
import type { Notification, Row } from '../../db/models.js';

type NotificationRow = Row<Notification>;

export function notificationDto(r: NotificationRow) {
  return { id: r.id, kind: r.kind, title: r.title, body: r.body, read: r.read_at !== null, readAt: r.read_at, createdAt: r.created_at };
}

export interface NotificationFilter {
  unread?: boolean;
  limit: number;
  /** The last id seen: the list runs newest first. */
  cursor?: number | null;
}

/** The caller's own notifications, newest first, with the count of unread ones. */
export async function listNotifications(ctx: BankContext, actor: Actor, f: NotificationFilter) {
  requireCan(actor, 'notifications.own');
  const userId = actor.userId ?? -1;
  let q = ctx.db<NotificationRow>('notifications').where({ user_id: userId });
  if (f.unread) q = q.whereNull('read_at');
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const [{ n }] = await ctx.db('notifications').where({ user_id: userId }).whereNull('read_at').count({ n: '*' });
  const items = rows.slice(0, f.limit).map(notificationDto);
  return { ...toPage(rows.length, items, f.limit), unread: Number(n) };
}

/**
 * Marks one of the caller's notifications read (someone else's is not found). Marking it
 * again changes nothing. The user's other tabs hear `notification.read`.
 */
export async function markNotificationRead(ctx: BankContext, actor: Actor, id: number): Promise<void> {
  requireCan(actor, 'notifications.own');
  await withTx(ctx, async (t) => {
    const row = await t
      .q<NotificationRow>('notifications')
      .where({ id, user_id: actor.userId ?? -1 })
      .first();
    if (!row) throw new NotFound('Notification');
    if (row.read_at !== null) return;
    await t.q('notifications').where({ id }).whereNull('read_at').update({ read_at: t.now });
    recordEvent(t, 'notification.read', [rooms.user(row.user_id)], { id });
    await audit(t, actor, { action: 'notification.read', entity: 'notification', entityId: id });
  });
}
