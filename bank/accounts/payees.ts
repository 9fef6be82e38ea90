import type { Actor, BankContext } from '../core/context.js';
import { Conflict, Invalid, NotFound, RateLimited } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { requireCan } from '../access/permissions.js';
import { toPage } from '../core/paging.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Account, Customer, Payee, Row } from '../../db/models.js';

/** Confirmation-of-payee look-ups a user may make per minute (payee saves count too). */
export const LOOKUPS_PER_MINUTE = 30;
const WINDOW_MS = 60_000;
const NICKNAME_MAX = 60;

/** "Ravi Kumar" → "R. Kumar": enough to recognise the payee, not enough to harvest names. */
export function maskedHolderName(firstName: string, lastName: string): string {
  const initial = firstName.trim().charAt(0).toUpperCase();
  const last = lastName.trim();
  return initial ? `${initial}. ${last}` : last;
}

interface Holder {
  accountId: number;
  number: string;
  currency: string;
  customerId: number;
  firstName: string;
  lastName: string;
}

/**
 * Counts the look-up against the caller's minute (in the database, so every pod shares the
 * count and harvesting leaves a trace) and finds the active customer account by number.
 * The count is committed whether or not the account exists.
 */
async function confirmPayee(ctx: BankContext, actor: Actor, number: string): Promise<Holder> {
  const found = await withTx(ctx, async (t) => {
    if (actor.userId !== null) {
      const since = new Date(Date.parse(t.now) - WINDOW_MS).toISOString();
      const recent = await t
        .q('payee_lookups')
        .where('user_id', actor.userId)
        .andWhere('at', '>', since)
        .orderBy('at')
        .limit(LOOKUPS_PER_MINUTE)
        .select('at');
      if (recent.length >= LOOKUPS_PER_MINUTE) {
        return { limited: Math.max(1, Math.ceil((Date.parse(recent[0].at) + WINDOW_MS - Date.parse(t.now)) / 1000)) };
      }
    }
    const holder = await holderOf(t, number);
    if (actor.userId !== null)
      await t.q('payee_lookups').insert({ user_id: actor.userId, account_number: number.slice(0, 12), found: !!holder, at: t.now });
    return { holder };
  });
  if ('limited' in found) throw new RateLimited(found.limited!);
  if (!found.holder) throw new NotFound('Account');
  return found.holder;
}

async function holderOf(t: Tx, number: string): Promise<Holder | null> {
  if (!/^\d{12}$/.test(number)) return null;
  const r = await t
    .q('accounts as a')
    .join('customers as c', 'c.id', 'a.customer_id')
    .where({ 'a.number': number, 'a.kind': 'customer', 'a.status': 'active' })
    .first('a.id', 'a.number', 'a.currency', 'a.customer_id', 'c.first_name', 'c.last_name');
  return r
    ? { accountId: r.id, number: r.number, currency: r.currency, customerId: r.customer_id, firstName: r.first_name, lastName: r.last_name }
    : null;
}

/** GET /accounts/lookup: whose account a number is, masked. */
export async function lookupAccount(ctx: BankContext, actor: Actor, number: string) {
  requireCan(actor, 'accounts.lookup');
  const h = await confirmPayee(ctx, actor, number);
  return { accountNumber: h.number, holderName: maskedHolderName(h.firstName, h.lastName), currency: h.currency };
}

/** A payee joined with its account's number and its holder's name (payeeRows). */
type PayeeRow = Pick<Row<Payee>, 'id' | 'customer_id' | 'account_id' | 'nickname' | 'created_at'> &
  Pick<Row<Account>, 'number'> &
  Pick<Row<Customer>, 'first_name' | 'last_name'>;

const payeeDto = (r: PayeeRow) => ({
  id: r.id,
  accountNumber: r.number,
  nickname: r.nickname,
  holderName: maskedHolderName(r.first_name, r.last_name),
  createdAt: r.created_at,
});
export type PayeeDto = ReturnType<typeof payeeDto>;

const payeeRows = (q: BankContext['db'] | Tx['q']) =>
  q('payees as p')
    .join('accounts as a', 'a.id', 'p.account_id')
    .join('customers as c', 'c.id', 'a.customer_id')
    .select('p.id', 'p.customer_id', 'p.account_id', 'p.nickname', 'p.created_at', 'a.number', 'c.first_name', 'c.last_name');

/** A customer's payees, oldest first (staff may name the customer). */
export async function listPayees(ctx: BankContext, actor: Actor, opts: { customerId?: number; limit: number; cursor?: number | null }) {
  requireCan(actor, 'payees.read');
  const customerId = actor.role === 'customer' ? actor.customerId : (opts.customerId ?? null);
  if (customerId === null) return toPage(0, [] as PayeeDto[], opts.limit);
  let q = payeeRows(ctx.db).where('p.customer_id', customerId);
  if (opts.cursor) q = q.where('p.id', '>', opts.cursor);
  const rows: PayeeRow[] = await q.orderBy('p.id').limit(opts.limit + 1);
  return toPage(rows.length, rows.slice(0, opts.limit).map(payeeDto), opts.limit);
}

export async function addPayee(ctx: BankContext, actor: Actor, input: { accountNumber: string; nickname: string }): Promise<PayeeDto> {
  requireCan(actor, 'payees.own');
  const nickname = input.nickname.trim();
  if (!nickname || nickname.length > NICKNAME_MAX)
    throw new Invalid(`nickname must be 1 to ${NICKNAME_MAX} characters`, { fields: ['nickname'] });
  const holder = await confirmPayee(ctx, actor, input.accountNumber);
  return withTx(ctx, async (t) => {
    const customerId = actor.customerId!;
    if (await t.q('payees').where({ customer_id: customerId, account_id: holder.accountId }).first('id')) {
      throw new Conflict(`Account ${holder.number} is already one of your payees`);
    }
    const [ins] = await t
      .q('payees')
      .insert({ customer_id: customerId, account_id: holder.accountId, nickname, created_by: actor.userId, created_at: t.now }, ['id']);
    const id = Number(typeof ins === 'object' ? ins.id : ins);
    const dto = payeeDto((await payeeRows(t.q).where('p.id', id).first()) as PayeeRow);
    await audit(t, actor, { action: 'payee.created', entity: 'payee', entityId: id, after: dto });
    return dto;
  });
}

export async function deletePayee(ctx: BankContext, actor: Actor, id: number): Promise<void> {
  requireCan(actor, 'payees.own');
  await withTx(ctx, async (t) => {
    const row: PayeeRow | undefined = await payeeRows(t.q).where('p.id', id).first();
    if (!row || row.customer_id !== actor.customerId) throw new NotFound('Payee');
    await t.q('payees').where({ id }).delete();
    await audit(t, actor, { action: 'payee.deleted', entity: 'payee', entityId: id, before: payeeDto(row) });
  });
}
