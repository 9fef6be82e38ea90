import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { createBankContext, type BankContext } from '../../bank/core/context.js';
import { ensureBankAccounts } from '../../bank/accounts/records.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { createMetrics } from '../../runtime/metrics.js';
import { startJobs, type Jobs } from '../../jobs/index.js';

/** A clock the test moves by hand: everything the bank stamps uses it. */
export class Clock {
  constructor(public at: Date) {}
  set(iso: string) {
    this.at = new Date(iso);
  }
  advance(ms: number) {
    this.at = new Date(this.at.getTime() + ms);
  }
}

const mailDirs: string[] = [];
process.once('exit', () => mailDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A bank on a hand-moved clock, and its jobs (run on demand only, as on a web pod, unless runScheduler). */
export async function bankWithClock(
  db: Knex,
  start: string,
  env: Record<string, string> = {},
  runScheduler = false,
): Promise<{ clock: Clock; bank: BankContext; jobs: Jobs; mailDir: string; metrics: ReturnType<typeof createMetrics> }> {
  const clock = new Clock(new Date(start));
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-mail-'));
  mailDirs.push(mailDir);
  const config = loadConfig({ LOG_LEVEL: 'silent', MAIL_DIR: mailDir, ...env });
  const bank = createBankContext(db, { currency: 'INR', now: () => clock.at, ticketSla: config.TICKET_SLA });
  await ensureBankAccounts(bank, 'INR');
  const metrics = createMetrics(bank);
  const jobs = await startJobs({ bank, config, logger: createLogger('silent'), metrics, runScheduler });
  return { clock, bank, jobs, mailDir, metrics };
}
