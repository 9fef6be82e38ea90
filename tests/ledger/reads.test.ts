import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { bankOn, createCustomer, openTestAccount, seedReference, TELLER, code } from '../helpers/fixtures.js';
import type { Actor, BankContext } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { accountEntries, listAccounts } from '../../bank/accounts/operations.js';
import { withTx } from '../../bank/core/db-tx.js';

// The hot reads (db/read.ts): a customer's accounts and unfiltered entry pages come from
// prepared statements — on SQLite through a read-only connection of their own.
describe.each(DIALECTS)('prepared reads on %s', (dialect) => {
  let tdb: TestDb;
  let bank: BankContext;
  let asha: Actor;
  let ravi: Actor;
  let a: { id: number; number: string };
  let b: { id: number; number: string };
  let r: { id: number; number: string };

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    bank = await bankOn(tdb.db);
    await seedReference(tdb.db);
    const custA = await createCustomer(tdb.db, 'Asha');
    const custR = await createCustomer(tdb.db, 'Ravi');
    asha = { userId: null, role: 'customer', customerId: custA };
    ravi = { userId: null, role: 'customer', customerId: custR };
    a = await openTestAccount(bank, custA);
    b = await openTestAccount(bank, custA);
    r = await openTestAccount(bank, custR);
    await ledger.deposit(bank, TELLER, { accountId: a.id, amount: '100.00' });
    for (let i = 1; i <= 5; i++)
      await ledger.transfer(bank, asha, {
        fromAccountId: a.id,
        toAccountNumber: i % 2 ? b.number : r.number,
        amount: `${i}.00`,
        memo: `t${i}`,
      });
  });
  afterAll(() => tdb.destroy());

  it("lists only the customer's own accounts, page by page", async () => {
    const first = await listAccounts(bank, asha, { limit: 1 });
    expect(first.items.map((x) => x.number)).toEqual([a.number]);
    expect(first.items[0].balance).toBe('85.00');
    const second = await listAccounts(bank, asha, { limit: 1, cursor: Number(first.nextCursor) });
    expect(second).toEqual({
      items: [expect.objectContaining({ number: b.number, balance: '9.00', customerId: asha.customerId })],
      nextCursor: null,
    });
    expect((await listAccounts(bank, ravi, { limit: 50 })).items.map((x) => x.number)).toEqual([r.number]);
  });

  it('pages entries both ways with counterparties (none for the bank’s own accounts)', async () => {
    const all = await accountEntries(bank, asha, a.id, { limit: 50 });
    expect(all.nextCursor).toBeNull();
    expect(all.items.map((e) => [e.kind, e.amount, e.balanceAfter, e.counterparty, e.memo])).toEqual([
      ['deposit', '100.00', '100.00', null, expect.any(String)],
      ['transfer', '-1.00', '99.00', b.number, 't1'],
      ['transfer', '-2.00', '97.00', r.number, 't2'],
      ['transfer', '-3.00', '94.00', b.number, 't3'],
      ['transfer', '-4.00', '90.00', r.number, 't4'],
      ['transfer', '-5.00', '85.00', b.number, 't5'],
    ]);
    const p1 = await accountEntries(bank, asha, a.id, { limit: 4, order: 'desc' });
    expect(p1.items.map((e) => e.memo)).toEqual(['t5', 't4', 't3', 't2']);
    const p2 = await accountEntries(bank, asha, a.id, { limit: 4, order: 'desc', cursor: Number(p1.nextCursor) });
    expect(p2.items.map((e) => e.memo)).toEqual(['t1', expect.any(String)]);
    expect(p2.nextCursor).toBeNull();
    const asc = await accountEntries(bank, asha, a.id, { limit: 2, cursor: all.items[3].id });
    expect(asc.items.map((e) => e.memo)).toEqual(['t4', 't5']);
  });

  it("never shows another customer's account, nor a bank account", async () => {
    expect(await code(accountEntries(bank, ravi, a.id, { limit: 5 }))).toBe('not_found');
    const cash = await tdb.db('accounts').where({ kind: 'cash' }).first('id');
    expect(await code(accountEntries(bank, TELLER, cash.id, { limit: 5 }))).toBe('not_found');
  });

  it('reads only committed rows, without waiting for an open write transaction', async () => {
    let release!: () => void;
    const held = new Promise<void>((res) => (release = res));
    let inside!: () => void;
    const started = new Promise<void>((res) => (inside = res));
    const writing = withTx(bank, async (t) => {
      await t.q('accounts').where({ id: b.id }).update({ balance: 1 });
      inside();
      await held;
      throw new Error('rolled back on purpose');
    }).catch((e: Error) => e.message);
    await started;
    const during = await Promise.race([
      listAccounts(bank, asha, { limit: 50 }),
      new Promise((res) => setTimeout(() => res('blocked'), dialect === 'sqlite' ? 2_000 : 5_000)),
    ]);
    release();
    expect(await writing).toBe('rolled back on purpose');
    expect(during).not.toBe('blocked');
    expect((during as Awaited<ReturnType<typeof listAccounts>>).items.find((x) => x.number === b.number)?.balance).toBe('9.00');
  });
});
