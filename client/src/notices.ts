// Notifications for people: grouped (a morning of deposits is one line, not 57), linked to what
// they are about, and named in words rather than by their internal kind.

import { localDay, dayLabel } from './format';
import type { Notification } from './types';

export interface NoticeGroup {
  key: string;
  kind: string;
  /** "3 deposits" or the single notification's own title. */
  title: string;
  /** The newest one's text. */
  body: string;
  at: string;
  day: string;
  dayLabel: string;
  items: Notification[];
  unread: number;
  /** Where to go to see what it is about (null: nothing to open). */
  link: string | null;
}

/** What a kind of notification is, in words, singular and plural. */
const KIND_WORDS: Record<string, [string, string]> = {
  deposit: ['Cash deposit', 'cash deposits'],
  transfer_received: ['Money received', 'payments received'],
  interest: ['Interest credited', 'interest credits'],
  'transaction.approved': ['Transfer approved', 'transfers approved'],
  'transaction.rejected': ['Transfer not approved', 'transfers not approved'],
  'transaction.cancelled': ['Transfer cancelled', 'transfers cancelled'],
  ticket_reply: ['Reply from the bank', 'replies from the bank'],
  ticket_resolved: ['Support ticket resolved', 'tickets resolved'],
  ticket_customer_reply: ['Customer replied', 'customer replies'],
  ticket_assigned: ['Ticket assigned to you', 'tickets assigned to you'],
  ticket_escalated: ['Ticket overdue', 'tickets overdue'],
  security: ['Security notice', 'security notices'],
  new_device_login: ['New sign-in', 'new sign-ins'],
  alert: ['Balance alert', 'balance alerts'],
};

/** Kinds that may be folded together when several arrive on one day. */
const GROUPABLE = new Set(['deposit', 'transfer_received', 'interest', 'ticket_customer_reply', 'ticket_reply', 'alert']);

export function kindWords(kind: string, n = 1): string {
  const w = KIND_WORDS[kind];
  if (!w) return n === 1 ? 'Notice' : 'notices';
  return n === 1 ? w[0] : w[1];
}

const MONEY_KINDS = new Set([
  'deposit',
  'transfer_received',
  'interest',
  'transaction.approved',
  'transaction.rejected',
  'transaction.cancelled',
  'alert',
]);

/**
 * Where a notification leads. Tickets by the number in the text ("ticket #12"); money to the
 * account whose last four digits the text names (••2927), if it is one of `accounts`.
 */
export function noticeLink(
  n: Pick<Notification, 'kind' | 'title' | 'body'>,
  opts: { staff: boolean; accounts?: Array<{ id: number; number: string }> },
): string | null {
  const text = `${n.title} ${n.body}`;
  if (n.kind.startsWith('ticket_')) {
    const m = /#(\d+)/.exec(text);
    if (m) return opts.staff ? `/staff/tickets/${m[1]}` : `/tickets/${m[1]}`;
    return opts.staff ? '/staff/tickets' : '/tickets';
  }
  if (MONEY_KINDS.has(n.kind)) {
    const tail = /••(\d{4})/.exec(text)?.[1];
    const account = tail ? opts.accounts?.find((a) => a.number.endsWith(tail)) : undefined;
    if (account) return `/accounts/${account.id}`;
    return opts.staff ? null : '/accounts';
  }
  if (n.kind === 'security' || n.kind === 'new_device_login') return '/security';
  return null;
}

const when = (n: Notification) => n.createdAt ?? n.at ?? '';
const isUnread = (n: Notification) => !(n.read === true || !!n.readAt);

/**
 * Newest first; notifications of a groupable kind on the same day, about the same thing (same
 * link), become one group. Others stay one per group.
 */
export function groupNotifications(
  items: Notification[],
  opts: { staff: boolean; accounts?: Array<{ id: number; number: string }>; now?: Date },
): NoticeGroup[] {
  const sorted = [...items].sort((a, b) => when(b).localeCompare(when(a)) || b.id - a.id);
  const groups: NoticeGroup[] = [];
  const byKey = new Map<string, NoticeGroup>();
  for (const n of sorted) {
    const at = when(n);
    const day = at ? localDay(at) : '';
    const link = noticeLink(n, opts);
    const key = GROUPABLE.has(n.kind) ? `${n.kind}|${day}|${link ?? ''}` : `one|${n.id}`;
    let g = byKey.get(key);
    if (!g) {
      g = {
        key,
        kind: n.kind,
        title: n.title,
        body: n.body,
        at,
        day,
        dayLabel: day ? dayLabel(day, opts.now) : '',
        items: [],
        unread: 0,
        link,
      };
      byKey.set(key, g);
      groups.push(g);
    }
    g.items.push(n);
    if (isUnread(n)) g.unread += 1;
  }
  for (const g of groups) if (g.items.length > 1) g.title = `${g.items.length} ${kindWords(g.kind, g.items.length)}`;
  return groups;
}
