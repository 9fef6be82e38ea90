import type { Actor } from './context.js';
import type { LockedAccount } from './accounts-core.js';
import { auditMany } from './audit.js';
import { recordEvent, rooms, type Room } from './events.js';
import { formatAmount } from './money.js';
import { notifyCustomers } from './notify.js';
import type { Tx } from './tx.js';

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
  kind: MoveKind;
  status: 'posted' | 'pending_approval' | 'rejected';
  amount: string;
  currency: string;
  fromAccountNumber: string | null;
  toAccountNumber: string | null;
  memo: string;
  createdAt: string;
  postedAt: string | null;
}

interface Planned extends Move {
  entries: { accountId: number; amount: number; balanceAfter: number }[];
}

const CHUNK = 200;

export function partyRooms(accounts: LockedAccount[] | { kind: string; id: number; customer_id: number | null }[]): Room[] {
  const out: Room[] = [];
  for (const a of accounts) {
    if (a.kind !== 'customer') continue;
    out.push(rooms.account(a.id));
    if (a.customer_id !== null) out.push(rooms.customer(a.customer_id));
  }
  return out;
}

/** A customer account's new balances, to its owner and whoever watches it (bank accounts: nobody). */
export function balanceUpdated(t: Tx, a: Pick<LockedAccount, 'id' | 'number' | 'kind' | 'customer_id' | 'currency' | 'balance' | 'held'>, transactionId: number): void {
  if (a.kind !== 'customer') return;
  recordEvent(t, 'balance.updated', partyRooms([a]), {
    accountId: a.id, accountNumber: a.number, balance: formatAmount(a.balance, a.currency), availableBalance: formatAmount(a.balance - a.held, a.currency), transactionId,
  });
}

/**
 * Writes the balances and holds of many accounts in one statement per chunk (a hot cash
 * account and a hundred customer accounts cost one round trip, not a hundred).
 */
export async function updateBalances(t: Tx, accounts: Pick<LockedAccount, 'id' | 'balance' | 'held'>[]): Promise<void> {
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const chunk = accounts.slice(i, i + CHUNK);
    if (t.ctx.dialect === 'pg') {
      const arr = (f: (a: (typeof chunk)[number]) => number) => `{${chunk.map(f).join(',')}}`;
      await t.q.raw(
        'UPDATE accounts AS a SET balance = v.balance, held = v.held FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, balance, held) WHERE a.id = v.id',
        [arr((a) => a.id), arr((a) => a.balance), arr((a) => a.held)],
      );
    } else {
      const cases = chunk.map(() => 'WHEN ? THEN ?').join(' ');
      await t.q.raw(
        `UPDATE accounts SET balance = CASE id ${cases} END, held = CASE id ${cases} END WHERE id IN (${chunk.map(() => '?').join(',')})`,
        [...chunk.flatMap((a) => [a.id, a.balance]), ...chunk.flatMap((a) => [a.id, a.held]), ...chunk.map((a) => a.id)],
      );
    }
  }
}

const idOf = (r: unknown, key: string) => Number(typeof r === 'object' && r !== null ? (r as Record<string, number>)[key] : r);

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
    const rows = moves.map((m) => ({
      kind: m.kind, status: m.pending ? 'pending_approval' : 'posted', amount: m.amount, currency: m.from.currency,
      from_account_id: m.from.id, to_account_id: m.to.id, memo: m.memo, external_ref: m.externalRef ?? null, created_by: (m.actor ?? actor).userId,
      decided_by: null, decision_note: null, created_at: t.now, posted_at: m.pending ? null : t.now, decided_at: null,
    }));
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const ins = await t.q('transactions').insert(rows.slice(i, i + CHUNK), ['id']);
      // Serial ids follow VALUES order, whatever order RETURNING lists them in.
      ids.push(...(ins as unknown[]).map((r) => idOf(r, 'id')).sort((a, b) => a - b));
    }
    const entries = moves.flatMap((m, i) => m.entries.map((e) => ({ transaction_id: ids[i], account_id: e.accountId, amount: e.amount, balance_after: e.balanceAfter, at: t.now })));
    for (let i = 0; i < entries.length; i += CHUNK) await t.q('entries').insert(entries.slice(i, i + CHUNK));
    await updateBalances(t, [...this.touched.values()]);

    const dtos: TransactionDto[] = moves.map((m, i) => ({
      id: ids[i], kind: m.kind, status: m.pending ? 'pending_approval' : 'posted', amount: formatAmount(m.amount, m.from.currency), currency: m.from.currency,
      // Bank-owned accounts (cash, interest expense) are not shown to clients.
      fromAccountNumber: m.kind === 'transfer' || m.kind === 'withdrawal' ? m.from.number : null,
      toAccountNumber: m.kind === 'withdrawal' ? null : m.to.number,
      memo: m.memo, createdAt: t.now, postedAt: m.pending ? null : t.now,
    }));
    const lastTx = new Map<number, number>();
    moves.forEach((m, i) => {
      recordEvent(t, m.pending ? 'transaction.pending' : 'transaction.posted', [...partyRooms([m.from, m.to]), ...(m.pending ? [rooms.managers] : [])], { transaction: dtos[i] });
      lastTx.set(m.from.id, ids[i]);
      if (!m.pending) lastTx.set(m.to.id, ids[i]);
    });
    for (const a of this.touched.values()) balanceUpdated(t, a, lastTx.get(a.id)!);
    this.touched.clear();
    await notifyCustomers(t, moves.flatMap((m) => (m.notify ? [m.notify] : [])));
    await auditMany(t, actor, moves.map((m, i) => ({
      action: m.kind === 'interest' || !m.pending ? m.kind : `${m.kind}.requested`, entity: 'transaction', entityId: ids[i], after: dtos[i], actor: m.actor,
    })));
    return dtos;
  }
}
