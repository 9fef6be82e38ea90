import { describe, expect, it } from 'vitest';
import { groupNotifications, noticeLink } from '../../client/src/notices.js';
import type { Notification } from '../../client/src/types.js';

const at = (h: number, day = '2026-12-01') => `${day}T${String(h).padStart(2, '0')}:00:00.000Z`;
const n = (id: number, kind: string, title: string, body: string, createdAt: string, read = false): Notification => ({
  id,
  kind,
  title,
  body,
  createdAt,
  read,
});
const accounts = [
  { id: 7, number: '646716012927' },
  { id: 8, number: '400944164427' },
];

describe('notifications for people', () => {
  it('folds a morning of deposits to one account into one line, newest text first', () => {
    const items = [
      ...Array.from({ length: 5 }, (_, i) =>
        n(i + 1, 'deposit', 'Deposit received', `₹${i + 1}00.00 was deposited to account ••2927.`, at(3 + i)),
      ),
      n(6, 'deposit', 'Deposit received', '₹50.00 was deposited to account ••4427.', at(9)),
      n(7, 'ticket_reply', 'New reply on ticket #12', 'Cheque book: on its way', at(10)),
      n(8, 'security', 'Password changed', 'Your password was changed.', at(11), true),
    ];
    const groups = groupNotifications(items, { staff: false, accounts, now: new Date('2026-12-01T12:00:00Z') });
    expect(groups.map((g) => [g.title, g.items.length, g.unread, g.link])).toEqual([
      ['Password changed', 1, 0, '/security'],
      ['New reply on ticket #12', 1, 1, '/tickets/12'],
      ['Deposit received', 1, 1, '/accounts/8'],
      ['5 cash deposits', 5, 5, '/accounts/7'],
    ]);
    expect(groups[3].body).toBe('₹500.00 was deposited to account ••2927.');
  });

  it('does not fold across days, nor kinds that each need attention', () => {
    const items = [
      n(1, 'deposit', 'Deposit received', '₹1.00 to ••2927.', at(10, '2026-11-30')),
      n(2, 'deposit', 'Deposit received', '₹2.00 to ••2927.', at(10, '2026-12-01')),
      n(3, 'transaction.rejected', 'Transaction rejected', 'Your transfer of ₹5.00 was rejected.', at(11)),
      n(4, 'transaction.rejected', 'Transaction rejected', 'Your transfer of ₹6.00 was rejected.', at(12)),
    ];
    expect(groupNotifications(items, { staff: false, accounts }).map((g) => g.items.length)).toEqual([1, 1, 1, 1]);
  });

  it('links staff to the desk and never to a customer page', () => {
    expect(noticeLink({ kind: 'ticket_customer_reply', title: 'Customer replied on ticket #31', body: 'x' }, { staff: true })).toBe(
      '/staff/tickets/31',
    );
    expect(noticeLink({ kind: 'deposit', title: 'Deposit received', body: 'to ••9999' }, { staff: true, accounts })).toBeNull();
    expect(noticeLink({ kind: 'deposit', title: 'Deposit received', body: 'to ••9999' }, { staff: false, accounts })).toBe('/accounts');
  });
});
