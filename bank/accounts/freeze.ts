import type { Actor, BankContext } from '../core/context.js';
import { isStaff } from '../core/context.js';
import { Forbidden, NotFound, RuleViolation } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { maskedAccount } from '../core/money.js';
import { notifyCustomers } from '../notifications/send.js';
import { requireCan } from '../access/permissions.js';
import { type AccountRow, accountDto } from './records.js';
import { withTx } from '../core/db-tx.js';

/**
 * A customer who froze their own account (a lost card, say) still receives money: only
 * debits are refused. A freeze by the bank stops both directions.
 */
export function creditsWhileFrozen(a: Pick<AccountRow, 'status' | 'frozen_by'>, direction: 'debit' | 'credit'): boolean {
  return direction === 'credit' && a.status === 'frozen' && a.frozen_by === 'customer';
}

/**
 * Freezes or unfreezes an account: its owner (a customer freeze) or staff (a bank freeze,
 * which also takes over a customer's). A customer lifts only their own freeze. Asking for
 * the state the account is already in changes nothing.
 */
export async function setFrozen(ctx: BankContext, actor: Actor, id: number, freeze: boolean, reason?: string | null) {
  requireCan(actor, 'accounts.freeze');
  const note = reason?.trim() || null;
  return withTx(ctx, async (t) => {
    let q = t.q<AccountRow>('accounts').where({ id, kind: 'customer' });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const a = await q.first();
    if (!a || (actor.role === 'customer' && a.customer_id !== actor.customerId)) throw new NotFound('Account');
    if (a.status === 'closed') throw new RuleViolation('account_closed', `Account ${a.number} is closed`);
    const by = isStaff(actor) ? 'bank' : 'customer';
    const current = a.status === 'frozen' ? (a.frozen_by ?? 'bank') : null;
    let next: Pick<AccountRow, 'status' | 'frozen_by'>;
    if (freeze) {
      if (current === 'bank' || current === by) return accountDto(a);
      next = { status: 'frozen', frozen_by: by };
    } else {
      if (current === null) return accountDto(a);
      if (by === 'customer' && current === 'bank') throw new Forbidden('This account was frozen by the bank; only the bank can lift it');
      next = { status: 'active', frozen_by: null };
    }
    const before = accountDto(a);
    await t.q('accounts').where({ id }).update(next);
    const after = accountDto({ ...a, ...next });
    const changes = { status: [a.status, next.status], frozen_by: [current, next.frozen_by] };
    await t.q('account_edits').insert({ account_id: id, by: actor.userId, changes: JSON.stringify(changes), note, at: t.now });
    recordEvent(t, 'account.updated', [rooms.customer(a.customer_id!), rooms.account(a.id), rooms.staff], { account: after, changes });
    await notifyCustomers(t, [
      {
        customerId: a.customer_id,
        kind: 'security',
        title: freeze ? 'Account frozen' : 'Account unfrozen',
        body: freeze
          ? `Account ${maskedAccount(a.number)} was frozen ${by === 'bank' ? 'by the bank' : 'at your request'}: no money can leave it${by === 'customer' ? ' (money can still come in)' : ''} until it is unfrozen.`
          : `Account ${maskedAccount(a.number)} was unfrozen and works as usual again.`,
      },
    ]);
    await audit(t, actor, {
      action: freeze ? 'account.frozen' : 'account.unfrozen',
      entity: 'account',
      entityId: id,
      before,
      after: { ...after, reason: note },
    });
    return after;
  });
}
