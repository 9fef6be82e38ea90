// Delivering mail: claiming the mail_outbox rows that are due, sending each through a SendMail
// transport, and writing the outcome (sent, or retried later with exponential backoff, or
// failed after MAIL_MAX_ATTEMPTS). Sending is separate from the money movement that caused
// the mail: a mail server that is down delays the mail, never the transfer. The rows come
// from mail-collect.ts; what they say was written by mail-compose.ts.
import type { BankContext } from '../core/context.js';
import type { Progress } from '../ledger/snapshots.js';

export const MAIL_MAX_ATTEMPTS = 10;
const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 6 * 3600_000;
/** A claimed mail is the claimer's for this long; if it crashed mid-send, it is due again after. */
const CLAIM_MS = 2 * 60_000;
const GIVE_UP_AFTER_FAILURES_IN_A_ROW = 5;

/** Delay before attempt n+1 after n failed attempts: 1 min, 2, 4, … capped at 6 h. */
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

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
export async function deliverDueMails(
  ctx: BankContext,
  send: SendMail,
  opts: { max?: number; progress?: Progress } = {},
): Promise<DeliveryResult> {
  const result: DeliveryResult = { sent: 0, retrying: 0, failed: 0 };
  const max = opts.max ?? 1000;
  let handled = 0;
  const tried = new Set<number>();
  // Several failures in a row: the mail server is down (or unreachable, each try waiting out
  // its timeout); leave the rest for the next run rather than spend their attempts now.
  let failedInARow = 0;
  while (handled < max && failedInARow < GIVE_UP_AFTER_FAILURES_IN_A_ROW) {
    const now = ctx.now().toISOString();
    const due = await ctx
      .db('mail_outbox')
      .where('status', 'pending')
      .andWhere('next_attempt_at', '<=', now)
      .orderBy([{ column: 'next_attempt_at' }, { column: 'id' }])
      .limit(50)
      .select('id');
    const fresh = due.filter((d) => !tried.has(d.id));
    if (!fresh.length) break;
    for (const { id } of fresh) {
      if (failedInARow >= GIVE_UP_AFTER_FAILURES_IN_A_ROW) break;
      tried.add(id);
      handled++;
      const claimedAt = ctx.now().toISOString();
      const claimed = await ctx
        .db('mail_outbox')
        .where({ id, status: 'pending' })
        .andWhere('next_attempt_at', '<=', claimedAt)
        .update({
          attempts: ctx.db.raw('attempts + 1'),
          next_attempt_at: new Date(Date.parse(claimedAt) + CLAIM_MS).toISOString(),
          updated_at: claimedAt,
        });
      if (!claimed) continue;
      const mail = await ctx.db('mail_outbox').where({ id }).first();
      try {
        const { messageId } = await send({ id, kind: mail.kind, to: mail.to_address, subject: mail.subject, text: mail.body });
        const at = ctx.now().toISOString();
        await ctx
          .db('mail_outbox')
          .where({ id })
          .update({ status: 'sent', sent_at: at, message_id: String(messageId ?? '').slice(0, 255), last_error: null, updated_at: at });
        result.sent++;
        failedInARow = 0;
      } catch (err) {
        failedInARow++;
        const at = ctx.now();
        const attempts = Number(mail.attempts);
        const gaveUp = attempts >= MAIL_MAX_ATTEMPTS;
        await ctx
          .db('mail_outbox')
          .where({ id })
          .update({
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
