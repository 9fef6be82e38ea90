import type { Actor, BankContext } from '../core/context.js';
import type { AccountTypeRow } from './records.js';
import { Conflict, Invalid, InvalidAmount, NotFound } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { hasControl, isUniqueViolation } from '../core/checks.js';
import { formatAmount, parseAmount } from '../core/money.js';
import { requireCan } from '../access/permissions.js';
import { formatRate, isRealDate, parseRate, ratesInForce } from '../ledger/rates.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Branch, InterestRate, Row } from '../../db/models.js';

/** Branch and account-type codes: they are foreign keys elsewhere, so they never change. */
export const CODE_RE = /^[A-Z0-9]{2,16}$/;

async function insertId(t: Tx, table: string, row: Record<string, unknown>): Promise<number> {
  const [ins] = await t.q(table).insert(row, ['id']);
  return typeof ins === 'object' ? ins.id : ins;
}

/** Runs a write whose unique index may still refuse it; that refusal is a 409, never a 500. */
async function uniquely<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`${what} already exists`);
    throw err;
  }
}

/** Free-text fields of reference data: present when required, within the column, no control characters. */
function checkText(fields: Record<string, [unknown, number, boolean]>) {
  const bad = Object.entries(fields).filter(([, [v, max, required]]) =>
    v === undefined || v === null ? required : typeof v !== 'string' || (required && !v.trim()) || v.length > max || hasControl(v),
  );
  if (bad.length) throw new Invalid(`Invalid ${bad.map(([f]) => f).join(', ')}`, { fields: bad.map(([f]) => f) });
}

const todayOf = (ctx: BankContext) => ctx.now().toISOString().slice(0, 10);

// ---- branches ------------------------------------------------------------------------

export type BranchRow = Row<Branch>;

export const branchDto = (b: BranchRow) => ({
  id: b.id,
  code: b.code,
  name: b.name,
  city: b.city,
  address: b.address ?? null,
  createdAt: b.created_at,
  updatedAt: b.updated_at,
});
export type BranchDto = ReturnType<typeof branchDto>;

export interface NewBranch {
  code: string;
  name: string;
  city: string;
  address?: string | null;
}

export async function listBranches(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'branches.read');
  const rows: BranchRow[] = await ctx.db('branches').orderBy('code');
  return { items: rows.map(branchDto), nextCursor: null };
}

export async function getBranch(ctx: BankContext, actor: Actor, id: number) {
  requireCan(actor, 'branches.read');
  const b: BranchRow | undefined = await ctx.db('branches').where({ id }).first();
  if (!b) throw new NotFound('Branch');
  return branchDto(b);
}

export async function createBranch(ctx: BankContext, actor: Actor, input: NewBranch) {
  requireCan(actor, 'branches.write');
  if (!CODE_RE.test(input.code)) throw new Invalid('code must be 2-16 uppercase letters or digits', { fields: ['code'] });
  checkText({ name: [input.name, 200, true], city: [input.city, 100, true], address: [input.address, 300, false] });
  return withTx(ctx, async (t) => {
    if (await t.q('branches').where({ code: input.code }).first('id'))
      throw new Conflict(`Branch ${input.code} already exists`, 'conflict', { fields: ['code'] });
    const row = {
      code: input.code,
      name: input.name,
      city: input.city,
      address: input.address ?? null,
      created_at: t.now,
      updated_at: t.now,
    };
    const id = await uniquely(`Branch ${input.code}`, () => insertId(t, 'branches', row));
    const dto = branchDto({ ...row, id });
    await audit(t, actor, { action: 'branch.created', entity: 'branch', entityId: id, after: dto });
    return dto;
  });
}

export type BranchEdit = Partial<Pick<NewBranch, 'name' | 'city' | 'address'>>;

export async function editBranch(ctx: BankContext, actor: Actor, id: number, edit: BranchEdit) {
  requireCan(actor, 'branches.write');
  checkText({
    name: [edit.name, 200, edit.name !== undefined],
    city: [edit.city, 100, edit.city !== undefined],
    address: [edit.address, 300, false],
  });
  return withTx(ctx, async (t) => {
    const b: BranchRow | undefined = await t.q('branches').where({ id }).first();
    if (!b) throw new NotFound('Branch');
    const patch: Partial<BranchRow> = {};
    if (edit.name !== undefined && edit.name !== b.name) patch.name = edit.name;
    if (edit.city !== undefined && edit.city !== b.city) patch.city = edit.city;
    if (edit.address !== undefined && (edit.address ?? null) !== b.address) patch.address = edit.address ?? null;
    if (!Object.keys(patch).length) return branchDto(b);
    patch.updated_at = t.now;
    await t.q('branches').where({ id }).update(patch);
    const after = branchDto({ ...b, ...patch });
    await audit(t, actor, { action: 'branch.updated', entity: 'branch', entityId: id, before: branchDto(b), after });
    return after;
  });
}

// ---- account types -------------------------------------------------------------------

/** The whole account_types row (AccountTypeRow is that too now; the name stays for its callers). */
export type AccountTypeFullRow = AccountTypeRow;

export function accountTypeDto(r: AccountTypeFullRow, currency: string, rateMicro: number | null | undefined) {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    minBalance: formatAmount(Number(r.min_balance), currency),
    overdraftLimit: formatAmount(Number(r.overdraft_limit), currency),
    approvalThreshold: r.approval_threshold === null ? null : formatAmount(Number(r.approval_threshold), currency),
    currentRate: rateMicro === null || rateMicro === undefined ? null : formatRate(rateMicro),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
export type AccountTypeDto = ReturnType<typeof accountTypeDto>;

/** Amount fields arrive as strings; anything else (numbers included) is an invalid amount naming its field. */
function amountField(value: unknown, currency: string, field: string): number {
  try {
    return parseAmount(value, currency, { allowZero: true });
  } catch (err) {
    if (err instanceof InvalidAmount) throw new InvalidAmount(`${field}: ${err.message}`, { fields: [field] });
    throw err;
  }
}

export interface NewAccountType {
  code: string;
  name: string;
  minBalance: unknown;
  overdraftLimit: unknown;
  approvalThreshold?: unknown;
}

export async function listAccountTypes(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'accountTypes.read');
  const rows: AccountTypeFullRow[] = await ctx.db('account_types').orderBy('code');
  const rates = await ratesInForce(ctx.db, todayOf(ctx));
  return { items: rows.map((r) => accountTypeDto(r, ctx.currency, rates.get(r.code) ?? null)), nextCursor: null };
}

export async function getAccountType(ctx: BankContext, actor: Actor, code: string) {
  requireCan(actor, 'accountTypes.read');
  const r: AccountTypeFullRow | undefined = CODE_RE.test(code) ? await ctx.db('account_types').where({ code }).first() : undefined;
  if (!r) throw new NotFound('Account type');
  const rates = await ratesInForce(ctx.db, todayOf(ctx));
  return accountTypeDto(r, ctx.currency, rates.get(code) ?? null);
}

export async function createAccountType(ctx: BankContext, actor: Actor, input: NewAccountType) {
  requireCan(actor, 'accountTypes.write');
  if (!CODE_RE.test(input.code)) throw new Invalid('code must be 2-16 uppercase letters or digits', { fields: ['code'] });
  checkText({ name: [input.name, 200, true] });
  const row = {
    code: input.code,
    name: input.name,
    min_balance: amountField(input.minBalance, ctx.currency, 'minBalance'),
    overdraft_limit: amountField(input.overdraftLimit, ctx.currency, 'overdraftLimit'),
    approval_threshold:
      input.approvalThreshold === null || input.approvalThreshold === undefined
        ? null
        : amountField(input.approvalThreshold, ctx.currency, 'approvalThreshold'),
  };
  return withTx(ctx, async (t) => {
    if (await t.q('account_types').where({ code: input.code }).first('id'))
      throw new Conflict(`Account type ${input.code} already exists`, 'conflict', { fields: ['code'] });
    const full = { ...row, created_at: t.now, updated_at: t.now };
    const id = await uniquely(`Account type ${input.code}`, () => insertId(t, 'account_types', full));
    const dto = accountTypeDto({ ...full, id }, ctx.currency, null);
    await audit(t, actor, { action: 'account_type.created', entity: 'account_type', entityId: input.code, after: dto });
    return dto;
  });
}

const sameValue = (a: unknown, b: unknown) =>
  a === null || b === null ? a === b : typeof a === 'number' || typeof b === 'number' ? Number(a) === Number(b) : a === b;

export type AccountTypeEdit = Partial<Omit<NewAccountType, 'code'>>;

export async function editAccountType(ctx: BankContext, actor: Actor, code: string, edit: AccountTypeEdit) {
  requireCan(actor, 'accountTypes.write');
  checkText({ name: [edit.name, 200, edit.name !== undefined] });
  const patch: Partial<AccountTypeFullRow> = {};
  if (edit.name !== undefined) patch.name = edit.name;
  if (edit.minBalance !== undefined) patch.min_balance = amountField(edit.minBalance, ctx.currency, 'minBalance');
  if (edit.overdraftLimit !== undefined) patch.overdraft_limit = amountField(edit.overdraftLimit, ctx.currency, 'overdraftLimit');
  if (edit.approvalThreshold !== undefined)
    patch.approval_threshold =
      edit.approvalThreshold === null ? null : amountField(edit.approvalThreshold, ctx.currency, 'approvalThreshold');
  return withTx(ctx, async (t) => {
    const r: AccountTypeFullRow | undefined = CODE_RE.test(code) ? await t.q('account_types').where({ code }).first() : undefined;
    if (!r) throw new NotFound('Account type');
    const rate = (await ratesInForce(t.q, t.now)).get(code) ?? null;
    const changed = Object.fromEntries(Object.entries(patch).filter(([k, v]) => !sameValue(v, r[k as keyof AccountTypeFullRow])));
    if (!Object.keys(changed).length) return accountTypeDto(r, ctx.currency, rate);
    const next = { ...r, ...changed, updated_at: t.now };
    await t
      .q('account_types')
      .where({ code })
      .update({ ...changed, updated_at: t.now });
    const before = accountTypeDto(r, ctx.currency, rate);
    const after = accountTypeDto(next, ctx.currency, rate);
    await audit(t, actor, { action: 'account_type.updated', entity: 'account_type', entityId: code, before, after });
    return after;
  });
}

// ---- interest rates ------------------------------------------------------------------

export type RateRow = Row<InterestRate>;

export const rateDto = (r: RateRow) => ({
  id: r.id,
  accountType: r.account_type,
  annualRate: formatRate(Number(r.annual_rate_micro)),
  effectiveFrom: r.effective_from,
  createdAt: r.created_at,
  createdBy: r.created_by ?? null,
});
export type RateDto = ReturnType<typeof rateDto>;

/** An account type named in a body or query that does not exist is a bad request (400), not a missing resource. */
async function requireType(q: Tx['q'] | BankContext['db'], code: string, field = 'accountType') {
  if (!CODE_RE.test(code) || !(await q('account_types').where({ code }).first('id')))
    throw new Invalid(`Unknown account type ${code}`, { fields: [field] });
}

/** The rate history, oldest first per account type; rates are never rewritten, only added. */
export async function listRates(ctx: BankContext, actor: Actor, f: { accountType?: string }) {
  requireCan(actor, 'rates.read');
  let q = ctx.db<RateRow>('interest_rates');
  if (f.accountType !== undefined) {
    await requireType(ctx.db, f.accountType);
    q = q.where({ account_type: f.accountType });
  }
  const rows: RateRow[] = await q.orderBy([{ column: 'account_type' }, { column: 'effective_from' }, { column: 'id' }]);
  return { items: rows.map(rateDto), nextCursor: null };
}

export interface NewRate {
  accountType: string;
  annualRate: unknown;
  effectiveFrom: string;
}

/** Adds a rate from a date on (today or later): past rates are history and stay as they were. */
export async function createRate(ctx: BankContext, actor: Actor, input: NewRate) {
  requireCan(actor, 'rates.write');
  const micro = parseRate(input.annualRate);
  if (!isRealDate(input.effectiveFrom)) throw new Invalid('effectiveFrom must be a real date YYYY-MM-DD', { fields: ['effectiveFrom'] });
  return withTx(ctx, async (t) => {
    if (input.effectiveFrom < t.now.slice(0, 10))
      throw new Invalid('effectiveFrom must be today or later: past rates are never rewritten', { fields: ['effectiveFrom'] });
    await requireType(t.q, input.accountType);
    const taken = await t.q('interest_rates').where({ account_type: input.accountType, effective_from: input.effectiveFrom }).first('id');
    if (taken)
      throw new Conflict(
        `A rate for ${input.accountType} from ${input.effectiveFrom} already exists; add one from another date`,
        'conflict',
        { fields: ['effectiveFrom'] },
      );
    const row = {
      account_type: input.accountType,
      annual_rate_micro: micro,
      effective_from: input.effectiveFrom,
      created_by: actor.userId,
      created_at: t.now,
    };
    const id = await uniquely(`A rate for ${input.accountType} from ${input.effectiveFrom}`, () => insertId(t, 'interest_rates', row));
    const dto = rateDto({ ...row, id });
    await audit(t, actor, { action: 'interest_rate.created', entity: 'interest_rate', entityId: id, after: dto });
    return dto;
  });
}
