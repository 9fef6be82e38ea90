import type { BankContext } from '../core/context.js';

export interface LedgerMismatch {
  kind: 'unbalanced_transaction' | 'balance_mismatch' | 'broken_chain' | 'held_mismatch';
  transactionId?: number;
  accountId?: number;
  expected?: number;
  actual?: number;
  entryId?: number;
}

/**
 * Checks the whole ledger: every transaction's entries sum to zero, every account's
 * balance equals the sum of its entries, each entry's balance_after continues the chain
 * before it, and each account's held amount equals its pending transactions.
 */
export async function verifyLedger(
  ctx: Pick<BankContext, 'db'>,
): Promise<{ ok: boolean; accounts: number; transactions: number; mismatches: LedgerMismatch[] }> {
  const db = ctx.db;
  const mismatches: LedgerMismatch[] = [];
  const unbalanced: any[] = await db('entries')
    .select('transaction_id')
    .sum({ total: 'amount' })
    .groupBy('transaction_id')
    .havingRaw('SUM(amount) <> 0');
  for (const r of unbalanced) mismatches.push({ kind: 'unbalanced_transaction', transactionId: r.transaction_id, actual: Number(r.total) });
  const postedWithoutEntries = await db('transactions as t')
    .where('t.status', 'posted')
    .whereNotExists(db('entries as e').whereRaw('e.transaction_id = t.id'))
    .select('t.id');
  for (const r of postedWithoutEntries) mismatches.push({ kind: 'unbalanced_transaction', transactionId: r.id });

  const sums: any[] = await db('accounts as a')
    .leftJoin('entries as e', 'e.account_id', 'a.id')
    .groupBy('a.id', 'a.balance')
    .select('a.id', 'a.balance')
    .sum({ total: 'e.amount' });
  for (const r of sums) {
    const total = Number(r.total ?? 0);
    if (total !== Number(r.balance))
      mismatches.push({ kind: 'balance_mismatch', accountId: r.id, expected: total, actual: Number(r.balance) });
  }

  const holds: any[] = await db('accounts as a')
    .leftJoin('transactions as t', function () {
      this.on('t.from_account_id', 'a.id').andOnVal('t.status', 'pending_approval');
    })
    .groupBy('a.id', 'a.held')
    .select('a.id', 'a.held')
    .sum({ total: 't.amount' });
  for (const r of holds) {
    const total = Number(r.total ?? 0);
    if (total !== Number(r.held)) mismatches.push({ kind: 'held_mismatch', accountId: r.id, expected: total, actual: Number(r.held) });
  }

  // balance_after chain, streamed in pages ordered by (account, id).
  let lastAccount = -1;
  let running = 0;
  let after = { account: -1, id: -1 };
  for (;;) {
    const page = await db('entries')
      .where((q) =>
        q.where('account_id', '>', after.account).orWhere((q2) => q2.where('account_id', after.account).andWhere('id', '>', after.id)),
      )
      .orderBy([{ column: 'account_id' }, { column: 'id' }])
      .limit(10_000)
      .select('id', 'account_id', 'amount', 'balance_after');
    if (!page.length) break;
    for (const e of page) {
      if (e.account_id !== lastAccount) {
        lastAccount = e.account_id;
        running = 0;
      }
      running += Number(e.amount);
      if (running !== Number(e.balance_after)) {
        mismatches.push({
          kind: 'broken_chain',
          accountId: e.account_id,
          entryId: e.id,
          expected: running,
          actual: Number(e.balance_after),
        });
        running = Number(e.balance_after);
      }
      after = { account: e.account_id, id: e.id };
    }
  }
  const accounts = sums.length;
  const [{ n }] = await db('transactions').count({ n: '*' });
  return { ok: mismatches.length === 0, accounts, transactions: Number(n), mismatches: mismatches.slice(0, 100) };
}
