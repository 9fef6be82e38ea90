import type { Knex } from 'knex';
import { formatAmount } from '../core/money.js';
import { generateAccountNumber } from './account-numbers.js';
import type { BankContext } from '../core/context.js';
import type { Tx } from '../core/db-tx.js';
import { fastSql } from '../../db/fast.js';
import type { Account, AccountType, Row } from '../../db/models.js';

export type AccountRow = Row<Account>;

export type AccountTypeRow = Row<AccountType>;

export function accountDto(a: AccountRow) {
  return {
    id: a.id,
    number: a.number,
    customerId: a.customer_id,
    type: a.type,
    branch: a.branch,
    currency: a.currency,
    balance: formatAmount(a.balance, a.currency),
    availableBalance: formatAmount(a.balance - a.held, a.currency),
    status: a.status,
    frozenBy: a.status === 'frozen' ? (a.frozen_by ?? 'bank') : null,
    openedAt: a.opened_at,
    closedAt: a.closed_at,
  };
}
export type AccountDto = ReturnType<typeof accountDto>;

/** Lowest balance a debit may leave: the type's minimum balance less its overdraft limit. */
export function balanceFloor(type: Pick<AccountTypeRow, 'min_balance' | 'overdraft_limit'> | null | undefined): number {
  return type ? type.min_balance - type.overdraft_limit : 0;
}

/** An account locked for the rest of a transaction, with its type's rules. */
export interface LockedAccount extends AccountRow {
  rule: Pick<AccountTypeRow, 'min_balance' | 'overdraft_limit' | 'approval_threshold'> | null;
}

function toLocked(rows: Record<string, unknown>[]): Map<number, LockedAccount> {
  return new Map(
    rows.map(({ rule_min_balance, rule_overdraft_limit, rule_approval_threshold, rule_code, ...a }) => [
      a.id as number,
      {
        ...(a as unknown as AccountRow),
        rule: rule_code
          ? {
              min_balance: rule_min_balance as number,
              overdraft_limit: rule_overdraft_limit as number,
              approval_threshold: rule_approval_threshold as number | null,
            }
          : null,
      },
    ]),
  );
}

/**
 * Reads and locks accounts (with their type's rules, in the same statement) for the rest of
 * the transaction, always in id order so two transfers between the same pair of accounts
 * can never deadlock.
 */
export async function lockAccounts(t: Tx, ids: number[]): Promise<Map<number, LockedAccount>> {
  return lockGroupAccounts(t, ids, []);
}

const LOCK_SQL = `SELECT a.*, ty.min_balance AS rule_min_balance, ty.overdraft_limit AS rule_overdraft_limit,
  ty.approval_threshold AS rule_approval_threshold, ty.code AS rule_code
  FROM accounts a LEFT JOIN account_types ty ON ty.code = a.type`;

/** Locks accounts named by id, and customer accounts named by number, in one statement (id order). */
export async function lockGroupAccounts(t: Tx, ids: number[], numbers: string[]): Promise<Map<number, LockedAccount>> {
  if (!ids.length && !numbers.length) return new Map();
  const fast = await fastSql(t.q);
  if (fast.dialect === 'pg') {
    return toLocked(
      await fast.query(
        'lock_accounts',
        {
          sqlite: '',
          pg: `${LOCK_SQL} WHERE a.id = ANY(?::bigint[]) OR (a.number = ANY(?::text[]) AND a.kind = 'customer') ORDER BY a.id FOR UPDATE OF a`,
        },
        [[...new Set(ids)], [...new Set(numbers)]],
      ),
    );
  }
  // SQLite: the transaction already holds the only write lock; each look-up is a prepared point query.
  const rows: Record<string, unknown>[] = [];
  for (const id of new Set(ids)) rows.push(...(await fast.query('lock_by_id', { sqlite: `${LOCK_SQL} WHERE a.id = ?`, pg: '' }, [id])));
  for (const n of new Set(numbers))
    rows.push(...(await fast.query('lock_by_number', { sqlite: `${LOCK_SQL} WHERE a.number = ? AND a.kind = 'customer'`, pg: '' }, [n])));
  return toLocked(rows);
}

/**
 * Inserts a row with a fresh unique account number, retrying on the rare collision. `row`: the
 * new account's columns but those the table fills in (id, frozen_by, alert_count).
 */
export async function insertWithNumber(
  q: Knex | Knex.Transaction,
  row: Omit<AccountRow, 'id' | 'number' | 'frozen_by' | 'alert_count'>,
  prefix = '',
): Promise<AccountRow> {
  for (let i = 0; ; i++) {
    const number = generateAccountNumber(prefix);
    const clash = await q('accounts').where({ number }).first('id');
    if (clash && i < 20) continue;
    const [created] = await q('accounts').insert({ ...row, number }, ['*']);
    return (typeof created === 'object' ? created : await q('accounts').where({ id: created }).first()) as AccountRow;
  }
}

export const hotCode = (kind: 'cash' | 'interest_expense', currency: string, shard: number) =>
  `${kind === 'cash' ? 'CASH' : 'INTEXP'}-${currency}-${shard}`;

/**
 * Makes sure the bank's own accounts exist for a currency. Deposits debit the cash
 * account and interest debits interest expense; both are touched by every such
 * transaction, so each is split into shards picked at random, and none serializes the bank.
 */
export async function ensureBankAccounts(ctx: BankContext, currency: string, q: Knex | Knex.Transaction = ctx.db): Promise<void> {
  const have = new Set(
    (await q('accounts').whereNotNull('internal_code').andWhere({ currency }).select('internal_code')).map((r) => r.internal_code),
  );
  for (const kind of ['cash', 'interest_expense'] as const) {
    for (let s = 0; s < ctx.hotShards; s++) {
      const code = hotCode(kind, currency, s);
      if (have.has(code)) continue;
      await insertWithNumber(
        q,
        {
          kind,
          internal_code: code,
          customer_id: null,
          type: null,
          branch: null,
          currency,
          balance: 0,
          held: 0,
          status: 'active',
          opened_at: new Date().toISOString(),
          closed_at: null,
        },
        '9',
      );
    }
  }
}

const shardCache = new WeakMap<BankContext, Map<string, number[]>>();

/** The ids of every shard of a hot bank account (created if missing, cached once committed). */
export async function hotShardIds(t: Tx, kind: 'cash' | 'interest_expense', currency: string): Promise<number[]> {
  let byKey = shardCache.get(t.ctx);
  if (!byKey) shardCache.set(t.ctx, (byKey = new Map()));
  const key = `${kind}:${currency}`;
  const cached = byKey.get(key);
  if (cached?.length) return cached;
  const codes = Array.from({ length: t.ctx.hotShards }, (_, s) => hotCode(kind, currency, s));
  const rows = await t.q('accounts').whereIn('internal_code', codes).select('id');
  if (rows.length === codes.length) {
    const ids = rows.map((r) => r.id as number);
    byKey.set(key, ids);
    return ids;
  }
  // Created inside this transaction: not cached, in case it rolls back.
  await ensureBankAccounts(t.ctx, currency, t.q);
  return (await t.q('accounts').whereIn('internal_code', codes).select('id')).map((r) => r.id as number);
}

/** The id of one shard of a hot bank account, chosen at random. */
export async function pickHotAccount(t: Tx, kind: 'cash' | 'interest_expense', currency: string): Promise<number> {
  const ids = await hotShardIds(t, kind, currency);
  return ids[Math.floor(Math.random() * ids.length)];
}
