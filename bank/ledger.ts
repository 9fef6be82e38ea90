import type { Actor, BankContext } from './context.js';
import { isStaff } from './context.js';
import { DomainError, Forbidden, InsufficientFunds, Invalid, NotFound, RuleViolation, Conflict } from './errors.js';
import { displayAmount, formatAmount, maskedAccount, parseAmount } from './money.js';
import { type AccountRow, type AccountTypeRow, accountDto, balanceFloor, lockAccounts, pickHotAccount } from './accounts-core.js';
import { audit } from './audit.js';
import { recordEvent, rooms, type Room } from './events.js';
import { idempotent, type IdemRequest, type IdemResult } from './idempotency.js';
import { requireCan } from './permissions.js';
import { customerUserIds, notifyUsers } from './notify.js';
import { type Tx, withTx } from './tx.js';

export type TxKind = 'deposit' | 'withdrawal' | 'transfer' | 'interest';
export type TxStatus = 'posted' | 'pending_approval' | 'rejected';

export interface TransactionRow {
  id: number;
  kind: TxKind;
  status: TxStatus;
  amount: number;
  currency: string;
  from_account_id: number | null;
  to_account_id: number | null;
  memo: string;
  external_ref: string | null;
  created_by: number | null;
  decided_by: number | null;
  decision_note: string | null;
  created_at: string;
  posted_at: string | null;
  decided_at: string | null;
}

export function transactionDto(r: TransactionRow, numbers: Map<number, string>) {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    amount: formatAmount(r.amount, r.currency),
    currency: r.currency,
    // Bank-owned accounts (cash, interest expense) are not shown to clients.
    fromAccountNumber: (r.kind === 'transfer' || r.kind === 'withdrawal') && r.from_account_id !== null ? numbers.get(r.from_account_id) ?? null : null,
    toAccountNumber: r.kind !== 'withdrawal' && r.to_account_id !== null ? numbers.get(r.to_account_id) ?? null : null,
    memo: r.memo,
    createdAt: r.created_at,
    postedAt: r.posted_at,
  };
}
export type TransactionDto = ReturnType<typeof transactionDto>;

const MEMO_MAX = 500;

function cleanMemo(memo: unknown): string {
  if (memo === undefined || memo === null) return '';
  if (typeof memo !== 'string' || memo.length > MEMO_MAX) throw new Invalid(`memo must be a string of at most ${MEMO_MAX} characters`, { fields: ['memo'] });
  return memo;
}

async function typesOf(t: Tx, accounts: AccountRow[]): Promise<Map<string, AccountTypeRow>> {
  const codes = [...new Set(accounts.map((a) => a.type).filter((c): c is string => !!c))];
  const rows: AccountTypeRow[] = codes.length ? await t.q('account_types').whereIn('code', codes) : [];
  return new Map(rows.map((r) => [r.code, r]));
}

/** Customers see only their own accounts; anything else is "not found" so ids cannot be probed. */
function visible(actor: Actor, a: AccountRow | undefined): a is AccountRow {
  if (!a || a.kind !== 'customer') return false;
  return actor.role !== 'customer' || (actor.customerId !== null && a.customer_id === actor.customerId);
}

function assertUsable(a: AccountRow, direction: 'debit' | 'credit', opts: { allowFrozen?: boolean } = {}) {
  if (a.status === 'closed') throw new RuleViolation('account_closed', `Account ${a.number} is closed`, { accountNumber: a.number });
  if (a.status === 'frozen' && !opts.allowFrozen) throw new RuleViolation('account_frozen', `Account ${a.number} is frozen`, { accountNumber: a.number, direction });
}

function assertFunds(a: AccountRow, type: AccountTypeRow | undefined, amount: number, opts: { payoutToZero?: boolean } = {}) {
  const after = a.balance - a.held - amount;
  // A teller paying out the whole balance (to close the account) may go below the minimum.
  if (opts.payoutToZero && a.held === 0 && after === 0) return;
  const floor = balanceFloor(type);
  if (after < floor) {
    throw new InsufficientFunds(`Insufficient funds in account ${a.number}`, {
      accountNumber: a.number,
      available: formatAmount(a.balance - a.held, a.currency),
      floor: formatAmount(floor, a.currency),
    });
  }
}

const needsApproval = (type: AccountTypeRow | undefined, amount: number) =>
  !!type && type.approval_threshold !== null && amount > type.approval_threshold;

/** Writes the postings of one transaction and moves the balances; the legs sum to zero. */
async function post(t: Tx, txId: number, legs: { account: AccountRow; amount: number }[]): Promise<void> {
  if (legs.reduce((s, l) => s + l.amount, 0) !== 0) throw new Error('unbalanced transaction');
  for (const leg of legs) {
    leg.account.balance += leg.amount;
    await t.q('accounts').where({ id: leg.account.id }).update({ balance: leg.account.balance });
  }
  await t.q('entries').insert(legs.map((l) => ({ transaction_id: txId, account_id: l.account.id, amount: l.amount, balance_after: l.account.balance, at: t.now })));
}

async function insertTransaction(t: Tx, row: Omit<TransactionRow, 'id'>): Promise<TransactionRow> {
  const [ins] = await t.q('transactions').insert(row, ['id']);
  return { ...row, id: typeof ins === 'object' ? ins.id : ins };
}

function partyRooms(accounts: AccountRow[]): Room[] {
  const out: Room[] = [];
  for (const a of accounts) {
    if (a.kind !== 'customer') continue;
    out.push(rooms.account(a.id));
    if (a.customer_id !== null) out.push(rooms.customer(a.customer_id));
  }
  return out;
}

async function balanceEvents(t: Tx, accounts: AccountRow[], transactionId: number) {
  for (const a of accounts) {
    if (a.kind !== 'customer') continue;
    const dto = accountDto(a);
    recordEvent(t, 'balance.updated', partyRooms([a]), {
      accountId: a.id, accountNumber: a.number, balance: dto.balance, availableBalance: dto.availableBalance, transactionId,
    });
  }
}

const numbersOf = (accounts: AccountRow[]) => new Map(accounts.map((a) => [a.id, a.number]));

export interface MoveInput {
  accountId: number;
  amount: string;
  memo?: string;
}

export async function deposit(ctx: BankContext, actor: Actor, input: MoveInput, idem?: IdemRequest | null): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.deposit');
  return idempotent(ctx, idem ?? null, async (t) => {
    const acctId = input.accountId;
    const probe = await t.q<AccountRow>('accounts').where({ id: acctId }).first();
    if (!visible(actor, probe)) throw new NotFound('Account');
    const amount = parseAmount(input.amount, probe.currency);
    const memo = cleanMemo(input.memo);
    const cashId = await pickHotAccount(t, 'cash', probe.currency);
    const locked = await lockAccounts(t, [acctId, cashId]);
    const acct = locked.get(acctId)!;
    const cash = locked.get(cashId)!;
    assertUsable(acct, 'credit');
    const tx = await insertTransaction(t, {
      kind: 'deposit', status: 'posted', amount, currency: acct.currency, from_account_id: cash.id, to_account_id: acct.id,
      memo, external_ref: null, created_by: actor.userId, decided_by: null, decision_note: null, created_at: t.now, posted_at: t.now, decided_at: null,
    });
    await post(t, tx.id, [{ account: cash, amount: -amount }, { account: acct, amount }]);
    const dto = transactionDto(tx, numbersOf([acct, cash]));
    recordEvent(t, 'transaction.posted', partyRooms([acct]), { transaction: dto });
    await balanceEvents(t, [acct], tx.id);
    await notifyUsers(t, await customerUserIds(t, acct.customer_id), { kind: 'deposit', title: 'Deposit received', body: `${displayAmount(amount, acct.currency)} was deposited to account ${maskedAccount(acct.number)}.` });
    await audit(t, actor, { action: 'deposit', entity: 'transaction', entityId: tx.id, after: dto });
    return dto;
  });
}

export async function withdraw(ctx: BankContext, actor: Actor, input: MoveInput, idem?: IdemRequest | null): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.withdraw');
  return idempotent(ctx, idem ?? null, async (t) => {
    const acctId = input.accountId;
    const probe = await t.q<AccountRow>('accounts').where({ id: acctId }).first();
    if (!visible(actor, probe)) throw new NotFound('Account');
    const amount = parseAmount(input.amount, probe.currency);
    const memo = cleanMemo(input.memo);
    const cashId = await pickHotAccount(t, 'cash', probe.currency);
    const locked = await lockAccounts(t, [acctId, cashId]);
    const acct = locked.get(acctId)!;
    const cash = locked.get(cashId)!;
    assertUsable(acct, 'debit');
    const type = (await typesOf(t, [acct])).get(acct.type ?? '');
    assertFunds(acct, type, amount, { payoutToZero: isStaff(actor) });
    return moveOrHold(t, actor, 'withdrawal', acct, cash, amount, memo, type);
  });
}

export interface TransferInput {
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  memo?: string;
}

export async function transfer(ctx: BankContext, actor: Actor, input: TransferInput, idem?: IdemRequest | null): Promise<IdemResult<TransactionDto>> {
  requireCan(actor, 'money.transfer');
  return idempotent(ctx, idem ?? null, (t) => transferIn(t, actor, input));
}

/** The transfer itself, inside a transaction the caller owns (batches run many in one). */
export async function transferIn(t: Tx, actor: Actor, input: TransferInput): Promise<TransactionDto> {
  const from = await t.q<AccountRow>('accounts').where({ id: input.fromAccountId }).first();
  if (!visible(actor, from)) throw new NotFound('Source account');
  const to = await t.q<AccountRow>('accounts').where({ number: input.toAccountNumber, kind: 'customer' }).first();
  if (!to) throw new NotFound('Destination account');
  const amount = parseAmount(input.amount, from.currency);
  const memo = cleanMemo(input.memo);
  if (from.id === to.id) throw new RuleViolation('same_account', 'Cannot transfer to the same account');
  const locked = await lockAccounts(t, [from.id, to.id]);
  const src = locked.get(from.id)!;
  const dst = locked.get(to.id)!;
  if (src.currency !== dst.currency) throw new RuleViolation('currency_mismatch', `Cannot transfer ${src.currency} to a ${dst.currency} account`);
  assertUsable(src, 'debit');
  assertUsable(dst, 'credit');
  const type = (await typesOf(t, [src])).get(src.type ?? '');
  assertFunds(src, type, amount);
  return moveOrHold(t, actor, 'transfer', src, dst, amount, memo, type);
}

/** Posts a debit of src and credit of dst now, or holds the funds until a manager decides. */
async function moveOrHold(t: Tx, actor: Actor, kind: 'withdrawal' | 'transfer', src: AccountRow, dst: AccountRow, amount: number, memo: string, type: AccountTypeRow | undefined): Promise<TransactionDto> {
  const pending = needsApproval(type, amount);
  const tx = await insertTransaction(t, {
    kind, status: pending ? 'pending_approval' : 'posted', amount, currency: src.currency, from_account_id: src.id, to_account_id: dst.id,
    memo, external_ref: null, created_by: actor.userId, decided_by: null, decision_note: null, created_at: t.now, posted_at: pending ? null : t.now, decided_at: null,
  });
  const dto = transactionDto(tx, numbersOf([src, dst]));
  if (pending) {
    src.held += amount;
    await t.q('accounts').where({ id: src.id }).update({ held: src.held });
    recordEvent(t, 'transaction.pending', [...partyRooms([src, dst]), rooms.managers], { transaction: dto });
    await balanceEvents(t, [src], tx.id);
  } else {
    await post(t, tx.id, [{ account: src, amount: -amount }, { account: dst, amount }]);
    recordEvent(t, 'transaction.posted', partyRooms([src, dst]), { transaction: dto });
    await balanceEvents(t, [src, dst], tx.id);
    if (kind === 'transfer' && dst.customer_id !== src.customer_id) {
      await notifyUsers(t, await customerUserIds(t, dst.customer_id), { kind: 'transfer_received', title: 'Money received', body: `${displayAmount(amount, dst.currency)} arrived in account ${maskedAccount(dst.number)} from ${maskedAccount(src.number)}.` });
    }
  }
  await audit(t, actor, { action: pending ? `${kind}.requested` : kind, entity: 'transaction', entityId: tx.id, after: dto });
  return dto;
}

async function loadPending(t: Tx, txId: number): Promise<TransactionRow> {
  let q = t.q<TransactionRow>('transactions').where({ id: txId });
  if (t.ctx.dialect === 'pg') q = q.forUpdate();
  const tx = await q.first();
  if (!tx) throw new NotFound('Transaction');
  if (tx.status !== 'pending_approval') throw new Conflict(`Transaction ${txId} is not pending approval (it is ${tx.status})`);
  return tx;
}

export async function approve(ctx: BankContext, actor: Actor, txId: number, note?: string | null): Promise<TransactionDto> {
  requireCan(actor, 'approvals.decide');
  return decide(ctx, actor, txId, 'approve', note);
}

export async function reject(ctx: BankContext, actor: Actor, txId: number, note?: string | null): Promise<TransactionDto> {
  requireCan(actor, 'approvals.decide');
  return decide(ctx, actor, txId, 'reject', note);
}

async function decide(ctx: BankContext, actor: Actor, txId: number, decision: 'approve' | 'reject', note?: string | null): Promise<TransactionDto> {
  const decisionNote = note === undefined || note === null ? null : cleanMemo(note);
  return withTx(ctx, async (t) => {
    const tx = await loadPending(t, txId);
    if (tx.created_by !== null && tx.created_by === actor.userId) throw new Forbidden('You cannot decide on a transaction you made');
    const locked = await lockAccounts(t, [tx.from_account_id!, tx.to_account_id!]);
    const src = locked.get(tx.from_account_id!)!;
    const dst = locked.get(tx.to_account_id!)!;
    const before = transactionDto(tx, numbersOf([src, dst]));
    src.held -= tx.amount;
    await t.q('accounts').where({ id: src.id }).update({ held: src.held });
    if (decision === 'approve') {
      // The funds were held, so only the accounts' state can stop it now.
      assertUsable(src, 'debit');
      assertUsable(dst, 'credit');
      Object.assign(tx, { status: 'posted', posted_at: t.now });
      await post(t, tx.id, [{ account: src, amount: -tx.amount }, { account: dst, amount: tx.amount }]);
    } else {
      tx.status = 'rejected';
    }
    Object.assign(tx, { decided_by: actor.userId, decided_at: t.now, decision_note: decisionNote });
    await t.q('transactions').where({ id: tx.id }).update({ status: tx.status, posted_at: tx.posted_at, decided_by: tx.decided_by, decided_at: tx.decided_at, decision_note: tx.decision_note });
    const dto = transactionDto(tx, numbersOf([src, dst]));
    const type = decision === 'approve' ? 'transaction.approved' : 'transaction.rejected';
    recordEvent(t, type, [...partyRooms([src, dst]), rooms.managers], { transaction: dto });
    await balanceEvents(t, decision === 'approve' ? [src, dst] : [src], tx.id);
    const owners = await customerUserIds(t, src.customer_id);
    await notifyUsers(t, owners, {
      kind: type, title: decision === 'approve' ? 'Transaction approved' : 'Transaction rejected',
      body: `Your ${tx.kind} of ${displayAmount(tx.amount, tx.currency)} was ${decision === 'approve' ? 'approved' : 'rejected'}${decisionNote ? `: ${decisionNote}` : '.'}`,
    });
    await audit(t, actor, { action: `${tx.kind}.${decision === 'approve' ? 'approved' : 'rejected'}`, entity: 'transaction', entityId: tx.id, before, after: dto });
    return dto;
  });
}

/**
 * Posts interest (bank interest expense → customer) once per account and period; a
 * second call for the same period returns the first transaction.
 */
export async function postInterestIn(t: Tx, actor: Actor, input: { accountId: number; amountMinor: number; period: string; memo?: string }): Promise<{ transaction: TransactionDto; created: boolean } | null> {
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
  const exp = locked.get(expId)!;
  if (acct.status === 'closed') return null;
  const tx = await insertTransaction(t, {
    kind: 'interest', status: 'posted', amount: input.amountMinor, currency: acct.currency, from_account_id: exp.id, to_account_id: acct.id,
    memo: input.memo ?? `Interest ${input.period}`, external_ref: ref, created_by: actor.userId, decided_by: null, decision_note: null,
    created_at: t.now, posted_at: t.now, decided_at: null,
  });
  await post(t, tx.id, [{ account: exp, amount: -tx.amount }, { account: acct, amount: tx.amount }]);
  const dto = transactionDto(tx, numbersOf([acct, exp]));
  recordEvent(t, 'transaction.posted', partyRooms([acct]), { transaction: dto });
  await balanceEvents(t, [acct], tx.id);
  await notifyUsers(t, await customerUserIds(t, acct.customer_id), { kind: 'interest', title: 'Interest credited', body: `${displayAmount(tx.amount, acct.currency)} interest for ${input.period} was credited to account ${maskedAccount(acct.number)}.` });
  await audit(t, actor, { action: 'interest', entity: 'transaction', entityId: tx.id, after: dto });
  return { transaction: dto, created: true };
}

/** A transaction as its parties or staff may see it. */
export async function getTransaction(ctx: BankContext, actor: Actor, id: number): Promise<TransactionDto> {
  requireCan(actor, 'transactions.read');
  const tx = await ctx.db<TransactionRow>('transactions').where({ id }).first();
  if (!tx) throw new NotFound('Transaction');
  const accts = await ctx.db<AccountRow>('accounts').whereIn('id', [tx.from_account_id ?? 0, tx.to_account_id ?? 0]);
  if (actor.role === 'customer' && !accts.some((a) => a.kind === 'customer' && a.customer_id === actor.customerId)) throw new NotFound('Transaction');
  return transactionDto(tx, numbersOf(accts));
}

export { DomainError };
