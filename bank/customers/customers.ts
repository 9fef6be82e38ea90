// The customer operations: onboarding (customer, first address and optional login in one
// transaction), reading and staff search, editing a customer's fields (a customer only their
// own email and phone, an email change confirmed by password) and managing their addresses
// (a customer keeps at least one). Each checks the actor's permission and ownership, checks
// the input against rules.ts, writes in one transaction, records the event and audits it, and
// answers with the objects of dto.ts.
import type { Knex } from 'knex';
import { toPage } from '../core/paging.js';
import { Customer } from '../../db/models.js';
import type { Actor, BankContext } from '../core/context.js';
import { Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated } from '../core/errors.js';
import { notifyUsers } from '../notifications/send.js';
import { verifyPassword } from '../access/passwords.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import type { CustomerField } from '../../shared/events.js';
import { requireCan } from '../access/permissions.js';
import { isUniqueViolation } from '../core/checks.js';
import { type Tx, withTx } from '../core/db-tx.js';
import { USERNAME_RE, createUserIn, hashNewPassword } from '../access/user-records.js';
import { type AddressInput, type CustomerFields, type NewCustomer, type Problems, checkAddress, checkPerson, raise } from './rules.js';
import { type AddressDto, type AddressRow, type CustomerDto, type CustomerRow, addressDto, customerDto } from './dto.js';

type Q = Knex | Knex.Transaction;

/** What a customer answer shows besides the row: its addresses in order and its first customer login. */
const CUSTOMER_GRAPH = '[addresses(orderById), user(customerLogin)]';
const graphDto = (c: Customer) => customerDto(c, c.addresses ?? [], c.user?.id ?? null);

/** Answers for several customers at once (one query per relation, whatever their number). */
async function dtos(q: Q, rows: CustomerRow[]): Promise<CustomerDto[]> {
  if (!rows.length) return [];
  return (await Customer.fetchGraph(rows, CUSTOMER_GRAPH, { transaction: q })).map(graphDto);
}
const dtoOf = async (q: Q, c: CustomerRow) => (await dtos(q, [c]))[0];

function mayRead(actor: Actor, id: number): void {
  if (actor.role === 'customer' && actor.customerId !== id) throw new NotFound('Customer');
}

/** The answer for one customer the actor may see (same rule as visibleCustomer). */
async function visibleCustomerDto(q: Q, actor: Actor, id: number): Promise<CustomerDto> {
  mayRead(actor, id);
  const c = await Customer.query(q).findById(id).withGraphFetched(CUSTOMER_GRAPH);
  if (!c) throw new NotFound('Customer');
  return graphDto(c);
}

/**
 * The customer record the actor may see: staff any, a customer only their own; anything
 * else is "not found" so ids cannot be probed. Inside a write on PostgreSQL the row is
 * locked, so concurrent address edits of one customer queue (the last-address rule holds).
 */
async function visibleCustomer(q: Q, actor: Actor, id: number, lock = false): Promise<CustomerRow> {
  mayRead(actor, id);
  let sel = q<CustomerRow>('customers').where({ id });
  if (lock) sel = sel.forUpdate();
  const c = await sel.first();
  if (!c) throw new NotFound('Customer');
  return c;
}
const lockCustomer = (t: Tx, actor: Actor, id: number) => visibleCustomer(t.q, actor, id, t.ctx.dialect === 'pg');

const trimOrNull = (s: string | null | undefined) => (s === undefined || s === null || !s.trim() ? null : s.trim());

// ---- onboarding ----------------------------------------------------------------------------

function addressRow(a: AddressInput) {
  return {
    line1: a.line1.trim(),
    line2: trimOrNull(a.line2),
    city: a.city.trim(),
    state: trimOrNull(a.state),
    postal_code: a.postalCode.trim(),
    country: a.country,
  };
}

function personRow(c: Partial<CustomerFields>) {
  const row: Partial<CustomerRow> = {};
  if (c.firstName !== undefined) row.first_name = c.firstName.trim();
  if (c.lastName !== undefined) row.last_name = c.lastName.trim();
  if (c.email !== undefined) row.email = c.email.trim();
  if (c.phone !== undefined) row.phone = c.phone.trim();
  if (c.dateOfBirth !== undefined) row.date_of_birth = c.dateOfBirth;
  return row;
}

/** Names a login problem by its place in the onboarding body (login.username, login.password). */
function asLoginError(err: unknown): unknown {
  // Two onboardings racing for one username on PostgreSQL: the unique index decides.
  if (isUniqueViolation(err)) return new Conflict('That username is taken', 'conflict', { fields: ['login.username'] });
  if (!(err instanceof DomainError) || !Array.isArray(err.details?.fields)) return err;
  const fields = (err.details.fields as string[]).map((f) => (f === 'username' || f === 'password' ? `login.${f}` : f));
  return err.code === 'conflict'
    ? new Conflict(err.message, 'conflict', { fields })
    : new DomainError(err.code, err.message, { ...err.details, fields });
}

/**
 * Onboarding in one transaction: the customer, their first address and, with `login`, a
 * customer user. A taken username refuses the whole thing; nothing is created.
 */
export async function onboardCustomer(ctx: BankContext, actor: Actor, input: NewCustomer): Promise<CustomerDto> {
  requireCan(actor, 'customers.create');
  const p: Problems = new Map();
  checkPerson(p, input, ctx.now().toISOString().slice(0, 10), false);
  checkAddress(p, input.address, 'address.', false);
  const username = input.login?.username?.toLowerCase();
  if (input.login && !(typeof username === 'string' && USERNAME_RE.test(username)))
    p.set('login.username', 'must be 3-64 characters of a-z, 0-9, . _ -');
  raise(p);
  let passwordHash: string | null = null;
  if (input.login) {
    // Fail fast before the slow hash; the check inside the transaction is the one that counts.
    if (await ctx.db('users').where({ username }).first('id'))
      throw new Conflict(`Username ${username} is taken`, 'conflict', { fields: ['login.username'] });
    // Hashed outside the transaction: argon2 is slow and SQLite has one writer.
    passwordHash = await hashNewPassword(input.login.password).catch((err) => Promise.reject(asLoginError(err)));
  }
  return withTx(ctx, async (t) => {
    const row = { ...(personRow(input) as Omit<CustomerRow, 'id' | 'created_at' | 'updated_at'>), created_at: t.now, updated_at: t.now };
    const [ins] = await t.q('customers').insert(row, ['id']);
    const id: number = typeof ins === 'object' ? ins.id : ins;
    await t.q('addresses').insert({ customer_id: id, ...addressRow(input.address), created_at: t.now, updated_at: t.now });
    if (input.login && passwordHash) {
      await createUserIn(t, actor, {
        username: username!,
        passwordHash,
        role: 'customer',
        customerId: id,
        displayName: `${row.first_name} ${row.last_name}`.slice(0, 200),
      }).catch((err) => Promise.reject(asLoginError(err)));
    }
    const dto = await dtoOf(t.q, { ...row, id });
    recordEvent(t, 'customer.created', [rooms.staff], { customer: dto });
    await audit(t, actor, { action: 'customer.created', entity: 'customer', entityId: id, after: dto });
    return dto;
  });
}

// ---- reading ---------------------------------------------------------------------------------

export async function getCustomer(ctx: BankContext, actor: Actor, id: number): Promise<CustomerDto> {
  requireCan(actor, 'customers.read');
  return visibleCustomerDto(ctx.db, actor, id);
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, '\\$&');

/**
 * Staff search: every word of q must match a name, the email, the phone (spaces and
 * dashes ignored) or one of the customer's account numbers.
 */
export async function searchCustomers(ctx: BankContext, actor: Actor, f: { q?: string; limit: number; cursor?: number | null }) {
  requireCan(actor, 'customers.search');
  let sel = ctx.db<CustomerRow>('customers');
  const words = (f.q ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8);
  for (const word of words) {
    const like = `%${likeEscape(word)}%`;
    const digits = word.replace(/[\s-]/g, '');
    sel = sel.where((w) => {
      w.whereRaw(`lower(first_name) like ? escape '\\'`, [like])
        .orWhereRaw(`lower(last_name) like ? escape '\\'`, [like])
        .orWhereRaw(`lower(email) like ? escape '\\'`, [like])
        .orWhereRaw(`replace(replace(phone, ' ', ''), '-', '') like ? escape '\\'`, [`%${likeEscape(digits)}%`]);
      if (/^\d+$/.test(word)) {
        w.orWhereExists((e) =>
          e
            .select(ctx.db.raw('1'))
            .from('accounts')
            .whereRaw('accounts.customer_id = customers.id')
            .andWhere('accounts.number', 'like', `%${word}%`),
        );
      }
    });
  }
  if (f.cursor) sel = sel.where('id', '>', f.cursor);
  const rows = await sel.orderBy('id').limit(f.limit + 1);
  const items = await dtos(ctx.db, rows.slice(0, f.limit));
  return toPage(rows.length, items, f.limit);
}

// ---- editing ---------------------------------------------------------------------------------

/** What a customer may change of their own record; staff may change every field. */
const SELF_EDITABLE = new Set<keyof CustomerFields>(['email', 'phone']);
const FIELD_COLUMNS: Record<keyof CustomerFields, keyof CustomerRow> = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  phone: 'phone',
  dateOfBirth: 'date_of_birth',
};

/** After an address change: the customer.updated event with the whole record, then the audit row (last). */
async function customerChanged(
  t: Tx,
  actor: Actor,
  id: number,
  action: string,
  entity: string,
  entityId: number,
  before: unknown,
  after: unknown,
) {
  const dto = await visibleCustomerDto(t.q, actor, id);
  recordEvent(t, 'customer.updated', [rooms.customer(id), rooms.staff], { customer: dto });
  await audit(t, actor, { action, entity, entityId, before, after });
  return dto;
}

/**
 * Edits a customer. A customer changing their own email must confirm it with their current
 * password (a stolen session must not redirect the bank's mail), and is told by notification.
 * Emails are contact addresses, not identities (sign-in is by username and nothing looks a
 * customer up by email), so two customers may share one (a household); refusing a duplicate
 * would also tell a customer that someone else banks here with that address.
 */
export async function editCustomer(
  ctx: BankContext,
  actor: Actor,
  id: number,
  input: Partial<CustomerFields> & { currentPassword?: string },
): Promise<CustomerDto> {
  requireCan(actor, 'customers.edit');
  const { currentPassword, ...edit } = input;
  const given = (Object.keys(edit) as (keyof CustomerFields)[]).filter((k) => edit[k] !== undefined && k in FIELD_COLUMNS);
  if (actor.role === 'customer') {
    // Ownership first: another customer's id is "not found", never "forbidden".
    await visibleCustomer(ctx.db, actor, id);
    const refused = given.filter((k) => !SELF_EDITABLE.has(k));
    if (refused.length)
      throw new Forbidden(`Customers may change only their email and phone; ask the bank to change ${refused.join(', ')}`);
  }
  const p: Problems = new Map();
  checkPerson(p, edit, ctx.now().toISOString().slice(0, 10), true);
  raise(p);
  const selfEmailChange =
    actor.role === 'customer' &&
    edit.email !== undefined &&
    (await ctx.db('customers').where({ id }).first('email'))?.email !== edit.email.trim();
  if (selfEmailChange) await confirmPassword(ctx, actor, currentPassword);
  return withTx(ctx, async (t) => {
    const c = await lockCustomer(t, actor, id);
    const wanted = personRow(edit);
    const patch = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => c[k as keyof CustomerRow] !== v)) as Partial<CustomerRow>;
    if (!Object.keys(patch).length) return dtoOf(t.q, c);
    const { addresses: _before, ...before } = await dtoOf(t.q, c);
    await t
      .q('customers')
      .where({ id })
      .update({ ...patch, updated_at: t.now });
    const dto = await dtoOf(t.q, { ...c, ...patch, updated_at: t.now });
    const { addresses: _after, ...after } = dto;
    const changes: Partial<Record<CustomerField, readonly [string, string]>> = Object.fromEntries(
      (Object.keys(FIELD_COLUMNS) as (keyof CustomerFields)[])
        .filter((k) => before[k] !== after[k])
        .map((k) => [k, [before[k], after[k]]] as const),
    );
    recordEvent(t, 'customer.updated', [rooms.customer(id), rooms.staff], { customer: dto, changes });
    if (selfEmailChange && actor.userId !== null && 'email' in changes) {
      await notifyUsers(t, [actor.userId], {
        kind: 'security',
        title: 'Email changed',
        body: `Your email is now ${after.email}. If this was not you, contact the bank.`,
      });
    }
    await audit(t, actor, { action: 'customer.updated', entity: 'customer', entityId: id, before, after });
    return dto;
  });
}

async function confirmPassword(ctx: BankContext, actor: Actor, currentPassword: string | undefined): Promise<void> {
  if (!currentPassword) throw new Invalid('Changing your email needs your current password', { fields: ['currentPassword'] });
  const user = actor.userId === null ? undefined : await ctx.db('users').where({ id: actor.userId }).first('password_hash');
  if (!user || !(await verifyPassword(user.password_hash, currentPassword)))
    throw new Unauthenticated('invalid_credentials', 'The current password is wrong');
}

// ---- addresses -----------------------------------------------------------------------------

export async function listAddresses(ctx: BankContext, actor: Actor, customerId: number) {
  requireCan(actor, 'customers.read');
  await visibleCustomer(ctx.db, actor, customerId);
  const rows: AddressRow[] = await ctx.db('addresses').where({ customer_id: customerId }).orderBy('id');
  return { items: rows.map(addressDto), nextCursor: null };
}

async function visibleAddress(t: Tx, customerId: number, addressId: number): Promise<AddressRow> {
  const a: AddressRow | undefined = await t.q('addresses').where({ id: addressId, customer_id: customerId }).first();
  if (!a) throw new NotFound('Address');
  return a;
}

export async function addAddress(ctx: BankContext, actor: Actor, customerId: number, input: AddressInput): Promise<AddressDto> {
  requireCan(actor, 'customers.edit');
  await visibleCustomer(ctx.db, actor, customerId);
  const p: Problems = new Map();
  checkAddress(p, input, '', false);
  raise(p);
  return withTx(ctx, async (t) => {
    await lockCustomer(t, actor, customerId);
    const row = { customer_id: customerId, ...addressRow(input), created_at: t.now, updated_at: t.now };
    const [ins] = await t.q('addresses').insert(row, ['id']);
    const dto = addressDto({ ...row, id: typeof ins === 'object' ? ins.id : ins });
    await customerChanged(t, actor, customerId, 'address.created', 'address', dto.id, null, { customerId, ...dto });
    return dto;
  });
}

export async function editAddress(
  ctx: BankContext,
  actor: Actor,
  customerId: number,
  addressId: number,
  edit: Partial<AddressInput>,
): Promise<AddressDto> {
  requireCan(actor, 'customers.edit');
  await visibleCustomer(ctx.db, actor, customerId);
  const p: Problems = new Map();
  checkAddress(p, edit, '', true);
  raise(p);
  return withTx(ctx, async (t) => {
    await lockCustomer(t, actor, customerId);
    const a = await visibleAddress(t, customerId, addressId);
    const wanted: Partial<AddressRow> = {};
    if (edit.line1 !== undefined) wanted.line1 = edit.line1.trim();
    if (edit.line2 !== undefined) wanted.line2 = trimOrNull(edit.line2);
    if (edit.city !== undefined) wanted.city = edit.city.trim();
    if (edit.state !== undefined) wanted.state = trimOrNull(edit.state);
    if (edit.postalCode !== undefined) wanted.postal_code = edit.postalCode.trim();
    if (edit.country !== undefined) wanted.country = edit.country;
    const patch = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => a[k as keyof AddressRow] !== v)) as Partial<AddressRow>;
    if (!Object.keys(patch).length) return addressDto(a);
    await t
      .q('addresses')
      .where({ id: addressId })
      .update({ ...patch, updated_at: t.now });
    const after = addressDto({ ...a, ...patch, updated_at: t.now });
    await customerChanged(
      t,
      actor,
      customerId,
      'address.updated',
      'address',
      addressId,
      { customerId, ...addressDto(a) },
      { customerId, ...after },
    );
    return after;
  });
}

/** Removes an address; a customer always keeps at least one. */
export async function removeAddress(ctx: BankContext, actor: Actor, customerId: number, addressId: number): Promise<void> {
  requireCan(actor, 'customers.edit');
  await visibleCustomer(ctx.db, actor, customerId);
  await withTx(ctx, async (t) => {
    await lockCustomer(t, actor, customerId);
    const a = await visibleAddress(t, customerId, addressId);
    const [{ n }] = await t.q('addresses').where({ customer_id: customerId }).count({ n: '*' });
    if (Number(n) <= 1) throw new Conflict('A customer keeps at least one address: add the new one before removing the last');
    await t.q('addresses').where({ id: addressId }).delete();
    await customerChanged(t, actor, customerId, 'address.deleted', 'address', addressId, { customerId, ...addressDto(a) }, null);
  });
}
