import type { Actor, BankContext } from '../core/context.js';
import { NotFound, RuleViolation } from '../core/errors.js';
import { displayAmount } from '../core/money.js';
import { type AccountRow, lockAccounts } from '../accounts/records.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { balanceUpdated, partyRooms } from './journal.js';
import { transactionDto, type TransactionDto, type TransactionRow } from './transactions.js';
import { notifyCustomers } from '../notifications/send.js';
import { requireCan } from '../access/permissions.js';
import { withTx } from '../core/db-tx.js';

/**
 * Its maker withdraws a transaction still waiting for approval: the hold is released, nothing
 * is posted, the status becomes `cancelled`. The parties and the managers hear of it live
 * (`transaction.cancelled`). A customer who is not a party is told it does not exist; anyone
 * else who is not the maker, or a transaction no longer pending, is a 422 `conflict`.
 */
export async function cancelTransaction(ctx: BankContext, actor: Actor, transactionId: number): Promise<TransactionDto> {
  requireCan(actor, 'transactions.read');
  return withTx(ctx, async (t) => {
    let q = t.q<TransactionRow>('transactions').where({ id: transactionId });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const transaction = await q.first();
    if (!transaction) throw new NotFound('Transaction');
    const ids = [transaction.from_account_id, transaction.to_account_id].filter((x): x is number => x !== null);
    const accts = await t.q<AccountRow>('accounts').whereIn('id', ids);
    if (actor.role === 'customer' && !accts.some((a) => a.kind === 'customer' && a.customer_id === actor.customerId))
      throw new NotFound('Transaction');
    if (transaction.created_by === null || transaction.created_by !== actor.userId)
      throw new RuleViolation('conflict', 'Only the person who made this transaction can cancel it');
    if (transaction.status !== 'pending_approval')
      throw new RuleViolation('conflict', `Transaction ${transactionId} is not waiting for approval (it is ${transaction.status})`);

    const locked = await lockAccounts(t, ids);
    const src = locked.get(transaction.from_account_id!)!;
    const numbers = new Map([...locked.values()].map((a) => [a.id, a.number]));
    const before = transactionDto(transaction, numbers);
    src.held -= transaction.amount;
    await t.q('accounts').where({ id: src.id }).update({ held: src.held });
    transaction.status = 'cancelled';
    Object.assign(transaction, { decided_by: actor.userId, decided_at: t.now });
    await t
      .q('transactions')
      .where({ id: transaction.id })
      .update({ status: 'cancelled', decided_by: transaction.decided_by, decided_at: transaction.decided_at });
    const dto = transactionDto(transaction, numbers);
    recordEvent(t, 'transaction.cancelled', [...partyRooms([...locked.values()]), rooms.managers], { transaction: dto });
    balanceUpdated(t, src, transaction.id);
    // A customer cancelling their own transfer knows; when staff cancel theirs, the owner is told.
    if (actor.role !== 'customer')
      await notifyCustomers(t, [
        {
          customerId: src.customer_id,
          kind: 'transaction.cancelled',
          title: 'Transfer cancelled',
          body: `Your ${transaction.kind} of ${displayAmount(transaction.amount, transaction.currency)} was cancelled; the held money is available again.`,
        },
      ]);
    await audit(t, actor, { action: `${transaction.kind}.cancelled`, entity: 'transaction', entityId: transaction.id, before, after: dto });
    return dto;
  });
}
