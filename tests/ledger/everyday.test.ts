import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { bankOn, createCustomer, openTestAccount, seedReference, userWithSession, code } from '../helpers/fixtures.js';
import type { Actor, BankContext } from '../../bank/core/context.js';
import { SYSTEM } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { getAccount } from '../../bank/accounts/operations.js';
import { createAlert } from '../../bank/accounts/alerts.js';
import { batchTransfers } from '../../bank/ledger/batch.js';
import { requestReversal } from '../../bank/ledger/reversals.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { verifyAudit } from '../../bank/audit/chain.js';
import { withTx } from '../../bank/core/db-tx.js';
import { lockAccounts } from '../../bank/accounts/records.js';
import { Journal } from '../../bank/ledger/journal.js';

describe.each(DIALECTS)('reversals and alerts on %s', (dialect) => {
  let tdb: TestDb;
  let bank: BankContext;
  let owner: Actor;
  let ownerUserId: number;
  let other: Actor;
  let teller: Actor;
  let manager: Actor;
  let manager2: Actor;
  let custA: number;
  let custB: number;

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    bank = await bankOn(tdb.db);
    await seedReference(tdb.db);
    custA = await createCustomer(tdb.db, 'Asha');
    custB = await createCustomer(tdb.db, 'Ravi');
    const o = await userWithSession(bank, 'customer', { customerId: custA });
    owner = o.actor;
    ownerUserId = o.user.id;
    other = (await userWithSession(bank, 'customer', { customerId: custB })).actor;
    teller = (await userWithSession(bank, 'teller')).actor;
    manager = (await userWithSession(bank, 'manager')).actor;
    manager2 = (await userWithSession(bank, 'manager')).actor;
  }, 60_000);
  afterAll(() => tdb?.destroy());

  const balances = async (...ids: number[]) =>
    Promise.all(
      ids.map(async (id) => {
        const a = await getAccount(bank, SYSTEM, id);
        return `${a.balance}/${a.availableBalance}`;
      }),
    );
  const cash = async () => Number((await tdb.db('accounts').where({ kind: 'cash' }).sum({ s: 'balance' }))[0].s);

  it('reverses a deposit, a withdrawal and a transfer: the ledger verifies and every balance returns', async () => {
    const a = await openTestAccount(bank, custA, 'CUR');
    const b = await openTestAccount(bank, custB, 'CUR');
    await ledger.deposit(bank, teller, { accountId: a.id, amount: '1000.00' });
    const start = await balances(a.id, b.id);
    const startCash = await cash();
    const dep = (await ledger.deposit(bank, teller, { accountId: a.id, amount: '250.00' })).value;
    const wd = (await ledger.withdraw(bank, teller, { accountId: a.id, amount: '40.00' })).value;
    const tr = (await ledger.transfer(bank, owner, { fromAccountId: a.id, toAccountNumber: b.number, amount: '75.25' })).value;
    for (const tx of [dep, wd, tr]) {
      const r = await requestReversal(bank, teller, tx.id, 'entered by mistake');
      expect(r).toMatchObject({ kind: 'reversal', status: 'pending_approval', reversalOf: tx.id, amount: tx.amount });
      expect(await code(requestReversal(bank, manager, tx.id, 'again'))).toBe('already_reversed');
      // The maker cannot check their own; another manager can.
      const mine = await requestReversal(
        bank,
        manager,
        (await ledger.deposit(bank, teller, { accountId: a.id, amount: '1.00' })).value.id,
        'mine',
      );
      expect(await code(ledger.approve(bank, manager, mine.id))).toBe('forbidden');
      await ledger.reject(bank, manager2, mine.id, 'no');
      const posted = await ledger.approve(bank, manager, r.id, 'checked');
      expect(posted).toMatchObject({ status: 'posted', reversalOf: tx.id });
      const orig = await ledger.getTransaction(bank, teller, tx.id);
      expect(orig.reversedBy).toBe(r.id);
      expect(await code(requestReversal(bank, teller, tx.id, 'third time'))).toBe('already_reversed');
      expect(await code(requestReversal(bank, teller, r.id, 'undo the undo'))).toBe('conflict');
      // The exact opposite entries.
      const legs = async (id: number) =>
        (await tdb.db('entries').where({ transaction_id: id }).select('account_id', 'amount'))
          .map((e) => `${e.account_id}:${Number(e.amount)}`)
          .sort();
      expect(await legs(r.id)).toEqual(
        (await legs(tx.id))
          .map((l) => {
            const [acc, amt] = l.split(':');
            return `${acc}:${-Number(amt)}`;
          })
          .sort(),
      );
    }
    // The 1.00 deposits whose reversals were rejected stay.
    const extra = 3 * 100;
    const [aNow, bNow] = await balances(a.id, b.id);
    const [aStart, bStart] = start;
    expect(bNow).toBe(bStart);
    const minor = (s: string) => Math.round(Number(s.split('/')[0]) * 100);
    expect(minor(aNow)).toBe(minor(aStart) + extra);
    expect(aNow.split('/')[0]).toBe(aNow.split('/')[1]);
    expect(await cash()).toBe(startCash - extra);
    const v = await verifyLedger(bank);
    expect(v.ok).toBe(true);
    expect((await verifyAudit(bank)).ok).toBe(true);
    const actions = (await tdb.db('audit_log').where({ entity: 'transaction' }).pluck('action')) as string[];
    expect(actions.filter((x) => x === 'reversal.requested').length).toBe(6);
    expect(actions.filter((x) => x === 'reversal.approved').length).toBe(3);
  });

  it('two reversal requests at once: exactly one wins', async () => {
    const a = await openTestAccount(bank, custA, 'CUR');
    const dep = (await ledger.deposit(bank, teller, { accountId: a.id, amount: '10.00' })).value;
    const results = await Promise.all([1, 2, 3].map(() => code(requestReversal(bank, teller, dep.id, 'race'))));
    expect(results.sort()).toEqual(['already_reversed', 'already_reversed', 'ok']);
    const [{ n }] = await tdb.db('transactions').where({ reversal_of: dep.id }).count({ n: '*' });
    expect(Number(n)).toBe(1);
  });

  const alertNotes = async () =>
    await tdb.db('notifications').where({ user_id: ownerUserId, kind: 'alert' }).orderBy('id').select('title', 'body');

  it('alerts fire once per crossing, never for movements that do not cross', async () => {
    const a = await openTestAccount(bank, custA, 'CUR');
    const b = await openTestAccount(bank, custB, 'CUR');
    await createAlert(bank, owner, a.id, { kind: 'balance_below', threshold: '100.00' });
    await createAlert(bank, owner, a.id, { kind: 'balance_above', threshold: '1000.00' });
    await createAlert(bank, owner, a.id, { kind: 'debit_over', threshold: '500.00' });
    await createAlert(bank, owner, a.id, { kind: 'credit_over', threshold: '2000.00' });
    const before = (await alertNotes()).length;
    const step = async (fn: () => Promise<unknown>) => {
      const n = (await alertNotes()).length;
      await fn();
      return (await alertNotes()).slice(n).map((x) => x.title);
    };
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '500.00' }))).toEqual([]); // 0 → 500
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '500.00' }))).toEqual([]); // → 1000: not above
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '0.01' }))).toEqual(['Balance above your alert']); // → 1000.01
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '100.00' }))).toEqual([]); // still above
    expect(await step(() => ledger.transfer(bank, owner, { fromAccountId: a.id, toAccountNumber: b.number, amount: '600.00' }))).toEqual([
      'Large payment out',
    ]); // → 500.01, below 1000 again
    expect(await step(() => ledger.withdraw(bank, teller, { accountId: a.id, amount: '400.01' }))).toEqual([]); // → 100.00: not below
    expect(await step(() => ledger.withdraw(bank, teller, { accountId: a.id, amount: '0.01' }))).toEqual(['Balance below your alert']); // → 99.99
    expect(await step(() => ledger.withdraw(bank, teller, { accountId: a.id, amount: '50.00' }))).toEqual([]); // still below
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '100.00' }))).toEqual([]); // → 149.99, back above 100
    expect(await step(() => ledger.withdraw(bank, teller, { accountId: a.id, amount: '60.00' }))).toEqual(['Balance below your alert']); // crosses again
    expect(await step(() => ledger.deposit(bank, teller, { accountId: a.id, amount: '2500.00' }))).toEqual([
      'Balance above your alert',
      'Large payment in',
    ]);
    // Another customer's movements never alert this owner.
    expect(await step(() => ledger.deposit(bank, teller, { accountId: b.id, amount: '9000.00' }))).toEqual([]);
    expect((await alertNotes()).length).toBe(before + 6);
    // The alert reaches the owner live (a notification event to their user room).
    const events = await tdb.db('events').where({ type: 'notification' }).orderBy('seq').select('seq', 'payload');
    const alerts = events.filter((e) => JSON.parse(e.payload).kind === 'alert');
    expect(alerts.length).toBe(before + 6);
    expect(
      await tdb
        .db('event_rooms')
        .where({ seq: alerts.at(-1)!.seq })
        .pluck('room'),
    ).toEqual([`user:${ownerUserId}`]);
  });

  it('a rolled-back posting fires nothing; an approval that posts later does', async () => {
    const a = await openTestAccount(bank, custA, 'BIZ');
    const b = await openTestAccount(bank, custB, 'BIZ');
    await ledger.deposit(bank, teller, { accountId: a.id, amount: '20000.00' });
    await createAlert(bank, owner, a.id, { kind: 'balance_below', threshold: '19000.00' });
    const alert = () => tdb.db('balance_alerts').where({ account_id: a.id }).first('last_triggered_at');
    const before = (await alertNotes()).length;
    const seqBefore = Number((await tdb.db('events').max({ m: 'seq' }))[0].m);
    // An atomic batch: the first item crosses, the second is refused, so nothing is posted.
    const r = await code(
      batchTransfers(bank, manager, {
        atomic: true,
        items: [
          { idempotencyKey: `rb-${dialect}-1`, fromAccountNumber: a.number, toAccountNumber: b.number, amount: '5000.00' },
          { idempotencyKey: `rb-${dialect}-2`, fromAccountNumber: a.number, toAccountNumber: b.number, amount: '999999.00' },
        ],
      }),
    );
    expect(r).toBe('insufficient_funds');
    expect((await alertNotes()).length).toBe(before);
    expect((await alert()).last_triggered_at).toBeNull();
    expect(
      await tdb
        .db('events')
        .where('seq', '>', seqBefore)
        .count({ n: '*' })
        .then((x) => Number(x[0].n)),
    ).toBe(0);
    // Entries written and alerts evaluated inside a transaction that then fails: all of it goes.
    const boom = withTx(bank, async (t) => {
      const locked = await lockAccounts(t, [a.id, b.id]);
      const journal = new Journal();
      journal.add(ledger.planTransfer(owner, locked.get(a.id), locked.get(b.id), '5000.00', 'rolled back'));
      await journal.flush(t, owner);
      expect(
        await t
          .q('notifications')
          .where({ user_id: ownerUserId, kind: 'alert' })
          .count({ n: '*' })
          .then((x) => Number(x[0].n)),
      ).toBe(before + 1);
      throw new Error('the rest of the work failed');
    });
    await expect(boom).rejects.toThrow('the rest of the work failed');
    expect((await alertNotes()).length).toBe(before);
    expect((await alert()).last_triggered_at).toBeNull();
    expect(
      await tdb
        .db('events')
        .where('seq', '>', seqBefore)
        .count({ n: '*' })
        .then((x) => Number(x[0].n)),
    ).toBe(0);
    // Held above the approval threshold: no entry, no alert; approval posts it and alerts then.
    const held = (await ledger.transfer(bank, owner, { fromAccountId: a.id, toAccountNumber: b.number, amount: '15000.00' })).value;
    expect(held.status).toBe('pending_approval');
    expect((await alertNotes()).length).toBe(before);
    await ledger.approve(bank, manager, held.id);
    expect((await alertNotes()).length).toBe(before + 1);
    expect((await alert()).last_triggered_at).not.toBeNull();
    expect((await verifyLedger(bank)).ok).toBe(true);
  });

  it('refuses alerts on accounts the caller does not own', async () => {
    const a = await openTestAccount(bank, custA, 'CUR');
    expect(await code(createAlert(bank, other, a.id, { kind: 'debit_over', threshold: '1.00' }))).toBe('not_found');
    expect(await code(createAlert(bank, teller, a.id, { kind: 'debit_over', threshold: '1.00' }))).toBe('forbidden');
  });
});
