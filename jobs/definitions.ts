import type { BankContext } from '../bank/core/index.js';
import { previousPeriod } from '../bank/core/index.js';
import { escalateTickets, flagBreaches } from '../bank/support/index.js';
import { type AccountFailure, accrueInterest, postInterest } from '../bank/ledger/index.js';
import { collectMail, deliverDueMails, queueStatementsOnce } from '../bank/notifications/index.js';
import { cleanup } from '../bank/core/index.js';
import { type Progress, snapshotBalances } from '../bank/ledger/index.js';
import { runDueStandingOrders } from '../bank/ledger/index.js';
import type { MailSender } from './mailer.js';

export interface JobContext {
  bank: BankContext;
  mailer(): MailSender;
  /** Renews the job's lock; long runs call it between accounts. */
  progress: Progress;
}

export interface JobSpec {
  name: string;
  /** Cron, UTC (six fields: with seconds). */
  schedule: string;
  /** Runs every few seconds or minutes: its routine results are logged at debug level. */
  frequent?: boolean;
  run(ctx: JobContext): Promise<unknown>;
}

/** The work is done for every account that could be done; the job still fails, so it is logged and counted. */
function failIfAny(what: string, failures: AccountFailure[]): void {
  if (!failures.length) return;
  const sample = failures
    .slice(0, 5)
    .map((f) => `#${f.accountId}: ${f.error}`)
    .join('; ');
  throw new Error(`${what} failed for ${failures.length} account(s): ${sample}`);
}

// Every job catches up on whatever it missed (days not accrued or snapshotted, months not
// posted, rows not scanned), so a late, repeated or concurrent run is harmless; the daily
// ones run a few minutes after midnight UTC, once the day has settled (bank/core/days.ts).
export const JOBS: JobSpec[] = [
  {
    name: 'balance-snapshot',
    schedule: '0 5 0 * * *',
    run: ({ bank, progress }) => snapshotBalances(bank, { progress }),
  },
  {
    name: 'interest-accrual',
    schedule: '0 10 0 * * *',
    async run({ bank, progress }) {
      const r = await accrueInterest(bank, { progress });
      failIfAny('interest accrual', r.failures);
      return r;
    },
  },
  {
    // Daily rather than monthly: a month missed on the 1st (worker down) posts the next day.
    name: 'interest-posting',
    schedule: '0 30 0 * * *',
    async run({ bank, progress }) {
      const r = await postInterest(bank, { progress });
      const statementMails = await queueStatementsOnce(bank, previousPeriod(r.before), progress);
      failIfAny('interest accrual', r.accrual.failures);
      failIfAny('interest posting', r.failures);
      return { ...r, statementMails };
    },
  },
  {
    name: 'mail',
    schedule: '*/30 * * * * *',
    frequent: true,
    async run({ bank, mailer, progress }) {
      const queued = await collectMail(bank);
      const delivered = await deliverDueMails(bank, mailer().send, { progress });
      return { queued, ...delivered, transport: mailer().kind };
    },
  },
  {
    // Every minute: a 15-minute first-response target is flagged within a minute of being missed.
    name: 'ticket-escalation',
    schedule: '0 * * * * *',
    frequent: true,
    async run({ bank, progress }) {
      const breaches = await flagBreaches(bank, { progress });
      return { ...(await escalateTickets(bank, { progress })), ...breaches };
    },
  },
  {
    // Every ten minutes: an order due today runs soon after it is made, and a date runs once
    // however often this does (bank/ledger/standing-orders.ts).
    name: 'standing-orders',
    schedule: '0 */10 * * * *',
    frequent: true,
    async run({ bank, progress }) {
      const r = await runDueStandingOrders(bank, { progress });
      if (r.errors.length)
        throw new Error(
          `standing orders failed unexpectedly for ${r.errors.length} order(s): ${r.errors
            .slice(0, 5)
            .map((e) => `#${e.orderId}: ${e.error}`)
            .join('; ')}`,
        );
      return r;
    },
  },
  {
    name: 'cleanup',
    schedule: '0 15 3 * * *',
    run: ({ bank, progress }) => cleanup(bank, { progress }),
  },
];
