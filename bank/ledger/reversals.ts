import type { Actor, BankContext } from '../core/context.js';
import { InsufficientFunds, Invalid, NotFound, RuleViolation } from '../core/errors.js';
import { type AccountRow, balanceFloor, lockAccounts } from '../accounts/records.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { balanceUpdated, partyRooms, type TransactionDto } from './journal.js';
import { transactionDto, type TransactionRow } from './transactions.js';
import { displayAmount, formatAmount } from '../core/money.js';
import { notifyCustomers } from '../notifications/send.js';
import { requireCan } from '../access/permissions.js';
import { type Tx, withTx } from '../core/db-tx.js';
import { isUniqueViolation } from '../core/checks.js';

const REASON_MAX = 400;

const numbersOf = (accounts: AccountRow[]) => new Map(accounts.filter((a) => a.kind === 'customer').map((a) => [a.id, a.number]));

/**
 * A teller asks for a posted transaction to be reversed (maker). The reversal is a
 * transaction of kind `reversal` whose legs are the original's, swapped; it waits for a
 * manager other than the maker (the approvals queue), and the money it would take back is
 * held on the account to be debited until then. A transaction is reversed at most once: a
 * reversal waiting or posted blocks another (a rejected one does not).
 */
export async function requestReversal(ctx: BankContext, actor: Actor, transactionId: number, rawReason: string): Promise<TransactionDto> {
  requireCan(actor, 'transactions.reverse');
  const reason = rawReason.trim();
  if (!reason || reason.length > REASON_MAX) throw new Invalid(`reason must be 1 to ${REASON_MAX} characters`, { fields: ['reason'] });
  try {
    return await withTx(ctx, async (t) => {
      let q = t.q<TransactionRow>('transactions').where({ id: transactionId });
      if (t.ctx.dialect === 'pg') q = q.forUpdate();
      const orig = await q.first();
      if (!orig) throw new NotFound('Transaction');
      if (orig.kind === 'reversal')
        throw new RuleViolation('conflict', `Transaction ${transactionId} is itself a reversal; it cannot be reversed`);
      if (orig.status !== 'posted')
        throw new RuleViolation(
          'conflict',
          `Transaction ${transactionId} is not posted (it is ${orig.status}); only a posted transaction can be reversed`,
        );
      const live = orig.reversed_by
        ? { id: orig.reversed_by }
        : await t.q('transactions').where({ reversal_of: transactionId }).whereIn('status', ['pending_approval', 'posted']).first('id');
      if (live)
        throw new RuleViolation(
          'already_reversed',
          `Transaction ${transactionId} is already reversed or has a reversal awaiting approval (#${live.id})`,
          { reversalId: Number(live.id) },
        );
      // The original credited `to` and debited `from`: the reversal debits `to` and credits `from`.
      const locked = await lockAccounts(t, [orig.from_account_id!, orig.to_account_id!]);
      const src = locked.get(orig.to_account_id!)!;
      const dst = locked.get(orig.from_account_id!)!;
      if (src.status === 'closed' || dst.status === 'closed')
        throw new RuleViolation('account_closed', 'One of the accounts of this transaction is closed');
      if (src.kind === 'customer' && src.balance - src.held - orig.amount < balanceFloor(src.rule)) {
        throw new InsufficientFunds(`Account ${src.number} does not hold enough to take back ${formatAmount(orig.amount, orig.currency)}`, {
          accountNumber: src.number,
          available: formatAmount(src.balance - src.held, src.currency),
        });
      }
      src.held += orig.amount;
      await t.q('accounts').where({ id: src.id }).update({ held: src.held });
      const row = {
        kind: 'reversal',
        status: 'pending_approval',
        amount: orig.amount,
        currency: orig.currency,
        from_account_id: src.id,
        to_account_id: dst.id,
        memo: `Reversal of #${orig.id}: ${reason}`,
        external_ref: null,
        created_by: actor.userId,
        decided_by: null,
        decision_note: null,
        created_at: t.now,
        posted_at: null,
        decided_at: null,
        reversal_of: orig.id,
        reversed_by: null,
      };
      const [ins] = await t.q('transactions').insert(row, ['id']);
      const transaction = { id: Number(typeof ins === 'object' ? ins.id : ins), ...row } as TransactionRow;
      const dto = transactionDto(transaction, numbersOf([src, dst]));
      recordEvent(t, 'transaction.pending', [...partyRooms([src, dst]), rooms.managers], { transaction: dto });
      balanceUpdated(t, src, transaction.id);
      await audit(t, actor, { action: 'reversal.requested', entity: 'transaction', entityId: transaction.id, after: { ...dto, reason } });
      return dto;
    });
  } catch (err) {
    // Two tellers at once: the unique index on live reversals lets only one through.
    if (isUniqueViolation(err)) throw new RuleViolation('already_reversed', `Transaction ${transactionId} already has a reversal`);
    throw err;
  }
}

/**
 * Called by the approval, in its transaction, once a reversal's entries are posted: the
 * original names its reversal, and the customers on both sides are told.
 */
export async function reversalPosted(t: Tx, reversal: TransactionRow): Promise<void> {
  if (reversal.reversal_of == null) return;
  await t.q('transactions').where({ id: reversal.reversal_of }).update({ reversed_by: reversal.id });
  const accts = await t.q<AccountRow>('accounts').whereIn('id', [reversal.from_account_id!, reversal.to_account_id!]);
  const orig = await t.q<TransactionRow>('transactions').where({ id: reversal.reversal_of }).first();
  if (orig)
    recordEvent(t, 'transaction.reversed', partyRooms(accts), {
      transaction: transactionDto(orig, numbersOf(accts)),
      reversalId: reversal.id,
    });
  await notifyCustomers(
    t,
    accts
      .filter((a) => a.kind === 'customer')
      .map((a) => ({
        customerId: a.customer_id,
        kind: 'reversal',
        title: 'Transaction reversed',
        body: `The bank reversed transaction #${reversal.reversal_of} (${displayAmount(reversal.amount, reversal.currency)}) with transaction #${reversal.id}.`,
      })),
  );
}
