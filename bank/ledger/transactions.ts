import type { Actor, BankContext } from '../core/context.js';
import { isStaff } from '../core/context.js';
import { DomainError, Forbidden, InsufficientFunds, Invalid, NotFound, RuleViolation, Conflict } from '../core/errors.js';
import { displayAmount, formatAmount, maskedAccount, parseAmount } from '../core/money.js';
import { type AccountRow, type LockedAccount, balanceFloor, lockAccounts, pickHotAccount } from '../accounts/records.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import type { IdemRequest, IdemResult } from './idempotency.js';
import { writerOf, type GroupAccounts } from './writer.js';
import { Journal, balanceUpdated, partyRooms, type Move, type TransactionDto } from './journal.js';
import { requireCan } from '../access/permissions.js';
import { notifyCustomers } from '../notifications/send.js';
import { creditsWhileFrozen } from '../accounts/freeze.js';
import { evaluateAlerts } from '../accounts/alerts.js';
import { reversalPosted } from './reversals.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Row, Transaction } from '../../db/models.js';

export type { TransactionDto } from './journal.js';

export type TransactionKind = Transaction['kind'];
export type TransactionStatus = Transaction['status'];

export type TransactionRow = Row<Transaction>;

export function transactionDto(r: TransactionRow, numbers: Map<number, string>): TransactionDto {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    amount: formatAmount(r.amount, r.currency),
    currency: r.currency,
    // Bank-owned accounts (cash, interest expense) are not shown to clients.
    fromAccountNumber:
      (r.kind === 'transfer' || r.kind === 'withdrawal' || r.kind === 'reversal') && r.from_account_id !== null
        ? (numbers.get(r.from_account_id) ?? null)
        : null,
    toAccountNumber: r.kind !== 'withdrawal' && r.to_account_id !== null ? (numbers.get(r.to_account_id) ?? null) : null,
    memo: r.memo,
    createdAt: r.created_at,
    postedAt: r.posted_at,
    reversalOf: r.reversal_of == null ? null : Number(r.reversal_of),
    reversedBy: r.reversed_by == null ? null : Number(r.reversed_by),
  };
}

const MEMO_MAX = 500;

function cleanMemo(memo: unknown): string {
  if (memo === undefined || memo === null) return '';
  if (typeof memo !== 'string' || memo.length > MEMO_MAX)
    throw new Invalid(`memo must be a string of at most ${MEMO_MAX} characters`, { fields: ['memo'] });
  return memo;
}

/** Customers see only their own accounts; anything else is "not found" so ids cannot be probed. */
function visible<A extends Pick<AccountRow, 'kind' | 'customer_id'>>(actor: Actor, a: A | undefined): a is A {
  if (!a || a.kind !== 'customer') return false;
  return actor.role !== 'customer' || (actor.customerId !== null && a.customer_id === actor.customerId);
}

function assertUsable(a: AccountRow, direction: 'debit' | 'credit', opts: { allowFrozen?: boolean } = {}) {
  if (a.status === 'closed') throw new RuleViolation('account_closed', `Account ${a.number} is closed`, { accountNumber: a.number });
  if (a.status === 'frozen' && !opts.allowFrozen && !creditsWhileFrozen(a, direction))
    throw new RuleViolation('account_frozen', `Account ${a.number} is frozen`, { accountNumber: a.number, direction });
}

function assertFunds(a: LockedAccount, amount: number, opts: { payoutToZero?: boolean } = {}) {
  const after = a.balance - a.held - amount;
  // A teller paying out the whole balance (to close the account) may go below the minimum.
  if (opts.payoutToZero && a.held === 0 && after === 0) return;
  const floor = balanceFloor(a.rule);
  if (after < floor) {
    throw new InsufficientFunds(`Insufficient funds in account ${a.number}`, {
      accountNumber: a.number,
      available: formatAmount(a.balance - a.held, a.currency),
      floor: formatAmount(floor, a.currency),
    });
  }
}

const needsApproval = (a: LockedAccount, amount: number) =>
  !!a.rule && a.rule.approval_threshold !== null && amount > a.rule.approval_threshold;

/** Writes the postings of one transaction and moves the balances; the legs sum to zero. */
async function post(t: Tx, transactionId: number, legs: { account: AccountRow; amount: number }[]): Promise<void> {
  if (legs.reduce((s, l) => s + l.amount, 0) !== 0) throw new Error('unbalanced transaction');
  for (const leg of legs) {
    leg.account.balance += leg.amount;
    await t.q('accounts').where({ id: leg.account.id }).update({ balance: leg.account.balance });
  }
  const entries = legs.map((l) => ({
    transaction_id: transactionId,
    account_id: l.account.id,
    amount: l.amount,
    balance_after: l.account.balance,
    at: t.now,
  }));
  await t.q('entries').insert(entries);
  await evaluateAlerts(
    t,
    entries,
    legs.map((l) => l.account),
  );
}

// Bank-owned accounts (cash, interest expense) are not shown to clients: a reversal may name one.
const numbersOf = (accounts: AccountRow[]) => new Map(accounts.filter((a) => a.kind === 'customer').map((a) => [a.id, a.number]));

export interface MoveInput {
  accountId: number;
  amount: string;
  memo?: string;
}

/** A customer account the actor may see, from the group's locked accounts. */
function ownAccount(actor: Actor, g: GroupAccounts, accountId: number): LockedAccount {
  const acct = g.byId(accountId);
  if (!visible(actor, acct)) throw new NotFound('Account');
  return acct;
}

/** The bytes a movement request adds to a group: its memo and key, plus the fixed rest. */
const sizeOf = (memo: unknown, idem?: IdemRequest | null) => 256 + (typeof memo === 'string' ? memo.length : 0) + (idem?.key.length ?? 0);

/**
 * A counter movement on one customer account against a cash shard of its currency: the
 * account must be visible to the actor, the amount and memo valid; `build` adds its own rules.
 */
function counterMove(
  ctx: BankContext,
  actor: Actor,
  input: MoveInput,
  idem: IdemRequest | null | undefined,
  build: (acct: LockedAccount, cash: LockedAccount, amount: number, memo: string) => Move,
): Promise<IdemResult<TransactionDto>> {
  return writerOf(ctx).submit({
    actor,
    idem: idem ?? null,
    accountIds: [input.accountId],
    cashFor: input.accountId,
    bytes: sizeOf(input.memo, idem),
    plan: (g) => {
      const acct = ownAccount(actor, g, input.accountId);
      return build(acct, g.cash(acct.currency)!, parseAmount(input.amount, acct.currency), cleanMemo(input.memo));
    },
  });
}

export async function deposit(
  ctx: BankContext,
  actor: Actor,
  input: MoveInput,
  idem?: IdemRequest | null,
): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.deposit');
  return counterMove(ctx, actor, input, idem, (acct, cash, amount, memo) => {
    assertUsable(acct, 'credit');
    return {
      kind: 'deposit',
      from: cash,
      to: acct,
      amount,
      memo,
      pending: false,
      notify: {
        customerId: acct.customer_id,
        kind: 'deposit',
        title: 'Deposit received',
        body: `${displayAmount(amount, acct.currency)} was deposited to account ${maskedAccount(acct.number)}.`,
      },
    };
  });
}

export async function withdraw(
  ctx: BankContext,
  actor: Actor,
  input: MoveInput,
  idem?: IdemRequest | null,
): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.withdraw');
  return counterMove(ctx, actor, input, idem, (acct, cash, amount, memo) => {
    assertUsable(acct, 'debit');
    assertFunds(acct, amount, { payoutToZero: isStaff(actor) });
    return { kind: 'withdrawal', from: acct, to: cash, amount, memo, pending: needsApproval(acct, amount) };
  });
}

async function single(t: Tx, actor: Actor, move: Move): Promise<TransactionDto> {
  const journal = new Journal();
  journal.add(move);
  return (await journal.flush(t, actor))[0];
}

export interface TransferInput {
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  memo?: string;
}

export async function transfer(
  ctx: BankContext,
  actor: Actor,
  input: TransferInput,
  idem?: IdemRequest | null,
): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.transfer');
  return writerOf(ctx).submit({
    actor,
    idem: idem ?? null,
    accountIds: [input.fromAccountId],
    accountNumbers: [input.toAccountNumber],
    bytes: sizeOf(input.memo, idem),
    // The source must be visible to the caller before the destination is looked at.
    plan: (g) => planTransfer(actor, g.byId(input.fromAccountId), g.byNumber(input.toAccountNumber), input.amount, input.memo),
  });
}

/**
 * Checks a transfer between two locked accounts against every rule and returns the
 * movement to post (or hold, above the source type's approval threshold).
 */
export function planTransfer(
  actor: Actor,
  src: LockedAccount | undefined,
  dst: LockedAccount | undefined,
  rawAmount: unknown,
  rawMemo: unknown,
): Move {
  if (!visible(actor, src)) throw new NotFound('Source account');
  if (!dst || dst.kind !== 'customer') throw new NotFound('Destination account');
  if (src.id === dst.id) throw new RuleViolation('same_account', 'Cannot transfer to the same account');
  const amount = parseAmount(rawAmount, src.currency);
  const memo = cleanMemo(rawMemo);
  if (src.currency !== dst.currency)
    throw new RuleViolation('currency_mismatch', `Cannot transfer ${src.currency} to a ${dst.currency} account`);
  assertUsable(src, 'debit');
  assertUsable(dst, 'credit');
  assertFunds(src, amount);
  const pending = needsApproval(src, amount);
  const notify =
    !pending && dst.customer_id !== src.customer_id
      ? {
          customerId: dst.customer_id,
          kind: 'transfer_received',
          title: 'Money received',
          body: `${displayAmount(amount, dst.currency)} arrived in account ${maskedAccount(dst.number)} from ${maskedAccount(src.number)}.`,
        }
      : null;
  return { kind: 'transfer', from: src, to: dst, amount, memo, pending, notify };
}

async function loadPending(t: Tx, transactionId: number): Promise<TransactionRow> {
  let q = t.q<TransactionRow>('transactions').where({ id: transactionId });
  if (t.ctx.dialect === 'pg') q = q.forUpdate();
  const transaction = await q.first();
  if (!transaction) throw new NotFound('Transaction');
  if (transaction.status !== 'pending_approval')
    throw new Conflict(`Transaction ${transactionId} is not pending approval (it is ${transaction.status})`);
  return transaction;
}

export async function approve(ctx: BankContext, actor: Actor, transactionId: number, note?: string | null): Promise<TransactionDto> {
  requireCan(actor, 'approvals.decide');
  return decide(ctx, actor, transactionId, 'approve', note);
}

export async function reject(ctx: BankContext, actor: Actor, transactionId: number, note?: string | null): Promise<TransactionDto> {
  requireCan(actor, 'approvals.decide');
  return decide(ctx, actor, transactionId, 'reject', note);
}

async function decide(
  ctx: BankContext,
  actor: Actor,
  transactionId: number,
  decision: 'approve' | 'reject',
  note?: string | null,
): Promise<TransactionDto> {
  const decisionNote = note === undefined || note === null ? null : cleanMemo(note);
  return withTx(ctx, async (t) => {
    const transaction = await loadPending(t, transactionId);
    if (transaction.created_by !== null && transaction.created_by === actor.userId)
      throw new Forbidden('You cannot decide on a transaction you made');
    const locked = await lockAccounts(t, [transaction.from_account_id!, transaction.to_account_id!]);
    const src = locked.get(transaction.from_account_id!)!;
    const dst = locked.get(transaction.to_account_id!)!;
    const before = transactionDto(transaction, numbersOf([src, dst]));
    src.held -= transaction.amount;
    await t.q('accounts').where({ id: src.id }).update({ held: src.held });
    if (decision === 'approve') {
      // The funds were held, so only the accounts' state can stop it now.
      assertUsable(src, 'debit');
      assertUsable(dst, 'credit');
      Object.assign(transaction, { status: 'posted', posted_at: t.now });
      await post(t, transaction.id, [
        { account: src, amount: -transaction.amount },
        { account: dst, amount: transaction.amount },
      ]);
      if (transaction.kind === 'reversal') await reversalPosted(t, transaction);
    } else {
      transaction.status = 'rejected';
    }
    Object.assign(transaction, { decided_by: actor.userId, decided_at: t.now, decision_note: decisionNote });
    await t.q('transactions').where({ id: transaction.id }).update({
      status: transaction.status,
      posted_at: transaction.posted_at,
      decided_by: transaction.decided_by,
      decided_at: transaction.decided_at,
      decision_note: transaction.decision_note,
    });
    const dto = transactionDto(transaction, numbersOf([src, dst]));
    const type = decision === 'approve' ? 'transaction.approved' : 'transaction.rejected';
    recordEvent(t, type, [...partyRooms([src, dst]), rooms.managers], { transaction: dto });
    for (const a of decision === 'approve' ? [src, dst] : [src]) balanceUpdated(t, a, transaction.id);
    await notifyCustomers(t, [
      {
        customerId: src.customer_id,
        kind: type,
        title: decision === 'approve' ? 'Transaction approved' : 'Transaction rejected',
        body: `Your ${transaction.kind} of ${displayAmount(transaction.amount, transaction.currency)} was ${decision === 'approve' ? 'approved' : 'rejected'}${decisionNote ? `: ${decisionNote}` : '.'}`,
      },
    ]);
    await audit(t, actor, {
      action: `${transaction.kind}.${decision === 'approve' ? 'approved' : 'rejected'}`,
      entity: 'transaction',
      entityId: transaction.id,
      before,
      after: dto,
    });
    return dto;
  });
}

/**
 * Posts interest (bank interest expense → customer) once per account and period; a
 * second call for the same period returns the first transaction.
 */
export async function postInterestIn(
  t: Tx,
  actor: Actor,
  input: { accountId: number; amountMinor: number; period: string; memo?: string },
): Promise<{ transaction: TransactionDto; created: boolean } | null> {
  const ref = `interest:${input.accountId}:${input.period}`;
  const existing = await t.q<TransactionRow>('transactions').where({ external_ref: ref }).first();
  if (existing) {
    const accts = await t.q<AccountRow>('accounts').whereIn('id', [existing.from_account_id!, existing.to_account_id!]);
    return { transaction: transactionDto(existing, numbersOf(accts)), created: false };
  }
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) return null;
  const probe = await t.q<AccountRow>('accounts').where({ id: input.accountId }).first();
  if (!probe || probe.kind !== 'customer') throw new NotFound('Account');
  const expId = await pickHotAccount(t, 'interest_expense', probe.currency);
  const locked = await lockAccounts(t, [probe.id, expId]);
  const acct = locked.get(probe.id)!;
  if (acct.status === 'closed') return null;
  const amount = input.amountMinor;
  const transaction = await single(t, actor, {
    kind: 'interest',
    from: locked.get(expId)!,
    to: acct,
    amount,
    memo: input.memo ?? `Interest ${input.period}`,
    pending: false,
    externalRef: ref,
    notify: {
      customerId: acct.customer_id,
      kind: 'interest',
      title: 'Interest credited',
      body: `${displayAmount(amount, acct.currency)} interest for ${input.period} was credited to account ${maskedAccount(acct.number)}.`,
    },
  });
  return { transaction, created: true };
}

/** A transaction as its parties or staff may see it. */
export async function getTransaction(ctx: BankContext, actor: Actor, id: number): Promise<TransactionDto> {
  requireCan(actor, 'transactions.read');
  const transaction = await ctx.db<TransactionRow>('transactions').where({ id }).first();
  if (!transaction) throw new NotFound('Transaction');
  const accts = await ctx.db<AccountRow>('accounts').whereIn('id', [transaction.from_account_id ?? 0, transaction.to_account_id ?? 0]);
  if (actor.role === 'customer' && !accts.some((a) => a.kind === 'customer' && a.customer_id === actor.customerId))
    throw new NotFound('Transaction');
  return transactionDto(transaction, numbersOf(accts));
}

export { DomainError };
