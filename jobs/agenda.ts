import { Agenda } from 'agenda';
import type { Knex } from 'knex';
import { KnexBackend } from './knex-backend.js';

export interface CreateAgendaOptions {
  db: Knex;
  /** Recorded as last_modified_by on the rows this instance touches (e.g. 'worker-3'). */
  name?: string;
  /** Poll interval in milliseconds. A number on purpose: Agenda turns an unparsable string
   * (e.g. "5000" from an env var) into its 5 s default without complaint. */
  processEveryMs: number;
  /** How long a claimed job stays locked without touch(). A killed worker's jobs become
   * claimable again after this long. Jobs running longer must call job.touch(). Default 30 s. */
  lockLifetimeMs?: number;
  /** Jobs of one name run at once on this worker (Agenda default 5). */
  defaultConcurrency?: number;
  /** Jobs of all names running at once on this worker (Agenda default 20). */
  maxConcurrency?: number;
  /** Jobs of one name this worker claims at once; 0 = unlimited (Agenda's default, which lets
   * one worker take every due job and leave none for the others). */
  defaultLockLimit?: number;
  /** Agenda 'error' events and backend failures; defaults to console.error. */
  onError?: (err: Error) => void;
}

interface WorkerState {
  backend: KnexBackend;
  running: number;
  idle: Array<() => void>;
  onError: (err: Error) => void;
}

const workers = new WeakMap<Agenda, WorkerState>();

export const DEFAULT_LOCK_LIFETIME_MS = 30_000;

/**
 * An Agenda on the bank's database, ready but not started: define jobs, then start() on worker
 * processes (web processes only schedule). Rejects when the database is unreachable or
 * agenda_jobs is missing, instead of Agenda's own unhandled rejection.
 */
export async function createAgenda(opts: CreateAgendaOptions): Promise<Agenda> {
  const { processEveryMs, lockLifetimeMs = DEFAULT_LOCK_LIFETIME_MS } = opts;
  if (typeof processEveryMs !== 'number' || !Number.isFinite(processEveryMs) || processEveryMs <= 0) {
    throw new TypeError(`processEveryMs must be a positive number of milliseconds, got ${String(processEveryMs)}`);
  }
  if (!Number.isFinite(lockLifetimeMs) || lockLifetimeMs <= 0) {
    throw new TypeError(`lockLifetimeMs must be a positive number of milliseconds, got ${String(lockLifetimeMs)}`);
  }
  const onError = opts.onError ?? ((err: Error) => console.error('[agenda]', err));
  const backend = new KnexBackend(opts.db, { onError });
  await backend.repository.connect();

  const agenda = new Agenda({
    backend,
    name: opts.name,
    processEvery: processEveryMs,
    defaultLockLifetime: lockLifetimeMs,
    defaultConcurrency: opts.defaultConcurrency,
    maxConcurrency: opts.maxConcurrency,
    defaultLockLimit: opts.defaultLockLimit,
  });
  // Agenda 6 installs a no-op 'error' listener, so without ours errors vanish silently.
  agenda.on('error', onError);

  // Count job functions in flight (start/complete pair up in Job.run) so stopAgenda can wait.
  const state: WorkerState = { backend, running: 0, idle: [], onError };
  agenda.on('start', () => {
    state.running++;
  });
  agenda.on('complete', () => {
    state.running--;
    if (state.running === 0) state.idle.splice(0).forEach((resolve) => resolve());
  });
  workers.set(agenda, state);
  await agenda.ready;
  return agenda;
}

export interface StopResult {
  /** Job functions still running when the timeout elapsed (their locks expire later). */
  running: number;
}

/**
 * Stop a worker: no new claims, jobs claimed but not started are unlocked for other workers,
 * running jobs get up to timeoutMs to finish (so their final state is saved while the knex
 * instance is still open). The agenda is finished afterwards; create a new one to restart.
 * Does not destroy the knex instance.
 */
export async function stopAgenda(agenda: Agenda, opts: { timeoutMs?: number } = {}): Promise<StopResult> {
  const state = workers.get(agenda);
  if (state) {
    // Agenda keeps claiming (recursively) after stop(); make the claims come back empty and let
    // the ones already sent land in its locked list before stop() unlocks that list.
    state.backend.repository.pauseClaims();
    await state.backend.repository.settleClaims();
    await new Promise((resolve) => setImmediate(resolve));
  }
  try {
    await agenda.stop(false);
  } catch (err) {
    (state?.onError ?? console.error)(err as Error);
  }
  if (!state || state.running === 0) return { running: 0 };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((resolve) => state.idle.push(resolve)),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, opts.timeoutMs ?? 10_000);
    }),
  ]);
  clearTimeout(timer);
  return { running: state.running };
}
