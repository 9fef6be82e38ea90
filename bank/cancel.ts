import type { Actor, BankContext } from './context.js';
import { NotFound, RuleViolation } from './errors.js';
import { displayAmount } from './money.js';
import { type AccountRow, lockAccounts } from './accounts-core.js';
import { audit } from './audit.js';
import { recordEvent, rooms } from './events.js';
import { balanceUpdated, partyRooms } from './journal.js';
import { transactionDto, type TransactionDto, type TransactionRow } from './ledger.js';
import { notifyCustomers } from './notify.js';
import { requireCan } from './permissions.js';
import { withTx } from './tx.js';

/**
 * Its maker withdraws a transaction still waiting for approval: the hold is released, nothing
 * is posted, the status becomes `cancelled`. The parties and the managers hear of it live
 * (`transaction.cancelled`). A customer who is not a party is told it does not exist; anyone
 * else who is not the maker, or a transaction no longer pending, is a 422 `conflict`.
 */
export async function cancelTransaction(ctx: BankContext, actor: Actor, txId: number): Promise<TransactionDto> {
  requireCan(actor, 'transactions.read');
  return withTx(ctx, async (t) => {
    let q = t.q<TransactionRow>('transactions').where({ id: txId });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const tx = await q.first();
    if (!tx) throw new NotFound('Transaction');
    const ids = [tx.from_account_id, tx.to_account_id].filter((x): x is number => x !== null);
    const accts = await t.q<AccountRow>('accounts').whereIn('id', ids);
    if (actor.role === 'customer' && !accts.some((a) => a.kind === 'customer' && a.customer_id === actor.customerId)) throw new NotFound('Transaction');
    if (tx.created_by === null || tx.created_by !== actor.userId) throw new RuleViolation('conflict', 'Only the person who made this transaction can cancel it');
    if (tx.status !== 'pending_approval') throw new RuleViolation('conflict', `Transaction ${txId} is not waiting for approval (it is ${tx.status})`);

    const locked = await lockAccounts(t, ids);
    const src = locked.get(tx.from_account_id!)!;
    const numbers = new Map([...locked.values()].map((a) => [a.id, a.number]));
    const before = transactionDto(tx, numbers);
    src.held -= tx.amount;
    await t.q('accounts').where({ id: src.id }).update({ held: src.held });
    tx.status = 'cancelled';
    Object.assign(tx, { decided_by: actor.userId, decided_at: t.now });
    await t.q('transactions').where({ id: tx.id }).update({ status: 'cancelled', decided_by: tx.decided_by, decided_at: tx.decided_at });
    const dto = transactionDto(tx, numbers);
    recordEvent(t, 'transaction.cancelled', [...partyRooms([...locked.values()]), rooms.managers], { transaction: dto });
    balanceUpdated(t, src, tx.id);
    // A customer cancelling their own transfer knows; when staff cancel theirs, the owner is told.
    if (actor.role !== 'customer') await notifyCustomers(t, [{
      customerId: src.customer_id, kind: 'transaction.cancelled', title: 'Transfer cancelled',
      body: `Your ${tx.kind} of ${displayAmount(tx.amount, tx.currency)} was cancelled; the held money is available again.`,
    }]);
    await audit(t, actor, { action: `${tx.kind}.cancelled`, entity: 'transaction', entityId: tx.id, before, after: dto });
    return dto;
  });
}
