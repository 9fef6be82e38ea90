import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { bankOn, createCustomer, MANAGER, openTestAccount, seedReference, userWithSession, code } from '../helpers/fixtures.js';
import type { Actor, BankContext } from '../../bank/core/context.js';
import { SYSTEM } from '../../bank/core/context.js';
import * as ledger from '../../bank/ledger/transactions.js';
import { closeAccount, editAccount, getAccount } from '../../bank/accounts/operations.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { verifyAudit } from '../../bank/audit/chain.js';
import { withTx } from '../../bank/core/db-tx.js';

describe.each(DIALECTS)('ledger on %s', (dialect) => {
  let tdb: TestDb;
  let bank: BankContext;
  let cust1: number;
  let cust2: number;
  let owner1: Actor;
  let owner2: Actor;
  let teller: Actor;
  let manager: Actor;
  let manager2: Actor;

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    bank = await bankOn(tdb.db);
    await seedReference(tdb.db);
    cust1 = await createCustomer(tdb.db, 'Asha');
    cust2 = await createCustomer(tdb.db, 'Ravi');
    owner1 = (await userWithSession(bank, 'customer', { customerId: cust1 })).actor;
    owner2 = (await userWithSession(bank, 'customer', { customerId: cust2 })).actor;
    teller = (await userWithSession(bank, 'teller')).actor;
    manager = (await userWithSession(bank, 'manager')).actor;
    manager2 = (await userWithSession(bank, 'manager')).actor;
  });
  afterAll(() => tdb?.destroy());

  const balanceOf = async (id: number) => (await getAccount(bank, SYSTEM, id)).balance;
  const available = async (id: number) => (await getAccount(bank, SYSTEM, id)).availableBalance;

  it('posts a deposit as two entries that sum to zero, with balance_after', async () => {
    const a = await openTestAccount(bank, cust1, 'CUR');
    const { value: tx } = await ledger.deposit(bank, teller, { accountId: a.id, amount: '100.10' });
    expect(tx).toMatchObject({ kind: 'deposit', status: 'posted', amount: '100.10' });
    const entries = await tdb.db('entries').where({ transaction_id: tx.id }).orderBy('amount');
    expect(entries.map((e) => Number(e.amount))).toEqual([-10010, 10010]);
    expect(Number(entries[1].balance_after)).toBe(10010);
    await ledger.deposit(bank, teller, { accountId: a.id, amount: '0.90' });
    expect(await balanceOf(a.id)).toBe('101.00');
  });

  it('keeps savings above their minimum balance and lets current accounts use their overdraft', async () => {
    const sav = await openTestAccount(bank, cust1, 'SAV');
    const cur = await openTestAccount(bank, cust1, 'CUR');
    await ledger.deposit(bank, teller, { accountId: sav.id, amount: '500' });
    // SAV minimum 100.00: 400.01 would leave 99.99.
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: sav.id, toAccountNumber: cur.number, amount: '400.01' }))).toBe(
      'insufficient_funds',
    );
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: sav.id, toAccountNumber: cur.number, amount: '400.00' }))).toBe('ok');
    // CUR overdraft 500.00 from 400.00: can go to -500.00, not a paisa further.
    expect(await code(ledger.withdraw(bank, teller, { accountId: cur.id, amount: '900.01' }))).toBe('insufficient_funds');
    expect(await code(ledger.withdraw(bank, teller, { accountId: cur.id, amount: '900.00' }))).toBe('ok');
    expect(await balanceOf(cur.id)).toBe('-500.00');
    // A teller may pay out a savings account to exactly zero (to close it), not below.
    expect(await code(ledger.withdraw(bank, teller, { accountId: sav.id, amount: '100.01' }))).toBe('insufficient_funds');
    expect(await code(ledger.withdraw(bank, teller, { accountId: sav.id, amount: '100.00' }))).toBe('ok');
  });

  it('refuses frozen, closed, same-account, cross-currency and foreign accounts', async () => {
    const a = await openTestAccount(bank, cust1, 'CUR');
    const b = await openTestAccount(bank, cust2, 'CUR');
    const usd = await openTestAccount(bank, cust2, 'CUR', 'USD');
    await ledger.deposit(bank, teller, { accountId: a.id, amount: '50' });
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: a.id, toAccountNumber: a.number, amount: '1' }))).toBe('same_account');
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: a.id, toAccountNumber: usd.number, amount: '1' }))).toBe(
      'currency_mismatch',
    );
    expect(await code(ledger.transfer(bank, owner2, { fromAccountId: a.id, toAccountNumber: b.number, amount: '1' }))).toBe('not_found');
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: a.id, toAccountNumber: '000000000000', amount: '1' }))).toBe(
      'not_found',
    );
    expect(await code(ledger.deposit(bank, owner1, { accountId: a.id, amount: '1' }))).toBe('forbidden');
    await editAccount(bank, teller, b.id, { status: 'frozen', note: 'court order' });
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: a.id, toAccountNumber: b.number, amount: '1' }))).toBe(
      'account_frozen',
    );
    expect(await code(ledger.withdraw(bank, teller, { accountId: b.id, amount: '1' }))).toBe('account_frozen');
    await editAccount(bank, teller, b.id, { status: 'active' });
    expect(await code(closeAccount(bank, manager, a.id, 'customer request'))).toBe('nonzero_balance');
    await ledger.withdraw(bank, teller, { accountId: a.id, amount: '50' });
    expect(await code(closeAccount(bank, teller, a.id, 'customer request'))).toBe('forbidden');
    expect(await code(closeAccount(bank, manager, a.id, 'customer request'))).toBe('ok');
    expect(await code(ledger.transfer(bank, owner2, { fromAccountId: b.id, toAccountNumber: a.number, amount: '1' }))).toBe(
      'account_closed',
    );
    expect(await code(ledger.deposit(bank, teller, { accountId: a.id, amount: '1' }))).toBe('account_closed');
    const archive = await tdb.db('closed_accounts').where({ account_id: a.id }).first();
    expect(archive.reason).toBe('customer request');
    // Nothing refused left a trace in the ledger.
    expect((await verifyLedger(bank)).ok).toBe(true);
  });

  it('holds a transfer above the approval threshold until a manager approves or rejects it', async () => {
    const biz = await openTestAccount(bank, cust1, 'BIZ');
    const dst = await openTestAccount(bank, cust2, 'CUR');
    await ledger.deposit(bank, teller, { accountId: biz.id, amount: '30000' });
    const { value: big } = await ledger.transfer(bank, owner1, { fromAccountId: biz.id, toAccountNumber: dst.number, amount: '12000' });
    expect(big.status).toBe('pending_approval');
    expect(await balanceOf(biz.id)).toBe('30000.00');
    expect(await available(biz.id)).toBe('18000.00');
    // The hold counts: another 18,000.01 cannot go out while it stands.
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: biz.id, toAccountNumber: dst.number, amount: '18000.01' }))).toBe(
      'insufficient_funds',
    );
    expect(await code(ledger.approve(bank, teller, big.id))).toBe('forbidden');
    const posted = await ledger.approve(bank, manager, big.id, 'ok');
    expect(posted.status).toBe('posted');
    expect(await balanceOf(biz.id)).toBe('18000.00');
    expect(await available(biz.id)).toBe('18000.00');
    expect(await balanceOf(dst.id)).toBe('12000.00');
    expect(await code(ledger.approve(bank, manager, big.id))).toBe('conflict');

    const { value: second } = await ledger.withdraw(bank, teller, { accountId: biz.id, amount: '15000' });
    expect(second.status).toBe('pending_approval');
    expect(await available(biz.id)).toBe('3000.00');
    const rejected = await ledger.reject(bank, manager, second.id, 'suspicious');
    expect(rejected.status).toBe('rejected');
    expect(await available(biz.id)).toBe('18000.00');
    expect(await balanceOf(biz.id)).toBe('18000.00');

    // A manager cannot approve their own request.
    const { value: own } = await ledger.withdraw(bank, manager, { accountId: biz.id, amount: '10001' });
    expect(await code(ledger.approve(bank, manager, own.id))).toBe('forbidden');
    expect(await code(ledger.approve(bank, manager2, own.id))).toBe('ok');
    expect((await verifyLedger(bank)).ok).toBe(true);
  });

  it('replays an idempotent request, refuses a different payload, and reports one in flight', async () => {
    const a = await openTestAccount(bank, cust1, 'CUR');
    const idem = (payload: unknown) => ({ scope: `${teller.userId}:deposit`, key: 'k-1', payload });
    const first = await ledger.deposit(bank, teller, { accountId: a.id, amount: '10' }, idem({ accountId: a.id, amount: '10' }));
    const again = await ledger.deposit(bank, teller, { accountId: a.id, amount: '10' }, idem({ accountId: a.id, amount: '10' }));
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.value).toEqual(first.value);
    expect(await balanceOf(a.id)).toBe('10.00');
    expect(await code(ledger.deposit(bank, teller, { accountId: a.id, amount: '11' }, idem({ accountId: a.id, amount: '11' })))).toBe(
      'idempotency_mismatch',
    );
    // Another process is mid-request with this key.
    const now = new Date();
    await tdb.db('idempotency_keys').insert({
      scope: `${teller.userId}:deposit`,
      key: 'k-2',
      request_hash: 'x'.repeat(64),
      state: 'in_flight',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 3600_000).toISOString(),
    });
    const { requestHash } = await import('../../bank/ledger/idempotency.js');
    await tdb
      .db('idempotency_keys')
      .where({ key: 'k-2' })
      .update({ request_hash: requestHash({ accountId: a.id, amount: '5' }) });
    expect(
      await code(
        ledger.deposit(
          bank,
          teller,
          { accountId: a.id, amount: '5' },
          { scope: `${teller.userId}:deposit`, key: 'k-2', payload: { accountId: a.id, amount: '5' } },
        ),
      ),
    ).toBe('idempotency_in_flight');
    expect(await balanceOf(a.id)).toBe('10.00');
    // A refusal is remembered: the same request replays the same refusal.
    const sav = await openTestAccount(bank, cust1, 'SAV');
    const req = { scope: `${owner1.userId}:transfer`, key: 'k-3', payload: { from: sav.id } };
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: sav.id, toAccountNumber: a.number, amount: '1' }, req))).toBe(
      'insufficient_funds',
    );
    await ledger.deposit(bank, teller, { accountId: sav.id, amount: '1000' });
    expect(await code(ledger.transfer(bank, owner1, { fromAccountId: sav.id, toAccountNumber: a.number, amount: '1' }, req))).toBe(
      'insufficient_funds',
    );
  });

  if (dialect === 'pg') {
    it('answers idempotency_in_flight to a concurrent duplicate', async () => {
      const a = await openTestAccount(bank, cust1, 'CUR');
      const req = { scope: `${teller.userId}:deposit`, key: 'k-concurrent', payload: { a: a.id } };
      const results = await Promise.all(
        Array.from({ length: 8 }, () => code(ledger.deposit(bank, teller, { accountId: a.id, amount: '1' }, req))),
      );
      expect(results.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(1);
      expect(results.every((r) => r === 'ok' || r === 'idempotency_in_flight')).toBe(true);
      expect(await balanceOf(a.id)).toBe('1.00');
    });
  }

  it('posts interest once per account and period', async () => {
    const a = await openTestAccount(bank, cust1, 'SAV');
    const r1 = await withTx(bank, (t) => ledger.postInterestIn(t, SYSTEM, { accountId: a.id, amountMinor: 1234, period: '2026-10' }));
    const r2 = await withTx(bank, (t) => ledger.postInterestIn(t, SYSTEM, { accountId: a.id, amountMinor: 1234, period: '2026-10' }));
    expect(r1?.created).toBe(true);
    expect(r2?.created).toBe(false);
    expect(r2?.transaction.id).toBe(r1?.transaction.id);
    expect(await balanceOf(a.id)).toBe('12.34');
  });

  it('writes an audit row for every change, and tampering with one is detected', async () => {
    const before = await verifyAudit(bank);
    expect(before.ok).toBe(true);
    expect(before.checked).toBeGreaterThan(20);
    const row = await tdb.db('audit_log').where({ action: 'deposit' }).orderBy('id').offset(2).first();
    const original = row.after;
    await tdb
      .db('audit_log')
      .where({ id: row.id })
      .update({ after: original.replace(/"amount":"[^"]+"/, '"amount":"999999.00"') });
    const tampered = await verifyAudit(bank);
    expect(tampered).toMatchObject({ ok: false, firstBrokenId: row.id });
    await tdb.db('audit_log').where({ id: row.id }).update({ after: original });
    expect((await verifyAudit(bank)).ok).toBe(true);
    // Removing a row breaks the link from the next one on its chain...
    const victim = await tdb
      .db('audit_log as a')
      .whereExists(tdb.db('audit_log as b').whereRaw('b.chain = a.chain and b.id > a.id'))
      .orderBy('id')
      .offset(3)
      .first('a.*');
    await tdb.db('audit_log').where({ id: victim.id }).delete();
    const gap = await verifyAudit(bank);
    expect(gap.ok).toBe(false);
    expect(gap.firstBrokenId).toBeGreaterThan(victim.id);
    await tdb.db('audit_log').insert(victim);
    expect((await verifyAudit(bank)).ok).toBe(true);
    // ...and cutting the last row off a chain disagrees with the chain's recorded head.
    const tail = await tdb.db('audit_log').orderBy('id', 'desc').first();
    await tdb.db('audit_log').where({ id: tail.id }).delete();
    expect(await verifyAudit(bank)).toMatchObject({ ok: false, firstBrokenId: tail.id });
    await tdb.db('audit_log').insert(tail);
    expect((await verifyAudit(bank)).ok).toBe(true);
  });

  it('detects a ledger whose balances were edited behind its back', async () => {
    expect((await verifyLedger(bank)).ok).toBe(true);
    const acct = await tdb.db('accounts').where({ kind: 'customer' }).first();
    await tdb
      .db('accounts')
      .where({ id: acct.id })
      .update({ balance: Number(acct.balance) + 1 });
    const broken = await verifyLedger(bank);
    expect(broken.ok).toBe(false);
    expect(broken.mismatches).toContainEqual(expect.objectContaining({ kind: 'balance_mismatch', accountId: acct.id }));
    await tdb.db('accounts').where({ id: acct.id }).update({ balance: acct.balance });
  });

  it('stays exact under 2,000 random transfers from 50 concurrent callers', async () => {
    const customers = await Promise.all(Array.from({ length: 4 }, (_, i) => createCustomer(tdb.db, `Load${i}`)));
    const types = ['SAV', 'CUR', 'BIZ', 'CUR'];
    const accounts: Awaited<ReturnType<typeof openTestAccount>>[] = [];
    for (let i = 0; i < 20; i++) accounts.push(await openTestAccount(bank, customers[i % 4], types[i % 4]));
    for (const a of accounts) await ledger.deposit(bank, teller, { accountId: a.id, amount: '5000' });
    const ids = accounts.map((a) => a.id);
    const sumBefore = (await tdb.db('accounts').whereIn('id', ids).sum({ s: 'balance' }))[0].s;

    let next = 0;
    const outcomes: Record<string, number> = {};
    const started = Date.now();
    // mulberry32: a seeded generator, so a failure can be replayed.
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) % n;
    };
    const caller = async () => {
      while (next < 2000) {
        next++;
        const from = accounts[rand(20)];
        const to = accounts[rand(20)];
        const amount = `${rand(3000)}.${String(rand(100)).padStart(2, '0')}`;
        const c = await code(ledger.transfer(bank, MANAGER, { fromAccountId: from.id, toAccountNumber: to.number, amount }));
        outcomes[c] = (outcomes[c] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 50 }, caller));
    const seconds = (Date.now() - started) / 1000;
    console.log(`[${dialect}] 2000 transfers by 50 callers in ${seconds.toFixed(2)}s (${(2000 / seconds).toFixed(0)}/s):`, outcomes);

    expect(Object.keys(outcomes).every((k) => ['ok', 'insufficient_funds', 'same_account', 'invalid_amount'].includes(k))).toBe(true);
    expect(outcomes.ok).toBeGreaterThan(500);
    const rows = await tdb.db('accounts').whereIn('id', ids);
    const sumAfter = rows.reduce((s, r) => s + Number(r.balance), 0);
    expect(sumAfter).toBe(Number(sumBefore));
    const typeRows = await tdb.db('account_types');
    const floor = new Map(typeRows.map((t) => [t.code, Number(t.min_balance) - Number(t.overdraft_limit)]));
    for (const r of rows) expect(Number(r.balance) - Number(r.held)).toBeGreaterThanOrEqual(floor.get(r.type)!);
    const v = await verifyLedger(bank);
    expect(v.mismatches).toEqual([]);
    expect(v.ok).toBe(true);
    // Pending transfers (BIZ over 10,000) must not exist at these amounts, and every posted one has two entries.
    const lonely = await tdb
      .db('transactions as t')
      .where('t.status', 'posted')
      .whereNotExists(tdb.db('entries as e').whereRaw('e.transaction_id = t.id'))
      .count({ n: '*' });
    expect(Number(lonely[0].n)).toBe(0);
    expect((await verifyAudit(bank)).ok).toBe(true);
  });
});
