import type { Actor } from '../core/context.js';
import type { LockedAccount } from '../accounts/records.js';
import { auditMany } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import type { RoomName } from '../../shared/events.js';
import { formatAmount } from '../core/money.js';
import { notifyCustomers } from '../notifications/send.js';
import { evaluateAlerts } from '../accounts/alerts.js';
import type { Tx } from '../core/db-tx.js';
import { fastSql, type Table } from '../../db/fast.js';

export type MoveKind = 'deposit' | 'withdrawal' | 'transfer' | 'interest';

/** One validated money movement, planned against locked accounts. */
export interface Move {
  kind: MoveKind;
  from: LockedAccount;
  to: LockedAccount;
  amount: number;
  memo: string;
  /** Held for a manager instead of posted. */
  pending: boolean;
  externalRef?: string | null;
  /** Who asked for it, when movements of several callers are written together (group commit). */
  actor?: Actor;
  /** Who to tell, in words: the users of this customer get a notification. */
  notify?: { customerId: number | null; kind: string; title: string; body: string } | null;
}

export interface TransactionDto {
  id: number;
  kind: MoveKind | 'reversal';
  /** 'cancelled': withdrawn by its maker while it waited (bank/ledger/cancel.ts). */
  status: 'posted' | 'pending_approval' | 'rejected' | 'cancelled';
  amount: string;
  currency: string;
  fromAccountNumber: string | null;
  toAccountNumber: string | null;
  memo: string;
  createdAt: string;
  postedAt: string | null;
  /** The transaction this one reverses, and the posted reversal of this one. */
  reversalOf: number | null;
  reversedBy: number | null;
}

interface Planned extends Move {
  entries: { accountId: number; amount: number; balanceAfter: number }[];
}

export function partyRooms(
  accounts: LockedAccount[] | { kind: string; id: number; customer_id: number | null }[],
): RoomName<'account' | 'customer'>[] {
  const out: RoomName<'account' | 'customer'>[] = [];
  for (const a of accounts) {
    if (a.kind !== 'customer') continue;
    out.push(rooms.account(a.id));
    if (a.customer_id !== null) out.push(rooms.customer(a.customer_id));
  }
  return out;
}

/** A customer account's new balances, to its owner and whoever watches it (bank accounts: nobody). */
export function balanceUpdated(
  t: Tx,
  a: Pick<LockedAccount, 'id' | 'number' | 'kind' | 'customer_id' | 'currency' | 'balance' | 'held'>,
  transactionId: number,
): void {
  if (a.kind !== 'customer') return;
  recordEvent(t, 'balance.updated', partyRooms([a]), {
    accountId: a.id,
    accountNumber: a.number,
    balance: formatAmount(a.balance, a.currency),
    availableBalance: formatAmount(a.balance - a.held, a.currency),
    transactionId,
  });
}

/**
 * Writes the balances and holds of many accounts: one prepared statement a row on SQLite,
 * one statement for them all on PostgreSQL (a hot cash account and a hundred customer
 * accounts cost one round trip, not a hundred).
 */
export async function updateBalances(t: Tx, accounts: Pick<LockedAccount, 'id' | 'balance' | 'held'>[]): Promise<void> {
  if (!accounts.length) return;
  const fast = await fastSql(t.q);
  if (fast.dialect === 'sqlite') {
    for (const a of accounts)
      await fast.query('balance', { sqlite: 'UPDATE accounts SET balance = ?, held = ? WHERE id = ?', pg: '' }, [a.balance, a.held, a.id]);
    return;
  }
  await fast.query(
    'balances',
    {
      sqlite: '',
      pg: 'UPDATE accounts AS a SET balance = v.balance, held = v.held FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, balance, held) WHERE a.id = v.id',
    },
    [accounts.map((a) => a.id), accounts.map((a) => a.balance), accounts.map((a) => a.held)],
  );
}

const TRANSACTIONS: Table = {
  name: 'transactions',
  key: 'id',
  columns: [
    ['kind', 'text'],
    ['status', 'text'],
    ['amount', 'bigint'],
    ['currency', 'text'],
    ['from_account_id', 'bigint'],
    ['to_account_id', 'bigint'],
    ['memo', 'text'],
    ['external_ref', 'text'],
    ['created_by', 'bigint'],
    ['created_at', 'text'],
    ['posted_at', 'text'],
  ],
};
const ENTRIES: Table = {
  name: 'entries',
  key: 'id',
  columns: [
    ['transaction_id', 'bigint'],
    ['account_id', 'bigint'],
    ['amount', 'bigint'],
    ['balance_after', 'bigint'],
    ['at', 'text'],
  ],
};

/**
 * Collects validated movements and writes them together: one multi-row insert each for
 * transactions, entries, notifications and audit rows, one update per touched account, one
 * balance.updated per touched customer account. Adding a movement applies it to the locked
 * accounts in memory at once, so the next one is validated against the new balances.
 * A single deposit and a 10,000-item batch go through the same code.
 */
export class Journal {
  private readonly moves: Planned[] = [];
  private readonly touched = new Map<number, LockedAccount>();

  get size() {
    return this.moves.length;
  }

  add(move: Move): number {
    const entries: Planned['entries'] = [];
    if (move.pending) {
      move.from.held += move.amount;
    } else {
      move.from.balance -= move.amount;
      move.to.balance += move.amount;
      entries.push({ accountId: move.from.id, amount: -move.amount, balanceAfter: move.from.balance });
      entries.push({ accountId: move.to.id, amount: move.amount, balanceAfter: move.to.balance });
      this.touched.set(move.to.id, move.to);
    }
    this.touched.set(move.from.id, move.from);
    this.moves.push({ ...move, entries });
    return this.moves.length - 1;
  }

  /** Writes everything added, in the caller's transaction; answers in the order added. */
  async flush(t: Tx, actor: Actor): Promise<TransactionDto[]> {
    const moves = this.moves.splice(0);
    if (!moves.length) return [];
    const fast = await fastSql(t.q);
    const ids = await fast.insert(
      TRANSACTIONS,
      moves.map((m) => [
        m.kind,
        m.pending ? 'pending_approval' : 'posted',
        m.amount,
        m.from.currency,
        m.from.id,
        m.to.id,
        m.memo,
        m.externalRef ?? null,
        (m.actor ?? actor).userId,
        t.now,
        m.pending ? null : t.now,
      ]),
    );
    await fast.insert(
      ENTRIES,
      moves.flatMap((m, i) => m.entries.map((e) => [ids[i], e.accountId, e.amount, e.balanceAfter, t.now])),
    );
    await evaluateAlerts(
      t,
      () => moves.flatMap((m) => m.entries.map((e) => ({ account_id: e.accountId, amount: e.amount, balance_after: e.balanceAfter }))),
      this.touched.values(),
    );
    await updateBalances(t, [...this.touched.values()]);

    const dtos: TransactionDto[] = moves.map((m, i) => ({
      id: ids[i],
      kind: m.kind,
      status: m.pending ? 'pending_approval' : 'posted',
      amount: formatAmount(m.amount, m.from.currency),
      currency: m.from.currency,
      // Bank-owned accounts (cash, interest expense) are not shown to clients.
      fromAccountNumber: m.kind === 'transfer' || m.kind === 'withdrawal' ? m.from.number : null,
      toAccountNumber: m.kind === 'withdrawal' ? null : m.to.number,
      memo: m.memo,
      createdAt: t.now,
      postedAt: m.pending ? null : t.now,
      reversalOf: null,
      reversedBy: null,
    }));
    const lastTx = new Map<number, number>();
    moves.forEach((m, i) => {
      // Pending ones also go to managers (who approve them); posted ones to the parties only.
      if (m.pending) recordEvent(t, 'transaction.pending', [...partyRooms([m.from, m.to]), rooms.managers], { transaction: dtos[i] });
      else recordEvent(t, 'transaction.posted', partyRooms([m.from, m.to]), { transaction: dtos[i] });
      lastTx.set(m.from.id, ids[i]);
      if (!m.pending) lastTx.set(m.to.id, ids[i]);
    });
    for (const a of this.touched.values()) balanceUpdated(t, a, lastTx.get(a.id)!);
    this.touched.clear();
    await notifyCustomers(
      t,
      moves.flatMap((m) => (m.notify ? [m.notify] : [])),
    );
    await auditMany(
      t,
      actor,
      moves.map((m, i) => ({
        action: m.kind === 'interest' || !m.pending ? m.kind : `${m.kind}.requested`,
        entity: 'transaction',
        entityId: ids[i],
        after: dtos[i],
        actor: m.actor,
      })),
    );
    return dtos;
  }
}
