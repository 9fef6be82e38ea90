import os from 'node:os';
import type { Agenda, JobParameters } from 'agenda';
import type { BankContext } from '../bank/core/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';
import { NotFound } from '../bank/core/index.js';
import { createAgenda, stopAgenda } from './agenda.js';
import { JOBS, type JobSpec } from './definitions.js';
import { createMailSender, type MailSender } from './mailer.js';
import { startWebhookSender, type WebhookSender } from './webhooks.js';

export interface JobsDeps {
  bank: BankContext;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Schedule and process jobs (worker, all); false: only run-now on request (web). */
  runScheduler: boolean;
}

export interface Jobs {
  names(): string[];
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

/** A claimed job not renewed for this long is free for another worker (a crashed one's, say). */
export const LOCK_LIFETIME_MS = 60_000;
/** Long runs renew their lock at most this often (well within the lifetime). */
const TOUCH_EVERY_MS = 10_000;
const TIMEZONE = 'UTC';

/**
 * The background jobs. On worker and all processes an Agenda over the bank's database runs
 * them on their schedules, several workers sharing the work (each recurring job is one row,
 * claimed by one worker at a time; one-off runs are spread by the lock limit). Web processes
 * create no Agenda and define nothing (a started Agenda would run what it defines), but can
 * still run a job on request: runNow runs the work here and now, outside Agenda.
 */
export async function startJobs(deps: JobsDeps): Promise<Jobs> {
  const { bank, config, logger, metrics } = deps;
  let sender: MailSender | null = null;
  const mailer = () => (sender ??= createMailSender(config));
  const byName = new Map(JOBS.map((j) => [j.name, j]));

  const execute = async (spec: JobSpec, progress: () => Promise<void>): Promise<unknown> => {
    const end = metrics.jobDuration.startTimer({ job_name: spec.name });
    try {
      const result = await spec.run({ bank, mailer, progress });
      metrics.jobRuns.inc({ job_name: spec.name, outcome: 'success' });
      return result;
    } catch (err) {
      metrics.jobRuns.inc({ job_name: spec.name, outcome: 'failure' });
      throw err;
    } finally {
      end();
    }
  };

  let agenda: Agenda | null = null;
  // Webhook deliveries run where the jobs are scheduled (worker, all), not on web pods.
  let webhooks: WebhookSender | null = null;
  if (deps.runScheduler) {
    agenda = await createAgenda({
      db: bank.db,
      name: `${os.hostname()}:${process.pid}`,
      processEveryMs: config.JOBS_PROCESS_EVERY_MS,
      lockLifetimeMs: LOCK_LIFETIME_MS,
      defaultConcurrency: 1,
      defaultLockLimit: 1,
      onError: (err) => logger.error({ err }, 'agenda error'),
    });
    const dueTimes = trackDueTimes(agenda);
    for (const spec of JOBS) {
      agenda.define(spec.name, async (job) => {
        const due = dueTimes.take(job.attrs._id);
        if (due) metrics.jobLag.observe({ job_name: spec.name }, Math.max(0, (Date.now() - due.getTime()) / 1000));
        const result = await execute(
          spec,
          throttle(() => job.touch(), TOUCH_EVERY_MS),
        );
        logger[spec.frequent ? 'debug' : 'info']({ job: spec.name, result }, 'job finished');
      });
    }
    // Agenda swallows job errors: 'fail' is the only place they surface.
    agenda.on('fail', (err: unknown, job: { attrs: { name: string } }) => logger.error({ err, job: job.attrs.name }, 'job failed'));
    await scheduleRecurring(agenda);
    await agenda.start();
    webhooks = startWebhookSender({ bank, config, logger, metrics });
  }

  return {
    names: () => JOBS.map((j) => j.name),
    async runNow(name) {
      const spec = byName.get(name);
      if (!spec) throw new NotFound(`Job ${name}`);
      return execute(spec, async () => undefined);
    },
    async stop() {
      await webhooks?.stop();
      if (agenda) {
        const { running } = await stopAgenda(agenda, { timeoutMs: 10_000 });
        if (running) logger.warn({ running }, 'jobs still running at shutdown; their locks expire and another worker resumes them');
      }
      sender?.close();
    },
  };
}

/**
 * every() for each job whose row is missing or has another schedule. A row that already has
 * this schedule is left alone: every() would move an overdue next run (missed while no worker
 * was up) to the next cron time, and the daily jobs would skip a day.
 */
async function scheduleRecurring(agenda: Agenda): Promise<void> {
  for (const spec of JOBS) {
    const { jobs } = await agenda.queryJobs({ name: spec.name });
    const current = jobs.find((j) => j.type === 'single');
    if (current && current.repeatInterval === spec.schedule && (current.repeatTimezone ?? null) === TIMEZONE && current.nextRunAt) continue;
    await agenda.every(spec.schedule, spec.name, undefined, { timezone: TIMEZONE });
  }
}

/**
 * Agenda computes a job's next run before its 'start' event, so the time it was due is gone
 * by then. The claim returns the row as it was; remember its next_run_at for the lag metric.
 */
function trackDueTimes(agenda: Agenda) {
  const due = new Map<string, Date>();
  const repo = agenda.db;
  const remember = <T extends JobParameters | undefined>(job: T): T => {
    if (job?._id && job.nextRunAt) due.set(String(job._id), new Date(job.nextRunAt));
    return job;
  };
  const getNext = repo.getNextJobToRun.bind(repo);
  repo.getNextJobToRun = async (...args) => remember(await getNext(...args));
  const lockJob = repo.lockJob.bind(repo);
  repo.lockJob = async (...args) => remember(await lockJob(...args));
  return {
    take(id: unknown): Date | undefined {
      const key = String(id);
      const d = due.get(key);
      due.delete(key);
      return d;
    },
  };
}

/** At most one call per interval; the others resolve at once. */
function throttle(fn: () => Promise<unknown>, everyMs: number): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    await fn();
  };
}
