// Collecting mail to customers, after the fact. The mail job scans what happened
// (notifications, posted transactions in the event outbox, sign-ins) and queues one
// mail_outbox row per cause, keyed so a cause is never queued twice; once a month it also
// queues the "statement ready" mails (queueStatementsOnce). Each scan keeps its place in a
// job_cursors row. What a mail says is mail-compose.ts; sending what is queued is
// mail-deliver.ts. Staff have no address, so only customers (customers.email) get mail.
import type { BankContext } from '../core/context.js';
import type { TransactionDto } from '../ledger/journal.js';
import { endOfDay, firstDayOf, lastDayOf, startOfDay } from '../core/days.js';
import { parseAmount } from '../core/money.js';
import type { Progress } from '../ledger/snapshots.js';
import { type Tx, withTx } from '../core/db-tx.js';
import {
  type ClosingBalance,
  type QueuedMail,
  largeTransactionMail,
  newDeviceLoginMail,
  notificationMail,
  statementMail,
} from './mail-compose.js';

/** Notification kinds worth an email (the rest stay in-app). */
export const MAIL_NOTIFICATION_KINDS = [
  'ticket_reply',
  'ticket_resolved',
  'security',
  'transaction.rejected',
  'alert',
  'standing_order',
  'standing_order_failed',
  'reversal',
] as const;

/** Deposits, withdrawals and transfers of at least this many major units are mailed to each customer party. */
export const LARGE_TRANSACTION_MAJOR = '10000';

/** Rows younger than this may still have neighbours with smaller ids about to commit (PostgreSQL
 * allots ids before commit), so a scan does not move its cursor past them; it sees them again. */
export const SCAN_SETTLE_MS = 2 * 60_000;

/** Queues mails; a dedupe key already queued (or sent) is ignored. */
export async function queueMails(t: Tx, mails: QueuedMail[]): Promise<number> {
  const rows = mails
    .filter((m) => m.to && m.to.includes('@'))
    .map((m) => ({
      dedupe_key: m.dedupeKey,
      kind: m.kind,
      customer_id: m.customerId,
      to_address: m.to.slice(0, 254),
      subject: m.subject.slice(0, 200),
      body: m.body,
      status: 'pending',
      attempts: 0,
      next_attempt_at: t.now,
      created_at: t.now,
      updated_at: t.now,
    }));
  let n = 0;
  for (let i = 0; i < rows.length; i += 200) {
    const res = await t
      .q('mail_outbox')
      .insert(rows.slice(i, i + 200), ['id'])
      .onConflict('dedupe_key')
      .ignore();
    n += Array.isArray(res) ? res.length : 0;
  }
  return n;
}

interface Source {
  cursor: string;
  /** Rows after the cursor, oldest first, with a numeric id and an ISO created-at. */
  rows(t: Tx, after: number, limit: number): Promise<Array<{ id: number; at: string }>>;
  /** The mails a batch of rows causes. */
  mails(t: Tx, rows: Array<{ id: number; at: string }>): Promise<QueuedMail[]>;
}

const BATCH = 500;

/**
 * Scans one source from its cursor and queues its mails, in one transaction that holds the
 * cursor row (concurrent scans queue up behind it). The cursor moves over rows older than
 * SCAN_SETTLE_MS only; younger ones are scanned again next time, and deduplicated.
 */
async function scan(ctx: BankContext, src: Source): Promise<number> {
  let queued = 0;
  for (let round = 0; round < 100; round++) {
    const { n, more } = await withTx(ctx, async (t) => {
      await t.q('job_cursors').insert({ name: src.cursor, position: 0, updated_at: t.now }).onConflict('name').ignore();
      let q = t.q('job_cursors').where('name', src.cursor);
      if (t.ctx.dialect === 'pg') q = q.forUpdate();
      const cursor = Number((await q.first('position')).position);
      const rows = await src.rows(t, cursor, BATCH);
      const n = rows.length ? await queueMails(t, await src.mails(t, rows)) : 0;
      const settled = new Date(Date.parse(t.now) - SCAN_SETTLE_MS).toISOString();
      let position = cursor;
      for (const r of rows) {
        if (r.at > settled) break;
        position = r.id;
      }
      if (position !== cursor) await t.q('job_cursors').where('name', src.cursor).update({ position, updated_at: t.now });
      return { n, more: rows.length === BATCH && position !== cursor };
    });
    queued += n;
    if (!more) break;
  }
  return queued;
}

const notifications: Source = {
  cursor: 'mail:notifications',
  rows: (t, after, limit) => t.q('notifications').where('id', '>', after).orderBy('id').limit(limit).select('id', 'created_at as at'),
  async mails(t, rows) {
    const found = await t
      .q('notifications as n')
      .join('users as u', 'u.id', 'n.user_id')
      .join('customers as c', 'c.id', 'u.customer_id')
      .whereIn(
        'n.id',
        rows.map((r) => r.id),
      )
      .whereIn('n.kind', [...MAIL_NOTIFICATION_KINDS])
      .select('n.id', 'n.kind', 'n.title', 'n.body', 'c.id as customer_id', 'c.email', 'c.first_name');
    return found.map((n) => notificationMail(n));
  },
};

const largeTransactions: Source = {
  cursor: 'mail:events',
  rows: (t, after, limit) => t.q('events').where('seq', '>', after).orderBy('seq').limit(limit).select('seq as id', 'created_at as at'),
  async mails(t, rows) {
    const events = await t
      .q('events')
      .whereIn(
        'seq',
        rows.map((r) => r.id),
      )
      .whereIn('type', ['transaction.posted', 'transaction.approved'])
      .select('seq', 'payload');
    const large = events
      .map((e) => ({ seq: e.seq as number, transaction: (JSON.parse(e.payload) as { transaction: MailTx }).transaction }))
      .filter(({ transaction }) => ['deposit', 'withdrawal', 'transfer'].includes(transaction.kind) && isLarge(transaction));
    if (!large.length) return [];
    const roomRows = await t
      .q('event_rooms')
      .whereIn(
        'seq',
        large.map((e) => e.seq),
      )
      .andWhere('room', 'like', 'customer:%')
      .select('seq', 'room');
    const customerIds = [...new Set(roomRows.map((r) => Number(String(r.room).slice('customer:'.length))))];
    const customers = new Map(
      (await t.q('customers').whereIn('id', customerIds).select('id', 'email', 'first_name')).map((c) => [c.id as number, c]),
    );
    const out: QueuedMail[] = [];
    for (const { seq, transaction } of large) {
      for (const r of roomRows.filter((x) => x.seq === seq)) {
        const c = customers.get(Number(String(r.room).slice('customer:'.length)));
        if (!c) continue;
        out.push(largeTransactionMail(c, transaction));
      }
    }
    return out;
  },
};

type MailTx = TransactionDto;

function isLarge(transaction: MailTx): boolean {
  try {
    return parseAmount(transaction.amount, transaction.currency) >= parseAmount(LARGE_TRANSACTION_MAJOR, transaction.currency);
  } catch {
    return false;
  }
}

/** A sign-in from an (ip, user agent) pair the user never signed in from before. */
const newDeviceLogins: Source = {
  cursor: 'mail:logins',
  rows: (t, after, limit) => t.q('login_events').where('id', '>', after).orderBy('id').limit(limit).select('id', 'at'),
  async mails(t, rows) {
    const logins = await t
      .q('login_events as l')
      .join('users as u', 'u.id', 'l.user_id')
      .join('customers as c', 'c.id', 'u.customer_id')
      .whereIn(
        'l.id',
        rows.map((r) => r.id),
      )
      .andWhere('l.kind', 'login')
      .select('l.id', 'l.user_id', 'l.ip', 'l.user_agent', 'l.at', 'u.username', 'c.id as customer_id', 'c.email', 'c.first_name');
    const out: QueuedMail[] = [];
    for (const l of logins) {
      const seen = await t
        .q('login_events')
        .where({ user_id: l.user_id, kind: 'login' })
        .andWhere('id', '<', l.id)
        .andWhere((w) => (l.ip === null ? w.whereNull('ip') : w.where('ip', l.ip)))
        .andWhere((w) => (l.user_agent === null ? w.whereNull('user_agent') : w.where('user_agent', l.user_agent)))
        .first('id');
      if (seen) continue;
      out.push(newDeviceLoginMail(l));
    }
    return out;
  },
};

export const MAIL_SOURCES = { notifications, largeTransactions, newDeviceLogins };

/** Queues the mails for everything that happened since the last scan. */
export async function collectMail(
  ctx: BankContext,
): Promise<{ notifications: number; largeTransactions: number; newDeviceLogins: number }> {
  return {
    notifications: await scan(ctx, notifications),
    largeTransactions: await scan(ctx, largeTransactions),
    newDeviceLogins: await scan(ctx, newDeviceLogins),
  };
}

/**
 * "Your statement is ready": one mail per customer and month, for customers with an account
 * open at some point of the month, listing each account's closing balance.
 */
export async function queueStatementMails(ctx: BankContext, period: string, progress?: Progress): Promise<number> {
  const start = startOfDay(firstDayOf(period));
  const end = endOfDay(lastDayOf(period));
  let after = 0;
  let queued = 0;
  for (;;) {
    const customers = await ctx
      .db('customers as c')
      .where('c.id', '>', after)
      .whereExists((q) =>
        q
          .select('a.id')
          .from('accounts as a')
          .whereRaw('a.customer_id = c.id')
          .andWhere('a.kind', 'customer')
          .andWhere('a.opened_at', '<=', end)
          .andWhere((w) => w.whereNull('a.closed_at').orWhere('a.closed_at', '>=', start)),
      )
      .orderBy('c.id')
      .limit(200)
      .select('c.id', 'c.email', 'c.first_name');
    if (!customers.length) break;
    after = customers[customers.length - 1].id;
    queued += await withTx(ctx, async (t) => {
      const mails: QueuedMail[] = [];
      for (const c of customers) {
        const accounts = await t
          .q('accounts')
          .where({ customer_id: c.id, kind: 'customer' })
          .andWhere('opened_at', '<=', end)
          .andWhere((w) => w.whereNull('closed_at').orWhere('closed_at', '>=', start))
          .orderBy('id')
          .select('id', 'number', 'currency');
        const balances: ClosingBalance[] = [];
        for (const a of accounts) {
          const last = await t
            .q('entries')
            .where('account_id', a.id)
            .andWhere('at', '<=', end)
            .orderBy([
              { column: 'at', order: 'desc' },
              { column: 'id', order: 'desc' },
            ])
            .first('balance_after');
          balances.push({ number: a.number, currency: a.currency, closingBalance: last ? Number(last.balance_after) : 0 });
        }
        mails.push(statementMail(c, period, balances));
      }
      return queueMails(t, mails);
    });
    await progress?.();
  }
  return queued;
}

/**
 * Queues the statement mails of a month once: a cursor remembers the last month done, so the
 * daily posting run does not rescan every customer each day (a rerun would be harmless anyway).
 */
export async function queueStatementsOnce(ctx: BankContext, period: string, progress?: Progress): Promise<number> {
  const name = 'mail:statements';
  const asNumber = Number(period.replace('-', ''));
  const done = await ctx.db('job_cursors').where({ name }).first('position');
  if (done && Number(done.position) >= asNumber) return 0;
  const queued = await queueStatementMails(ctx, period, progress);
  await withTx(ctx, async (t) => {
    await t.q('job_cursors').insert({ name, position: 0, updated_at: t.now }).onConflict('name').ignore();
    await t.q('job_cursors').where({ name }).andWhere('position', '<', asNumber).update({ position: asNumber, updated_at: t.now });
  });
  return queued;
}
