import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Knex } from 'knex';
import type { RelationMappings } from 'objection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Account, BankModel, Customer, MODELS, OutboxEvent, Ticket, Transaction, User } from '../../db/models.js';
import type { Actor, BankContext } from '../../bank/core/context.js';
import { closeAccount, editAccount } from '../../bank/accounts/operations.js';
import { createAnnouncement } from '../../bank/announcements/announcements.js';
import { login } from '../../bank/access/auth.js';
import { getCustomer, onboardCustomer, searchCustomers } from '../../bank/customers/customers.js';
import { customerDto } from '../../bank/customers/dto.js';
import { approve, deposit, transfer } from '../../bank/ledger/transactions.js';
import { createTicket, getTicket, ticketDto, updateTicket } from '../../bank/support/tickets.js';
import { createCannedReply } from '../../bank/support/desk.js';
import { createWebhook } from '../../bank/outbox/webhooks.js';
import { addPayee } from '../../bank/accounts/payees.js';
import { createStandingOrder, runDueStandingOrders } from '../../bank/ledger/standing-orders.js';
import { requestReversal } from '../../bank/ledger/reversals.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { bankOn, openTestAccount, seedReference, TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';

type ModelClass = (typeof MODELS)[number];

const IGNORED_TABLES = new Set(['agenda_jobs']);
const MODELS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../db/models.ts');

/** The instance properties each model class declares in db/models.ts, by class name. */
function declaredProperties(): Map<string, string[]> {
  const source = ts.createSourceFile(MODELS_FILE, fs.readFileSync(MODELS_FILE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, string[]>();
  for (const node of source.statements) {
    if (!ts.isClassDeclaration(node) || !node.name) continue;
    const props = node.members
      .filter(ts.isPropertyDeclaration)
      .filter((m) => !m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword))
      .map((m) => m.name.getText(source));
    out.set(node.name.text, props);
  }
  return out;
}

/** The declared type of each instance property, as written, by class name then property. */
function declaredTypes(): Map<string, Map<string, string>> {
  const source = ts.createSourceFile(MODELS_FILE, fs.readFileSync(MODELS_FILE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, Map<string, string>>();
  for (const node of source.statements) {
    if (!ts.isClassDeclaration(node) || !node.name) continue;
    const types = new Map<string, string>();
    for (const m of node.members.filter(ts.isPropertyDeclaration)) {
      if (!m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword))
        types.set(m.name.getText(source), m.type?.getText(source) ?? '');
    }
    out.set(node.name.text, types);
  }
  return out;
}

/** The string literals of a declared union (`'a' | 'b' | null` gives a, b), or null when it is not one. */
function literalsOf(type: string): string[] | null {
  const parts = type
    .split('|')
    .map((p) => p.trim())
    .filter((p) => p !== 'null');
  return parts.length && parts.every((p) => /^'[^']*'$/.test(p)) ? parts.map((p) => p.slice(1, -1)).sort() : null;
}

/** Every `column in (...)` CHECK of the schema, as 'table.column' to its allowed values. */
async function checkedValuesOf(db: Knex, dialect: string, tables: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (dialect === 'sqlite') {
    for (const table of tables) {
      const { sql } = await db('sqlite_master').where({ type: 'table', name: table }).first('sql');
      for (const m of String(sql).matchAll(/check\s*\(\s*[`"]?(\w+)[`"]?\s+in\s*\(([^)]*)\)\s*\)/gi)) {
        out.set(`${table}.${m[1]}`, [...m[2].matchAll(/'([^']*)'/g)].map((v) => v[1]).sort());
      }
    }
    return out;
  }
  const rows: { t: string; def: string }[] = (
    await db.raw(`select c.relname as t, pg_get_constraintdef(k.oid) as def from pg_constraint k
    join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where k.contype = 'c' and n.nspname = current_schema()`)
  ).rows;
  for (const r of rows) {
    const m = /^CHECK \(+"?(\w+)"?\)?(?:::text)? = ANY \(/.exec(r.def);
    if (m && tables.includes(r.t)) out.set(`${r.t}.${m[1]}`, [...r.def.matchAll(/'([^']*)'/g)].map((v) => v[1]).sort());
  }
  return out;
}

const mappingsOf = (m: ModelClass): RelationMappings =>
  typeof m.relationMappings === 'function' ? (m.relationMappings as () => RelationMappings)() : (m.relationMappings ?? {});

/** 'table.column' of a relation join. */
function splitRef(ref: unknown): { table: string; column: string } {
  const [table, column] = String(ref).split('.');
  return { table, column };
}

const idsOf = (m: ModelClass) => [m.idColumn].flat();
const keyOf = (m: ModelClass, row: Record<string, unknown>) =>
  idsOf(m)
    .map((c) => String(row[c]))
    .join('|');

async function tablesOf(db: Knex, dialect: string): Promise<string[]> {
  const names: string[] =
    dialect === 'sqlite'
      ? await db('sqlite_master').where({ type: 'table' }).andWhereNot('name', 'like', 'sqlite_%').pluck('name')
      : await db('information_schema.tables')
          .where({ table_schema: db.raw('current_schema()'), table_type: 'BASE TABLE' })
          .pluck('table_name');
  return names.filter((n) => !n.startsWith('knex_migrations') && !IGNORED_TABLES.has(n)).sort();
}

async function primaryKeyOf(db: Knex, dialect: string, table: string): Promise<string[]> {
  if (dialect === 'sqlite') {
    const rows: { name: string; pk: number }[] = await db.raw('select name, pk from pragma_table_info(?)', [table]);
    return rows
      .filter((r) => r.pk > 0)
      .map((r) => r.name)
      .sort();
  }
  const cols: string[] = await db('information_schema.table_constraints as tc')
    .join('information_schema.key_column_usage as k', function () {
      this.on('k.constraint_name', 'tc.constraint_name').andOn('k.table_schema', 'tc.table_schema');
    })
    .where({ 'tc.constraint_type': 'PRIMARY KEY', 'tc.table_name': table, 'tc.table_schema': db.raw('current_schema()') })
    .pluck('k.column_name');
  return cols.sort();
}

/** Every foreign key of the schema as 'table.column->table.column'. */
async function foreignKeysOf(db: Knex, dialect: string, tables: string[]): Promise<string[]> {
  const keys: string[] = [];
  if (dialect === 'sqlite') {
    for (const table of tables) {
      const rows: { table: string; from: string; to: string }[] = await db.raw(
        'select "table", "from", "to" from pragma_foreign_key_list(?)',
        [table],
      );
      for (const r of rows) keys.push(`${table}.${r.from}->${r.table}.${r.to}`);
    }
  } else {
    const rows: { t: string; c: string; rt: string; rc: string }[] = await db('information_schema.table_constraints as tc')
      .join('information_schema.key_column_usage as k', function () {
        this.on('k.constraint_name', 'tc.constraint_name').andOn('k.table_schema', 'tc.table_schema');
      })
      .join('information_schema.constraint_column_usage as u', function () {
        this.on('u.constraint_name', 'tc.constraint_name').andOn('u.table_schema', 'tc.table_schema');
      })
      .where({ 'tc.constraint_type': 'FOREIGN KEY', 'tc.table_schema': db.raw('current_schema()') })
      .select({ t: 'k.table_name', c: 'k.column_name', rt: 'u.table_name', rc: 'u.column_name' });
    for (const r of rows) if (tables.includes(r.t)) keys.push(`${r.t}.${r.c}->${r.rt}.${r.rc}`);
  }
  return keys.sort();
}

interface Seeded {
  customerId: number;
  otherCustomerId: number;
  loginId: number;
  customerActor: Actor;
  managerId: number;
  accountId: number;
  bizId: number;
  spareId: number;
  depositId: number;
  transferId: number;
  ticketId: number;
}

const PLACE = { line1: '12 Lake Road', city: 'Pune', postalCode: '411001', country: 'IN' };

/**
 * A small bank through the real code paths, so every relation has rows on both sides:
 * a customer with two addresses and a login (signed in), three accounts (one closed, one
 * edited), a deposit, a transfer held for approval and approved, a ticket with a message
 * assigned to a manager, an announcement; plus the job tables, written as the jobs would.
 */
async function seed(bank: BankContext): Promise<Seeded> {
  const db = bank.db;
  await seedReference(db);
  const teller = await userWithSession(bank, 'teller');
  const manager = await userWithSession(bank, 'manager');
  const customer = await onboardCustomer(bank, teller.actor, {
    firstName: 'Asha',
    lastName: 'Kulkarni',
    email: 'asha@example.com',
    phone: '+91 98765 43210',
    dateOfBirth: '1988-04-12',
    address: PLACE,
    login: { username: 'asha.k', password: TEST_PASSWORD },
  });
  const other = await onboardCustomer(bank, teller.actor, {
    firstName: 'Ravi',
    lastName: 'Menon',
    email: 'ravi@example.com',
    phone: '+91 98765 43211',
    dateOfBirth: '1979-11-02',
    address: PLACE,
  });
  const now = new Date().toISOString();
  await db('addresses').insert({
    customer_id: customer.id,
    line1: '3 Hill Street',
    line2: null,
    city: 'Goa',
    state: null,
    postal_code: '403001',
    country: 'IN',
    created_at: now,
    updated_at: now,
  });
  await login(
    bank,
    { username: 'asha.k', password: TEST_PASSWORD },
    { ip: '127.0.0.1', userAgent: 'vitest' },
    { idleMinutes: 30, absoluteHours: 12, maxFailures: 5, lockMinutes: 15 },
  );
  const customerActor: Actor = { userId: customer.userId, role: 'customer', customerId: customer.id };

  const acct = await openTestAccount(bank, customer.id, 'CUR');
  const biz = await openTestAccount(bank, customer.id, 'BIZ');
  const spare = await openTestAccount(bank, customer.id, 'SAV');
  const dep = await deposit(bank, teller.actor, { accountId: acct.id, amount: '250.00', memo: 'salary' });
  await deposit(bank, teller.actor, { accountId: biz.id, amount: '20000.00' });
  const held = await transfer(bank, customerActor, { fromAccountId: biz.id, toAccountNumber: acct.number, amount: '15000.00' });
  expect(held.value.status).toBe('pending_approval');
  await approve(bank, manager.actor, held.value.id, 'ok');
  await editAccount(bank, manager.actor, acct.id, { note: 'checked by the branch' });
  await closeAccount(bank, manager.actor, spare.id, 'not needed');

  const ticket = await createTicket(bank, customerActor, {
    category: 'card',
    subject: 'Card blocked',
    body: 'My card was blocked abroad.',
  });
  await updateTicket(bank, manager.actor, ticket.id, { assigneeId: manager.user.id });
  await createAnnouncement(bank, manager.actor, { title: 'Holiday', message: 'Closed on Monday', audience: 'all' });

  await db('interest_rates').insert({
    account_type: 'SAV',
    annual_rate_micro: 4_000_000,
    effective_from: '2031-01-01',
    created_by: manager.user.id,
    created_at: now,
  });
  await db('balance_snapshots').insert({ account_id: acct.id, date: '2030-01-01', balance: 25_000, created_at: now });
  await db('interest_accruals').insert({
    account_id: acct.id,
    date: '2030-01-01',
    accrued_micro: 7,
    closing_balance: 25_000,
    annual_rate_micro: 0,
    posted_transaction_id: dep.value.id,
    created_at: now,
  });
  await db('interest_postings').insert({
    account_id: acct.id,
    period: '2030-01',
    accrued_micro: 7,
    carry_in_micro: 0,
    posted_minor: 0,
    carry_out_micro: 7,
    transaction_id: dep.value.id,
    created_at: now,
  });
  await db('mail_outbox').insert({
    dedupe_key: 'statement:1',
    kind: 'statement',
    customer_id: customer.id,
    to_address: 'asha@example.com',
    subject: 'Statement',
    body: 'Hello',
    next_attempt_at: now,
    created_at: now,
    updated_at: now,
  });
  await db('job_cursors').insert({ name: 'mail:notifications', position: 0, updated_at: now });
  await createCannedReply(bank, teller.actor, { title: 'Greeting', body: 'Hello {{firstName}},' });
  const hook = await createWebhook(
    bank,
    { ...manager.actor, role: 'admin' },
    { url: 'https://93.184.216.34/hook', events: ['*'] },
    { allowPrivate: false },
  );
  const ev = await db('events').orderBy('seq').first('seq', 'type');
  await db('webhook_deliveries').insert({
    endpoint_id: hook.id,
    seq: ev.seq,
    event: ev.type,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    give_up_at: now,
    created_at: now,
    updated_at: now,
  });

  // Everyday banking, on the other customer's accounts (the graph below reads Asha's as they were).
  const otherA = await openTestAccount(bank, other.id, 'CUR');
  const otherB = await openTestAccount(bank, other.id, 'CUR');
  const toReverse = await deposit(bank, teller.actor, { accountId: otherA.id, amount: '100.00' });
  await addPayee(bank, customerActor, { accountNumber: otherA.number, nickname: 'Ravi' });
  await db('balance_alerts').insert({
    account_id: otherA.id,
    kind: 'debit_over',
    threshold: 100,
    active: true,
    created_by: customer.userId,
    last_triggered_at: null,
    created_at: now,
  });
  await createStandingOrder(bank, teller.actor, {
    fromAccountId: otherA.id,
    toAccountNumber: otherB.number,
    amount: '1.00',
    frequency: 'once',
    startDate: now.slice(0, 10),
  });
  await runDueStandingOrders(bank);
  const reversal = await requestReversal(bank, teller.actor, toReverse.value.id, 'entered twice');
  await approve(bank, manager.actor, reversal.id);

  return {
    customerId: customer.id,
    otherCustomerId: other.id,
    loginId: customer.userId!,
    customerActor,
    managerId: manager.user.id,
    accountId: acct.id,
    bizId: biz.id,
    spareId: spare.id,
    depositId: dep.value.id,
    transferId: held.value.id,
    ticketId: ticket.id,
  };
}

describe.each(DIALECTS)('Objection models on %s', (dialect) => {
  let tdb: TestDb;
  let bank: BankContext;
  let s: Seeded;
  const db = () => tdb.db;

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    bank = await bankOn(tdb.db);
    s = await seed(bank);
  }, 60_000);
  afterAll(() => tdb?.destroy());

  it('every table of the migrations has exactly one model', async () => {
    const tables = await tablesOf(db(), dialect);
    expect(tables.length).toBeGreaterThanOrEqual(32);
    const modelled = MODELS.map((m) => m.tableName);
    expect(new Set(modelled).size).toBe(modelled.length);
    expect([...modelled].sort()).toEqual(tables);
  });

  it('declares exactly the columns of its table, and idColumn is the primary key', async () => {
    const declared = declaredProperties();
    for (const m of MODELS) {
      const relations = Object.keys(mappingsOf(m)).sort();
      const props = declared.get(m.name);
      expect(props, m.name).toBeDefined();
      const columns = Object.keys(await db()(m.tableName).columnInfo()).sort();
      expect(props!.filter((p) => !relations.includes(p)).sort(), `${m.name} columns`).toEqual(columns);
      expect(props!.filter((p) => relations.includes(p)).sort(), `${m.name} relation properties`).toEqual(relations);
      expect([...idsOf(m)].sort(), `${m.name} idColumn`).toEqual(await primaryKeyOf(db(), dialect, m.tableName));
    }
  });

  it('declares a column nullable exactly when the table allows NULL', async () => {
    const declared = declaredTypes();
    for (const m of MODELS) {
      const info = await db()(m.tableName).columnInfo();
      const types = declared.get(m.name)!;
      for (const [column, { nullable }] of Object.entries(info)) {
        // SQLite lets a primary key that is not INTEGER PRIMARY KEY hold NULL; no row of ours does.
        const allowsNull = nullable && !idsOf(m).includes(column);
        expect(/\bnull\b/.test(types.get(column) ?? ''), `${m.name}.${column}: ${types.get(column)}`).toBe(allowsNull);
      }
    }
  });

  it('declares a CHECKed column as the union of exactly the values its CHECK allows', async () => {
    const checks = await checkedValuesOf(db(), dialect, await tablesOf(db(), dialect));
    expect(checks.size).toBeGreaterThanOrEqual(15);
    const declared = declaredTypes();
    for (const m of MODELS) {
      for (const column of Object.keys(await db()(m.tableName).columnInfo())) {
        const type = declared.get(m.name)!.get(column) ?? '';
        const allowed = checks.get(`${m.tableName}.${column}`);
        if (allowed) expect(literalsOf(type), `${m.name}.${column}`).toEqual(allowed);
      }
    }
  });

  it('maps every foreign key of the schema, and only foreign keys', async () => {
    const fks = await foreignKeysOf(db(), dialect, await tablesOf(db(), dialect));
    expect(fks.length).toBeGreaterThanOrEqual(30);
    const belongsTo = new Set<string>();
    for (const m of MODELS) {
      for (const [name, mapping] of Object.entries(mappingsOf(m))) {
        const [from, to] = [String(mapping.join.from), String(mapping.join.to)];
        const owning = mapping.relation === BankModel.BelongsToOneRelation;
        const fk = owning ? `${from}->${to}` : `${to}->${from}`;
        expect(fks, `${m.name}.${name}`).toContain(fk);
        if (owning) belongsTo.add(fk);
      }
    }
    expect([...belongsTo].sort()).toEqual(fks);
  });

  it('every relation fetches exactly the rows its join names', async () => {
    let relations = 0;
    for (const m of MODELS) {
      for (const [name, mapping] of Object.entries(mappingsOf(m))) {
        relations++;
        const related = mapping.modelClass as ModelClass;
        const from = splitRef(mapping.join.from);
        const to = splitRef(mapping.join.to);
        expect(from.table, `${m.name}.${name} owner`).toBe(m.tableName);
        expect(to.table, `${m.name}.${name} target`).toBe(related.tableName);

        const owners = (await (m as typeof BankModel).query(db()).withGraphFetched(name)) as unknown as Record<string, unknown>[];
        const ownRows: Record<string, unknown>[] = await db()(m.tableName);
        expect(owners.length, `${m.name} rows`).toBe(ownRows.length);
        let found = 0;
        for (const owner of owners) {
          const value = owner[from.column];
          const expected: Record<string, unknown>[] =
            value === null || value === undefined ? [] : await db()(related.tableName).where(to.column, value as string | number);
          const got = owner[name];
          const gotRows = (Array.isArray(got) ? got : got ? [got] : []) as Record<string, unknown>[];
          if (!Array.isArray(got)) expect(expected.length, `${m.name}.${name} is one-to-one`).toBeLessThanOrEqual(1);
          expect(gotRows.map((r) => keyOf(related, r)).sort(), `${m.name} ${keyOf(m, owner)} .${name}`).toEqual(
            expected.map((r) => keyOf(related, r)).sort(),
          );
          expect(
            gotRows.every((r) => r instanceof related),
            `${m.name}.${name} model class`,
          ).toBe(true);
          found += gotRows.length;
        }
        // The seed gives every relation something to find, so an empty answer is a fault.
        expect(found, `${m.name}.${name} found nothing`).toBeGreaterThan(0);
      }
    }
    expect(relations).toBeGreaterThanOrEqual(40);
  });

  it('reads the seeded bank as a graph', async () => {
    const c = await Customer.query(db())
      .findById(s.customerId)
      .withGraphFetched(
        '[addresses(orderById), user(customerLogin), accounts(orderById).[accountType, homeBranch, closure, entries(orderById).transaction], tickets.[messages.author, assignee], mails]',
      );
    expect(c).toBeDefined();
    expect(c!.addresses!.map((a) => a.line1)).toEqual(['12 Lake Road', '3 Hill Street']);
    expect(c!.user!.id).toBe(s.loginId);
    expect(c!.accounts!.map((a) => [a.id, a.accountType!.code, a.homeBranch!.code, a.status])).toEqual([
      [s.accountId, 'CUR', 'MAIN', 'active'],
      [s.bizId, 'BIZ', 'MAIN', 'active'],
      [s.spareId, 'SAV', 'MAIN', 'closed'],
    ]);
    expect(c!.accounts![2].closure!.reason).toBe('not needed');
    const cur = c!.accounts![0];
    expect(cur.entries!.map((e) => [e.amount, e.transaction!.kind])).toEqual([
      [25_000, 'deposit'],
      [1_500_000, 'transfer'],
    ]);
    expect(c!.tickets!).toHaveLength(1);
    expect(c!.tickets![0].messages!.map((m) => [m.body, m.author!.id])).toEqual([['My card was blocked abroad.', s.loginId]]);
    expect(c!.tickets![0].assignee!.id).toBe(s.managerId);
    expect(c!.mails!.map((m) => m.dedupe_key)).toEqual(['statement:1']);

    const dep = await Transaction.query(db())
      .findById(s.depositId)
      .withGraphFetched('[entries(orderById).account, fromAccount, toAccount, creator]');
    expect(dep!.entries!.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
    expect(dep!.entries!.map((e) => e.account!.kind).sort()).toEqual(['cash', 'customer']);
    expect(dep!.fromAccount!.kind).toBe('cash');
    expect(dep!.toAccount!.id).toBe(s.accountId);
    const held = await Transaction.query(db()).findById(s.transferId).withGraphFetched('[fromAccount, toAccount, creator, decider]');
    expect([held!.fromAccount!.id, held!.toAccount!.id, held!.creator!.id, held!.decider!.id]).toEqual([
      s.bizId,
      s.accountId,
      s.loginId,
      s.managerId,
    ]);

    const u = await User.query(db()).findById(s.loginId).withGraphFetched('[customer, sessions, loginEvents, notifications(orderById)]');
    expect(u!.customer!.id).toBe(s.customerId);
    expect(u!.sessions!).toHaveLength(1);
    expect(u!.loginEvents!.map((e) => e.kind)).toEqual(['login']);
    expect(u!.notifications!.map((n) => n.kind)).toContain('deposit');

    const acct = await Account.query(db())
      .findById(s.accountId)
      .withGraphFetched('[edits.editor, snapshots, accruals.postedTransaction, postings.transaction, incoming]');
    expect(acct!.edits!.map((e) => [e.note, e.editor!.id])).toEqual([['checked by the branch', s.managerId]]);
    expect(acct!.snapshots!.map((x) => x.balance)).toEqual([25_000]);
    expect(acct!.accruals![0].postedTransaction!.id).toBe(s.depositId);
    expect(acct!.postings![0].transaction!.id).toBe(s.depositId);
    expect(acct!.incoming!.map((t) => t.id).sort((a, b) => a - b)).toEqual([s.depositId, s.transferId]);

    const ev = await OutboxEvent.query(db()).where({ type: 'ticket.created' }).first().withGraphFetched('rooms(orderById).event');
    expect(ev!.rooms!.map((r) => r.room).sort()).toEqual([`customer:${s.customerId}`, 'staff', `ticket:${s.ticketId}`].sort());
    expect(ev!.rooms!.every((r) => r.event!.seq === ev!.seq)).toBe(true);

    const t = await Ticket.query(db()).findById(s.ticketId).withGraphFetched('customer');
    expect(t!.customer!.first_name).toBe('Asha');
  });

  it('getCustomer, searchCustomers and getTicket answer as the hand-written reads did', async () => {
    const staff: Actor = { userId: s.managerId, role: 'manager', customerId: null };
    const row = await db()('customers').where({ id: s.customerId }).first();
    const addresses = await db()('addresses').where({ customer_id: s.customerId }).orderBy('id');
    const expected = customerDto(row, addresses, s.loginId);
    expect(await getCustomer(bank, staff, s.customerId)).toEqual(expected);
    expect(await getCustomer(bank, s.customerActor, s.customerId)).toEqual(expected);
    await expect(getCustomer(bank, s.customerActor, s.otherCustomerId)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getCustomer(bank, staff, 999_999)).rejects.toMatchObject({ code: 'not_found' });
    const other = await getCustomer(bank, staff, s.otherCustomerId);
    expect([other.userId, other.addresses.map((a) => a.line1)]).toEqual([null, ['12 Lake Road']]);
    const found = await searchCustomers(bank, staff, { limit: 10 });
    expect(found.items).toEqual([expected, other]);

    const ticketRow = await db()('tickets').where({ id: s.ticketId }).first();
    const messages = await db()('ticket_messages as m')
      .join('users as u', 'u.id', 'm.author_id')
      .where({ ticket_id: s.ticketId })
      .orderBy('m.id')
      .select('m.*', 'u.display_name as author_name');
    const ticket = await getTicket(bank, s.customerActor, s.ticketId);
    expect(ticket).toEqual(ticketDto(ticketRow, messages));
    expect(ticket.messages).toHaveLength(1);
    expect(await getTicket(bank, staff, s.ticketId)).toEqual(ticket);
    const stranger: Actor = { userId: s.loginId, role: 'customer', customerId: s.otherCustomerId };
    await expect(getTicket(bank, stranger, s.ticketId)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getTicket(bank, staff, 999_999)).rejects.toMatchObject({ code: 'not_found' });
  });
});
