import type { Actor, BankContext } from '../core/context.js';
import { toPage } from '../core/paging.js';
import { readSql } from '../../db/read.js';
import { Invalid, NotFound, RuleViolation } from '../core/errors.js';
import { displayAmount, formatAmount, parseNonNegativeAmount } from '../core/money.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { isStaffRole, requireCan } from '../access/permissions.js';
import { type AccountRow, accountDto, ensureBankAccounts, insertWithNumber } from './records.js';
import { type Tx, fromJson, toJson, withTx } from '../core/db-tx.js';
import { transactionDto, type TransactionRow } from '../ledger/transactions.js';
import { settleInterestForClosing } from '../ledger/interest.js';

export { accountDto, type AccountDto } from './records.js';

/** A customer account the actor may see, or NotFound (never Forbidden: ids cannot be probed). */
export async function findVisibleAccount(q: Tx['q'] | BankContext['db'], actor: Actor, id: number): Promise<AccountRow> {
  requireCan(actor, 'accounts.read');
  return visibleOrNotFound(actor, await q<AccountRow>('accounts').where({ id, kind: 'customer' }).first());
}

/** The account if the actor may see it (a customer only their own), else NotFound. */
function visibleOrNotFound(actor: Actor, a: AccountRow | undefined): AccountRow {
  if (!a || (actor.role === 'customer' && a.customer_id !== actor.customerId)) throw new NotFound('Account');
  return a;
}

/**
 * Whether a session may watch an account's room live (the hub's account.watch), or NotFound.
 * A staff extension: customers already receive their own accounts' events through their
 * customer room.
 */
export async function assertAccountWatchable(db: BankContext['db'], role: string, accountId: number): Promise<void> {
  if (!isStaffRole(role)) throw new NotFound('Account');
  const row = await db('accounts').where({ id: accountId, kind: 'customer' }).first('id');
  if (!row) throw new NotFound('Account');
}

export interface OpenAccountInput {
  customerId: number;
  type: string;
  branch: string;
  currency?: string;
}

export async function openAccount(ctx: BankContext, actor: Actor, input: OpenAccountInput) {
  requireCan(actor, 'accounts.open');
  const currency = input.currency ?? ctx.currency;
  if (!/^[A-Z]{3}$/.test(currency)) throw new Invalid('currency must be a 3-letter ISO code', { fields: ['currency'] });
  return withTx(ctx, async (t) => {
    if (!(await t.q('customers').where({ id: input.customerId }).first('id'))) throw new NotFound('Customer');
    if (!(await t.q('account_types').where({ code: input.type }).first('id')))
      throw new Invalid(`Unknown account type ${input.type}`, { fields: ['type'] });
    if (!(await t.q('branches').where({ code: input.branch }).first('id')))
      throw new Invalid(`Unknown branch ${input.branch}`, { fields: ['branch'] });
    await ensureBankAccounts(t.ctx, currency, t.q);
    const a = await insertWithNumber(t.q, {
      kind: 'customer',
      internal_code: null,
      customer_id: input.customerId,
      type: input.type,
      branch: input.branch,
      currency,
      balance: 0,
      held: 0,
      status: 'active',
      opened_at: t.now,
      closed_at: null,
    });
    const dto = accountDto(a);
    recordEvent(t, 'account.opened', [rooms.customer(input.customerId), rooms.staff], { account: dto });
    await audit(t, actor, { action: 'account.opened', entity: 'account', entityId: a.id, after: dto });
    return dto;
  });
}

export async function getAccount(ctx: BankContext, actor: Actor, id: number) {
  return accountDto(await findVisibleAccount(ctx.db, actor, id));
}

export interface AccountFilter {
  customerId?: number;
  branch?: string;
  status?: 'active' | 'frozen' | 'closed';
  limit: number;
  cursor?: number | null;
}

/** The account columns in AccountRow's order, for the prepared reads (db/read.ts). */
const ACCOUNT_COLUMNS = [
  'id',
  'number',
  'kind',
  'internal_code',
  'customer_id',
  'type',
  'branch',
  'currency',
  'balance',
  'held',
  'status',
  'frozen_by',
  'alert_count',
  'opened_at',
  'closed_at',
] as const;
const ACCOUNT_SELECT = ACCOUNT_COLUMNS.map((c) => `"${c}"`).join(', ');
const accountOf = (r: unknown[]) => Object.fromEntries(ACCOUNT_COLUMNS.map((c, i) => [c, r[i]])) as unknown as AccountRow;
const same = (sql: string) => ({ sqlite: sql, pg: sql });
const SQL_CUSTOMER_ACCOUNTS = same(
  `SELECT ${ACCOUNT_SELECT} FROM accounts WHERE customer_id = ? AND kind = 'customer' AND id > ? ORDER BY id LIMIT ?`,
);
const SQL_ACCOUNT = same(`SELECT ${ACCOUNT_SELECT} FROM accounts WHERE id = ? AND kind = 'customer'`);
const ENTRY_SELECT =
  'SELECT e.id, e.transaction_id, e.amount, e.balance_after, e.at, t.kind, t.memo, t.from_account_id, t.to_account_id FROM entries e JOIN transactions t ON t.id = e.transaction_id WHERE e.account_id = ?';
const SQL_ENTRIES = {
  asc: same(`${ENTRY_SELECT} AND e.id > ? ORDER BY e.id LIMIT ?`),
  desc: same(`${ENTRY_SELECT} AND e.id < ? ORDER BY e.id DESC LIMIT ?`),
};
/** Counterparty numbers of a page, one statement whatever the page holds (ids as a JSON array). */
const SQL_ACCOUNT_NUMBERS = {
  sqlite: "SELECT id, number FROM accounts WHERE id IN (SELECT value FROM json_each(?)) AND kind = 'customer'",
  pg: "SELECT id, number FROM accounts WHERE id IN (SELECT jsonb_array_elements_text(?::jsonb)::int) AND kind = 'customer'",
};

export async function listAccounts(ctx: BankContext, actor: Actor, f: AccountFilter) {
  requireCan(actor, 'accounts.read');
  if (actor.role === 'customer' && !f.branch && !f.status) {
    // A customer's own accounts, every screen of the app asks for: one prepared read.
    const rows = await readSql(ctx.db).rows('customer_accounts', SQL_CUSTOMER_ACCOUNTS, [
      actor.customerId ?? -1,
      f.cursor ?? 0,
      f.limit + 1,
    ]);
    return toPage(
      rows.length,
      rows.slice(0, f.limit).map((r) => accountDto(accountOf(r))),
      f.limit,
    );
  }
  let q = ctx.db<AccountRow>('accounts').where({ kind: 'customer' });
  if (actor.role === 'customer') q = q.where({ customer_id: actor.customerId ?? -1 });
  else if (f.customerId !== undefined) q = q.where({ customer_id: f.customerId });
  if (f.branch) q = q.where({ branch: f.branch });
  if (f.status) q = q.where({ status: f.status });
  if (f.cursor) q = q.where('id', '>', f.cursor);
  const rows = await q.orderBy('id').limit(f.limit + 1);
  const items = rows.slice(0, f.limit).map(accountDto);
  return toPage(rows.length, items, f.limit);
}

export interface AccountEdit {
  status?: 'active' | 'frozen';
  branch?: string;
  type?: string;
  note?: string;
}

export async function editAccount(ctx: BankContext, actor: Actor, id: number, edit: AccountEdit) {
  requireCan(actor, 'accounts.edit');
  return withTx(ctx, async (t) => {
    const a = await findVisibleAccount(t.q, actor, id);
    if (a.status === 'closed') throw new RuleViolation('account_closed', `Account ${a.number} is closed`);
    if (edit.branch !== undefined && !(await t.q('branches').where({ code: edit.branch }).first('id')))
      throw new Invalid(`Unknown branch ${edit.branch}`, { fields: ['branch'] });
    if (edit.type !== undefined && !(await t.q('account_types').where({ code: edit.type }).first('id')))
      throw new Invalid(`Unknown account type ${edit.type}`, { fields: ['type'] });
    const changes: Record<string, [unknown, unknown]> = {};
    for (const field of ['status', 'branch', 'type'] as const) {
      if (edit[field] !== undefined && edit[field] !== a[field]) changes[field] = [a[field], edit[field]];
    }
    // A freeze set here is the bank's; freezing a customer-frozen account takes the freeze over.
    const frozenBy = edit.status === undefined ? (a.frozen_by ?? null) : edit.status === 'frozen' ? 'bank' : null;
    const takeover = frozenBy !== (a.frozen_by ?? null) && !changes.status;
    if (takeover) changes.frozen_by = [a.frozen_by ?? null, frozenBy];
    if (!Object.keys(changes).length && !edit.note) return accountDto(a);
    const before = accountDto(a);
    const patch: Record<string, unknown> = Object.fromEntries(Object.entries(changes).map(([k, [, v]]) => [k, v]));
    if (changes.status) patch.frozen_by = frozenBy;
    if (Object.keys(patch).length) await t.q('accounts').where({ id }).update(patch);
    const after = accountDto({ ...a, ...patch } as AccountRow);
    await t
      .q('account_edits')
      .insert({ account_id: id, by: actor.userId, changes: JSON.stringify(changes), note: edit.note ?? null, at: t.now });
    recordEvent(t, 'account.updated', [rooms.customer(a.customer_id!), rooms.account(a.id), rooms.staff], { account: after, changes });
    await audit(t, actor, {
      action: changes.status || changes.frozen_by ? `account.${edit.status === 'frozen' ? 'frozen' : 'unfrozen'}` : 'account.edited',
      entity: 'account',
      entityId: id,
      before,
      after,
    });
    return after;
  });
}

export async function accountEdits(ctx: BankContext, actor: Actor, id: number) {
  requireCan(actor, 'accounts.edit');
  await findVisibleAccount(ctx.db, actor, id);
  const rows = await ctx.db('account_edits').where({ account_id: id }).orderBy('id');
  return rows.map((r) => ({ id: r.id, by: r.by, at: r.at, changes: fromJson(r.changes), note: r.note }));
}

/** Closes an account with a zero balance; every row stays and an archive record is written. */
export async function closeAccount(ctx: BankContext, actor: Actor, id: number, reason: string) {
  requireCan(actor, 'accounts.close');
  if (!reason.trim()) throw new Invalid('A reason is required', { fields: ['reason'] });
  // The interest accrued so far is the customer's: pay it before closing (it makes the balance nonzero).
  const interest = await settleInterestForClosing(ctx, id);
  return withTx(ctx, async (t) => {
    let q = t.q<AccountRow>('accounts').where({ id, kind: 'customer' });
    if (t.ctx.dialect === 'pg') q = q.forUpdate();
    const a = await q.first();
    if (!a) throw new NotFound('Account');
    if (a.status === 'closed') throw new RuleViolation('account_closed', `Account ${a.number} is already closed`);
    if (a.balance !== 0 || a.held !== 0) {
      if (interest.postedMinor > 0) {
        throw new RuleViolation(
          'nonzero_balance',
          `${displayAmount(interest.postedMinor, a.currency)} interest to date was credited to account ${a.number}; pay out the balance, then close`,
          {
            balance: formatAmount(a.balance, a.currency),
            interestCredited: formatAmount(interest.postedMinor, a.currency),
          },
        );
      }
      throw new RuleViolation(
        'nonzero_balance',
        `Account ${a.number} still holds ${formatAmount(a.balance, a.currency)}; pay it out first`,
        { balance: formatAmount(a.balance, a.currency) },
      );
    }
    const before = accountDto(a);
    const closed = { ...a, status: 'closed' as const, closed_at: t.now };
    await t.q('accounts').where({ id }).update({ status: 'closed', closed_at: t.now });
    const lastEntries = await t.q('entries').where({ account_id: id }).count({ n: '*' });
    const snapshot = { account: accountDto(closed), entries: Number(lastEntries[0].n) };
    await t.q('closed_accounts').insert({ account_id: id, closed_by: actor.userId, reason, snapshot: toJson(snapshot), closed_at: t.now });
    const after = accountDto(closed);
    await t
      .q('account_edits')
      .insert({ account_id: id, by: actor.userId, changes: JSON.stringify({ status: [a.status, 'closed'] }), note: reason, at: t.now });
    recordEvent(t, 'account.updated', [rooms.customer(a.customer_id!), rooms.account(a.id), rooms.staff], {
      account: after,
      changes: { status: [a.status, 'closed'] },
    });
    await audit(t, actor, { action: 'account.closed', entity: 'account', entityId: id, before, after: { ...after, reason } });
    return after;
  });
}

export async function closedAccounts(ctx: BankContext, actor: Actor, opts: { limit: number; cursor?: number | null }) {
  requireCan(actor, 'accounts.archive');
  let q = ctx.db('closed_accounts as c').join('accounts as a', 'a.id', 'c.account_id').select('c.*', 'a.number', 'a.customer_id');
  if (opts.cursor) q = q.where('c.id', '>', opts.cursor);
  const rows = await q.orderBy('c.id').limit(opts.limit + 1);
  const items = rows.slice(0, opts.limit).map((r) => ({
    id: r.id,
    accountId: r.account_id,
    accountNumber: r.number,
    customerId: r.customer_id,
    closedBy: r.closed_by,
    reason: r.reason,
    closedAt: r.closed_at,
    snapshot: fromJson(r.snapshot),
  }));
  return toPage(rows.length, items, opts.limit);
}

export interface Range {
  from?: string;
  to?: string;
}

/** from/to are dates (inclusive) or instants; a bare date `to` means the end of that day. */
function bounds(r: Range): { from: string | null; to: string | null } {
  const from = r.from ? new Date(r.from).toISOString() : null;
  const to = r.to
    ? /^\d{4}-\d{2}-\d{2}$/.test(r.to)
      ? new Date(Date.parse(r.to) + 86_400_000 - 1).toISOString()
      : new Date(r.to).toISOString()
    : null;
  if (from && to && from > to) throw new Invalid('from must not be after to', { fields: ['from', 'to'] });
  return { from, to };
}

/** Narrowing a list of entries: newest first, one kind, words in the memo, a size range (either sign). */
export interface EntryFilter {
  order?: 'asc' | 'desc';
  kind?: string;
  q?: string;
  minAmount?: string;
  maxAmount?: string;
}

async function entryRows(
  ctx: BankContext,
  accountId: number,
  r: Range & EntryFilter & { currency?: string },
  page?: { limit: number; cursor?: number | null },
) {
  const { from, to } = bounds(r);
  let q = ctx
    .db('entries as e')
    .join('transactions as t', 't.id', 'e.transaction_id')
    .where('e.account_id', accountId)
    .select('e.id', 'e.transaction_id', 'e.amount', 'e.balance_after', 'e.at', 't.kind', 't.memo', 't.from_account_id', 't.to_account_id');
  if (from) q = q.where('e.at', '>=', from);
  if (to) q = q.where('e.at', '<=', to);
  const desc = r.order === 'desc';
  if (r.kind) q = q.where('t.kind', r.kind);
  if (r.q) q = q.whereRaw('lower(t.memo) like ?', [`%${r.q.toLowerCase().replace(/[%_\\]/g, '')}%`]);
  if (r.currency && r.minAmount !== undefined) q = q.whereRaw('abs(e.amount) >= ?', [parseNonNegativeAmount(r.minAmount, r.currency)]);
  if (r.currency && r.maxAmount !== undefined) q = q.whereRaw('abs(e.amount) <= ?', [parseNonNegativeAmount(r.maxAmount, r.currency)]);
  if (page?.cursor) q = q.where('e.id', desc ? '<' : '>', page.cursor);
  q = q.orderBy('e.id', desc ? 'desc' : 'asc');
  if (page) q = q.limit(page.limit + 1);
  const rows = await q;
  const otherIds = [...new Set(rows.map((e) => (e.from_account_id === accountId ? e.to_account_id : e.from_account_id)).filter(Boolean))];
  const others = otherIds.length ? await ctx.db<AccountRow>('accounts').whereIn('id', otherIds).select('id', 'number', 'kind') : [];
  const numberOf = new Map(others.map((o) => [o.id, o.kind === 'customer' ? o.number : null]));
  return rows.map((e) => ({
    id: e.id as number,
    transactionId: e.transaction_id as number,
    kind: e.kind as string,
    amountMinor: e.amount as number,
    balanceAfterMinor: e.balance_after as number,
    counterparty: numberOf.get(e.from_account_id === accountId ? e.to_account_id : e.from_account_id) ?? null,
    memo: e.memo as string,
    at: e.at as string,
  }));
}

const entryDto = (currency: string) => (e: Awaited<ReturnType<typeof entryRows>>[number]) => ({
  id: e.id,
  transactionId: e.transactionId,
  kind: e.kind,
  amount: formatAmount(e.amountMinor, currency),
  balanceAfter: formatAmount(e.balanceAfterMinor, currency),
  counterparty: e.counterparty,
  memo: e.memo,
  at: e.at,
});

export async function accountEntries(
  ctx: BankContext,
  actor: Actor,
  id: number,
  r: Range & EntryFilter & { limit: number; cursor?: number | null },
) {
  if (!r.from && !r.to && !r.kind && !r.q && r.minAmount === undefined && r.maxAmount === undefined) return entriesPage(ctx, actor, id, r);
  const a = await findVisibleAccount(ctx.db, actor, id);
  const rows = await entryRows(ctx, id, { ...r, currency: a.currency }, { limit: r.limit, cursor: r.cursor });
  const items = rows.slice(0, r.limit).map(entryDto(a.currency));
  return toPage(rows.length, items, r.limit);
}

/**
 * A page of an account's entries with no filter but the cursor (what the app's account screen
 * asks for): three prepared reads, the page walking the (account_id, id) index. They need not
 * see one state: what the first two read of the account (owner, currency) and the third of
 * the counterparties (numbers) never changes.
 */
async function entriesPage(
  ctx: BankContext,
  actor: Actor,
  id: number,
  r: { limit: number; cursor?: number | null; order?: 'asc' | 'desc' },
) {
  requireCan(actor, 'accounts.read');
  const desc = r.order === 'desc';
  const read = readSql(ctx.db);
  const [row] = await read.rows('account', SQL_ACCOUNT, [id]);
  const a = visibleOrNotFound(actor, row && accountOf(row));
  const rows = await read.rows(desc ? 'entries_desc' : 'entries_asc', desc ? SQL_ENTRIES.desc : SQL_ENTRIES.asc, [
    id,
    r.cursor ?? (desc ? Number.MAX_SAFE_INTEGER : 0),
    r.limit + 1,
  ]);
  const other = (e: unknown[]) => (e[7] === id ? e[8] : e[7]) as number | null;
  const otherIds = [...new Set(rows.map(other).filter((x) => x !== null))];
  const numbers = new Map(
    otherIds.length ? ((await read.rows('account_numbers', SQL_ACCOUNT_NUMBERS, [JSON.stringify(otherIds)])) as [number, string][]) : [],
  );
  const toDto = entryDto(a.currency);
  const items = rows.slice(0, r.limit).map((e) =>
    toDto({
      id: e[0] as number,
      transactionId: e[1] as number,
      kind: e[5] as string,
      amountMinor: e[2] as number,
      balanceAfterMinor: e[3] as number,
      counterparty: numbers.get(other(e)!) ?? null,
      memo: e[6] as string,
      at: e[4] as string,
    }),
  );
  return toPage(rows.length, items, r.limit);
}

export async function statement(ctx: BankContext, actor: Actor, id: number, r: Range) {
  const a = await findVisibleAccount(ctx.db, actor, id);
  const { from } = bounds(r);
  const prior = from
    ? await ctx.db('entries').where('account_id', id).andWhere('at', '<', from).orderBy('id', 'desc').first('balance_after')
    : null;
  const opening = prior ? Number(prior.balance_after) : 0;
  const rows = await entryRows(ctx, id, r);
  const closing = rows.length ? rows[rows.length - 1].balanceAfterMinor : opening;
  return {
    account: accountDto(a),
    from: r.from ?? null,
    to: r.to ?? null,
    openingBalance: formatAmount(opening, a.currency),
    closingBalance: formatAmount(closing, a.currency),
    totalCredits: formatAmount(
      rows.filter((e) => e.amountMinor > 0).reduce((s, e) => s + e.amountMinor, 0),
      a.currency,
    ),
    totalDebits: formatAmount(-rows.filter((e) => e.amountMinor < 0).reduce((s, e) => s + e.amountMinor, 0), a.currency),
    entries: rows.map(entryDto(a.currency)),
  };
}

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (starting with = + - @, tab or
 * carriage return) gets a leading apostrophe, unless it is exactly a plain number (a signed
 * amount such as -12.50): "-1+1+cmd|…" is text, not a number (OWASP "CSV injection").
 */
export const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function statementCsv(s: Awaited<ReturnType<typeof statement>>): string {
  const lines = [
    ['account', s.account.number].map(csvCell).join(','),
    ['currency', s.account.currency].map(csvCell).join(','),
    ['from', s.from ?? ''].map(csvCell).join(','),
    ['to', s.to ?? ''].map(csvCell).join(','),
    ['opening_balance', s.openingBalance].map(csvCell).join(','),
    '',
    'date,transaction_id,kind,amount,balance_after,counterparty,memo',
    ...s.entries.map((e) => [e.at, e.transactionId, e.kind, e.amount, e.balanceAfter, e.counterparty, e.memo].map(csvCell).join(',')),
    '',
    ['closing_balance', s.closingBalance].map(csvCell).join(','),
  ];
  return lines.join('\r\n') + '\r\n';
}

/**
 * Daily closing balances: the end-of-day snapshots where the job wrote them, and for
 * days it has not (today, or before the job ran) the balance after the day's last entry.
 */
export async function dailyBalances(ctx: BankContext, actor: Actor, id: number, r: Range) {
  const a = await findVisibleAccount(ctx.db, actor, id);
  const today = ctx.now().toISOString().slice(0, 10);
  const fromDate = (r.from ?? a.opened_at).slice(0, 10);
  const toDate = (r.to ?? today).slice(0, 10) > today ? today : (r.to ?? today).slice(0, 10);
  if (fromDate > toDate) return [];
  const days = Math.round((Date.parse(toDate) - Date.parse(fromDate)) / 86_400_000) + 1;
  if (days > 3660) throw new Invalid('At most 10 years of daily balances at a time', { fields: ['from', 'to'] });
  const snaps = new Map(
    (await ctx.db('balance_snapshots').where({ account_id: id }).whereBetween('date', [fromDate, toDate]).select('date', 'balance')).map(
      (s) => [s.date as string, Number(s.balance)],
    ),
  );
  const prior = await ctx
    .db('entries')
    .where('account_id', id)
    .andWhere('at', '<', `${fromDate}T00:00:00.000Z`)
    .orderBy('id', 'desc')
    .first('balance_after');
  let running = prior ? Number(prior.balance_after) : 0;
  const entries = await ctx
    .db('entries')
    .where('account_id', id)
    .whereBetween('at', [`${fromDate}T00:00:00.000Z`, `${toDate}T23:59:59.999Z`])
    .orderBy('id')
    .select('at', 'balance_after');
  const out: { date: string; balance: string }[] = [];
  let i = 0;
  for (let d = 0; d < days; d++) {
    const date = new Date(Date.parse(fromDate) + d * 86_400_000).toISOString().slice(0, 10);
    while (i < entries.length && (entries[i].at as string).slice(0, 10) <= date) running = Number(entries[i++].balance_after);
    out.push({ date, balance: formatAmount(snaps.get(date) ?? running, a.currency) });
  }
  return out;
}

export async function listTransactions(
  ctx: BankContext,
  actor: Actor,
  f: { accountId?: number; kind?: string; status?: string; from?: string; to?: string; limit: number; cursor?: number | null },
) {
  requireCan(actor, 'transactions.list');
  const { from, to } = bounds(f);
  let q = ctx.db<TransactionRow>('transactions');
  if (f.accountId) q = q.where((w) => w.where('from_account_id', f.accountId!).orWhere('to_account_id', f.accountId!));
  if (f.kind) q = q.where('kind', f.kind);
  if (f.status) q = q.where('status', f.status);
  if (from) q = q.where('created_at', '>=', from);
  if (to) q = q.where('created_at', '<=', to);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const items = await transactionDtos(ctx, rows.slice(0, f.limit));
  return toPage(rows.length, items, f.limit);
}

/** What waits for approval on an account: money held going out, and money on its way in. */
export async function accountPending(ctx: BankContext, actor: Actor, id: number) {
  await findVisibleAccount(ctx.db, actor, id);
  const rows = await ctx
    .db<TransactionRow>('transactions')
    .where('status', 'pending_approval')
    .andWhere((w) => w.where('from_account_id', id).orWhere('to_account_id', id))
    .orderBy('id', 'desc')
    .limit(500);
  const dtos = await transactionDtos(ctx, rows);
  return dtos.map((d, i) => ({
    ...d,
    direction: rows[i].from_account_id === id ? 'out' : 'in',
    mine: rows[i].created_by === actor.userId,
  }));
}

export async function transactionDtos(ctx: BankContext, rows: TransactionRow[]) {
  const ids = [...new Set(rows.flatMap((r) => [r.from_account_id, r.to_account_id]).filter((x): x is number => x !== null))];
  const accts = ids.length ? await ctx.db('accounts').whereIn('id', ids).andWhere({ kind: 'customer' }).select('id', 'number') : [];
  const numbers = new Map(accts.map((a) => [a.id as number, a.number as string]));
  return rows.map((r) => transactionDto(r, numbers));
}
