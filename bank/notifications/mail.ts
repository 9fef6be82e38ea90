import type { BankContext } from '../core/context.js';
import type { TransactionDto } from '../ledger/journal.js';
import { endOfDay, firstDayOf, lastDayOf, startOfDay } from '../core/days.js';
import { formatAmount, parseAmount } from '../core/money.js';
import type { Progress } from '../ledger/snapshots.js';
import { type Tx, withTx } from '../core/db-tx.js';

// Mail to customers, after the fact. The mail job scans what happened (notifications,
// posted transactions in the event outbox, sign-ins) and queues one mail_outbox row per
// cause, keyed so a cause is never queued twice; then it sends what is due. Sending is
// separate from the money movement that caused it: a mail server that is down delays the
// mail (retried with exponential backoff), never the transfer. Staff have no address, so
// only customers (customers.email) get mail.

/** Notification kinds worth an email (the rest stay in-app). */
export const MAIL_NOTIFICATION_KINDS = ['ticket_reply', 'ticket_resolved', 'security', 'transaction.rejected', 'alert', 'standing_order', 'standing_order_failed', 'reversal'] as const;

/** Deposits, withdrawals and transfers of at least this many major units are mailed to each customer party. */
export const LARGE_TRANSACTION_MAJOR = '10000';

/** Rows younger than this may still have neighbours with smaller ids about to commit (PostgreSQL
 * allots ids before commit), so a scan does not move its cursor past them; it sees them again. */
export const SCAN_SETTLE_MS = 2 * 60_000;

export const MAIL_MAX_ATTEMPTS = 10;
const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 6 * 3600_000;
/** A claimed mail is the claimer's for this long; if it crashed mid-send, it is due again after. */
const CLAIM_MS = 2 * 60_000;
const GIVE_UP_AFTER_FAILURES_IN_A_ROW = 5;

/** Delay before attempt n+1 after n failed attempts: 1 min, 2, 4, … capped at 6 h. */
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

export interface QueuedMail {
  dedupeKey: string;
  kind: string;
  customerId: number;
  to: string;
  subject: string;
  body: string;
}

/** Queues mails; a dedupe key already queued (or sent) is ignored. */
export async function queueMails(t: Tx, mails: QueuedMail[]): Promise<number> {
  const rows = mails
    .filter((m) => m.to && m.to.includes('@'))
    .map((m) => ({
      dedupe_key: m.dedupeKey, kind: m.kind, customer_id: m.customerId, to_address: m.to.slice(0, 254), subject: m.subject.slice(0, 200),
      body: m.body, status: 'pending', attempts: 0, next_attempt_at: t.now, created_at: t.now, updated_at: t.now,
    }));
  let n = 0;
  for (let i = 0; i < rows.length; i += 200) {
    const res = await t.q('mail_outbox').insert(rows.slice(i, i + 200), ['id']).onConflict('dedupe_key').ignore();
    n += Array.isArray(res) ? res.length : 0;
  }
  return n;
}

const greeting = (firstName: string | null | undefined) => `Dear ${firstName || 'customer'},\n\n`;
const SIGNATURE = '\n\n-- \nBanking Hub. This message was sent automatically; do not reply to it.\n';

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
    const found = await t.q('notifications as n')
      .join('users as u', 'u.id', 'n.user_id')
      .join('customers as c', 'c.id', 'u.customer_id')
      .whereIn('n.id', rows.map((r) => r.id))
      .whereIn('n.kind', [...MAIL_NOTIFICATION_KINDS])
      .select('n.id', 'n.kind', 'n.title', 'n.body', 'c.id as customer_id', 'c.email', 'c.first_name');
    return found.map((n) => ({
      dedupeKey: `notification:${n.id}`, kind: n.kind, customerId: n.customer_id, to: n.email,
      subject: n.title, body: `${greeting(n.first_name)}${n.body}${SIGNATURE}`,
    }));
  },
};

const largeTransactions: Source = {
  cursor: 'mail:events',
  rows: (t, after, limit) => t.q('events').where('seq', '>', after).orderBy('seq').limit(limit).select('seq as id', 'created_at as at'),
  async mails(t, rows) {
    const events = await t.q('events').whereIn('seq', rows.map((r) => r.id)).whereIn('type', ['transaction.posted', 'transaction.approved']).select('seq', 'payload');
    const large = events
      .map((e) => ({ seq: e.seq as number, transaction: (JSON.parse(e.payload) as { transaction: MailTx }).transaction }))
      .filter(({ transaction }) => ['deposit', 'withdrawal', 'transfer'].includes(transaction.kind) && isLarge(transaction));
    if (!large.length) return [];
    const roomRows = await t.q('event_rooms').whereIn('seq', large.map((e) => e.seq)).andWhere('room', 'like', 'customer:%').select('seq', 'room');
    const customerIds = [...new Set(roomRows.map((r) => Number(String(r.room).slice('customer:'.length))))];
    const customers = new Map((await t.q('customers').whereIn('id', customerIds).select('id', 'email', 'first_name')).map((c) => [c.id as number, c]));
    const out: QueuedMail[] = [];
    for (const { seq, transaction } of large) {
      for (const r of roomRows.filter((x) => x.seq === seq)) {
        const c = customers.get(Number(String(r.room).slice('customer:'.length)));
        if (!c) continue;
        const what = transaction.kind === 'transfer' ? `A transfer of ${transaction.amount} ${transaction.currency} from account ${transaction.fromAccountNumber} to account ${transaction.toAccountNumber}`
          : transaction.kind === 'deposit' ? `A deposit of ${transaction.amount} ${transaction.currency} to account ${transaction.toAccountNumber}`
            : `A withdrawal of ${transaction.amount} ${transaction.currency} from account ${transaction.fromAccountNumber}`;
        out.push({
          dedupeKey: `tx:${transaction.id}:customer:${c.id}`, kind: 'large_transaction', customerId: c.id, to: c.email,
          subject: `Large ${transaction.kind}: ${transaction.amount} ${transaction.currency}`,
          body: `${greeting(c.first_name)}${what} was posted at ${transaction.postedAt ?? transaction.createdAt} (transaction ${transaction.id}${transaction.memo ? `, "${transaction.memo}"` : ''}).\nIf you do not recognise it, contact the bank at once.${SIGNATURE}`,
        });
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
    const logins = await t.q('login_events as l')
      .join('users as u', 'u.id', 'l.user_id')
      .join('customers as c', 'c.id', 'u.customer_id')
      .whereIn('l.id', rows.map((r) => r.id))
      .andWhere('l.kind', 'login')
      .select('l.id', 'l.user_id', 'l.ip', 'l.user_agent', 'l.at', 'u.username', 'c.id as customer_id', 'c.email', 'c.first_name');
    const out: QueuedMail[] = [];
    for (const l of logins) {
      const seen = await t.q('login_events')
        .where({ user_id: l.user_id, kind: 'login' }).andWhere('id', '<', l.id)
        .andWhere((w) => (l.ip === null ? w.whereNull('ip') : w.where('ip', l.ip)))
        .andWhere((w) => (l.user_agent === null ? w.whereNull('user_agent') : w.where('user_agent', l.user_agent)))
        .first('id');
      if (seen) continue;
      out.push({
        dedupeKey: `login:${l.id}`, kind: 'new_device_login', customerId: l.customer_id, to: l.email,
        subject: 'New sign-in to your account',
        body: `${greeting(l.first_name)}Your login ${l.username} signed in from a device we have not seen before, at ${l.at}.\n` +
          `Address: ${l.ip ?? 'unknown'}\nBrowser: ${l.user_agent ?? 'unknown'}\n\nIf this was not you, change your password and contact the bank.${SIGNATURE}`,
      });
    }
    return out;
  },
};

export const MAIL_SOURCES = { notifications, largeTransactions, newDeviceLogins };

/** Queues the mails for everything that happened since the last scan. */
export async function collectMail(ctx: BankContext): Promise<{ notifications: number; largeTransactions: number; newDeviceLogins: number }> {
  return {
    notifications: await scan(ctx, notifications),
    largeTransactions: await scan(ctx, largeTransactions),
    newDeviceLogins: await scan(ctx, newDeviceLogins),
  };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const monthName = (period: string) => `${MONTHS[Number(period.slice(5, 7)) - 1]} ${period.slice(0, 4)}`;

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
    const customers = await ctx.db('customers as c')
      .where('c.id', '>', after)
      .whereExists((q) => q.select('a.id').from('accounts as a').whereRaw('a.customer_id = c.id').andWhere('a.kind', 'customer').andWhere('a.opened_at', '<=', end)
        .andWhere((w) => w.whereNull('a.closed_at').orWhere('a.closed_at', '>=', start)))
      .orderBy('c.id').limit(200).select('c.id', 'c.email', 'c.first_name');
    if (!customers.length) break;
    after = customers[customers.length - 1].id;
    queued += await withTx(ctx, async (t) => {
      const mails: QueuedMail[] = [];
      for (const c of customers) {
        const accounts = await t.q('accounts').where({ customer_id: c.id, kind: 'customer' }).andWhere('opened_at', '<=', end)
          .andWhere((w) => w.whereNull('closed_at').orWhere('closed_at', '>=', start)).orderBy('id').select('id', 'number', 'currency');
        const lines: string[] = [];
        for (const a of accounts) {
          const last = await t.q('entries').where('account_id', a.id).andWhere('at', '<=', end)
            .orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('balance_after');
          lines.push(`  ${a.number}: closing balance ${formatAmount(last ? Number(last.balance_after) : 0, a.currency)} ${a.currency}`);
        }
        mails.push({
          dedupeKey: `statement:${c.id}:${period}`, kind: 'statement_ready', customerId: c.id, to: c.email,
          subject: `Your statement for ${monthName(period)} is ready`,
          body: `${greeting(c.first_name)}Your statement for ${monthName(period)} is ready in the app.\n\n${lines.join('\n')}${SIGNATURE}`,
        });
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

export interface OutgoingMail {
  id: number;
  kind: string;
  to: string;
  subject: string;
  text: string;
}

/** A transport: resolves with the message id, or rejects (the mail is retried later). */
export type SendMail = (mail: OutgoingMail) => Promise<{ messageId: string }>;

export interface DeliveryResult {
  sent: number;
  retrying: number;
  failed: number;
}

/**
 * Sends what is due. Each mail is claimed first (attempts + 1, and pushed CLAIM_MS ahead)
 * by a conditional update, so two workers never send the same mail at once; the outcome is
 * written after the send. A crash between the send and that write sends it again later
 * (at least once delivery). After MAIL_MAX_ATTEMPTS failures a mail is marked failed.
 */
export async function deliverDueMails(ctx: BankContext, send: SendMail, opts: { max?: number; progress?: Progress } = {}): Promise<DeliveryResult> {
  const result: DeliveryResult = { sent: 0, retrying: 0, failed: 0 };
  const max = opts.max ?? 1000;
  let handled = 0;
  const tried = new Set<number>();
  // Several failures in a row: the mail server is down (or unreachable, each try waiting out
  // its timeout); leave the rest for the next run rather than spend their attempts now.
  let failedInARow = 0;
  while (handled < max && failedInARow < GIVE_UP_AFTER_FAILURES_IN_A_ROW) {
    const now = ctx.now().toISOString();
    const due = await ctx.db('mail_outbox').where('status', 'pending').andWhere('next_attempt_at', '<=', now)
      .orderBy([{ column: 'next_attempt_at' }, { column: 'id' }]).limit(50).select('id');
    const fresh = due.filter((d) => !tried.has(d.id));
    if (!fresh.length) break;
    for (const { id } of fresh) {
      if (failedInARow >= GIVE_UP_AFTER_FAILURES_IN_A_ROW) break;
      tried.add(id);
      handled++;
      const claimedAt = ctx.now().toISOString();
      const claimed = await ctx.db('mail_outbox').where({ id, status: 'pending' }).andWhere('next_attempt_at', '<=', claimedAt)
        .update({ attempts: ctx.db.raw('attempts + 1'), next_attempt_at: new Date(Date.parse(claimedAt) + CLAIM_MS).toISOString(), updated_at: claimedAt });
      if (!claimed) continue;
      const mail = await ctx.db('mail_outbox').where({ id }).first();
      try {
        const { messageId } = await send({ id, kind: mail.kind, to: mail.to_address, subject: mail.subject, text: mail.body });
        const at = ctx.now().toISOString();
        await ctx.db('mail_outbox').where({ id }).update({ status: 'sent', sent_at: at, message_id: String(messageId ?? '').slice(0, 255), last_error: null, updated_at: at });
        result.sent++;
        failedInARow = 0;
      } catch (err) {
        failedInARow++;
        const at = ctx.now();
        const attempts = Number(mail.attempts);
        const gaveUp = attempts >= MAIL_MAX_ATTEMPTS;
        await ctx.db('mail_outbox').where({ id }).update({
          status: gaveUp ? 'failed' : 'pending',
          next_attempt_at: new Date(at.getTime() + backoffMs(attempts)).toISOString(),
          last_error: String((err as Error)?.message ?? err).slice(0, 2000),
          updated_at: at.toISOString(),
        });
        if (gaveUp) result.failed++;
        else result.retrying++;
      }
      await opts.progress?.();
    }
  }
  return result;
}
