import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { computeJobState, toJobId } from 'agenda';
import type {
  AgendaBackend,
  JobId,
  JobParameters,
  JobRepository,
  JobRepositoryOptions,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
  JobsSort,
  JobWithState,
  RemoveJobsOptions,
} from 'agenda';
import { dialectOf, type Dialect } from '../db/knex.js';

// Agenda 6 storage over knex: the agenda_jobs table of db/migrations/0002_agenda_jobs.ts.
// Timestamps are ISO 8601 UTC strings, so every comparison binds toISOString() values and
// never a Date (better-sqlite3 would bind a Date as epoch millis).
//
// Claims are single statements: an autocommit UPDATE on SQLite runs under the database write
// lock, so it sees the latest rows; PostgreSQL adds FOR UPDATE SKIP LOCKED and repeats the
// claim condition in the outer WHERE. No statement holds a transaction across awaits, which
// also matters on SQLite: better-sqlite3 is synchronous, so a second connection in the same
// process waiting on a held write lock would block the event loop.

export const AGENDA_TABLE = 'agenda_jobs';

export interface AgendaJobRow {
  id: string;
  name: string;
  priority: number;
  type: 'normal' | 'single';
  next_run_at: string | null;
  locked_at: string | null;
  last_run_at: string | null;
  last_finished_at: string | null;
  failed_at: string | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_interval: string | null;
  repeat_timezone: string | null;
  repeat_at: string | null;
  start_date: string | null;
  end_date: string | null;
  skip_days: string | null;
  disabled: boolean | number;
  fork: boolean | number;
  progress: number | null;
  data: string | null;
  unique_key: string | null;
  debounce_started_at: string | null;
  last_modified_by: string | null;
}

type Row = Partial<AgendaJobRow>;

const iso = (d: Date | string | null | undefined): string | null => (d == null ? null : new Date(d).toISOString());
const toDate = (s: string | null): Date | undefined => (s == null ? undefined : new Date(s));
const orUndef = <T>(v: T | null): T | undefined => (v == null ? undefined : v);

export function rowToJob<DATA = unknown>(row: AgendaJobRow): JobParameters<DATA> {
  const interval = row.repeat_interval;
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: Number(row.priority),
    type: row.type,
    nextRunAt: row.next_run_at == null ? null : new Date(row.next_run_at),
    lockedAt: toDate(row.locked_at),
    lastRunAt: toDate(row.last_run_at),
    lastFinishedAt: toDate(row.last_finished_at),
    failedAt: toDate(row.failed_at),
    failCount: row.fail_count == null ? undefined : Number(row.fail_count),
    failReason: orUndef(row.fail_reason),
    // every(5000, ...) stores "5000"; hand back the number it was given.
    repeatInterval: interval == null ? undefined : /^\d+$/.test(interval) ? Number(interval) : interval,
    repeatTimezone: orUndef(row.repeat_timezone),
    repeatAt: orUndef(row.repeat_at),
    startDate: toDate(row.start_date),
    endDate: toDate(row.end_date),
    skipDays: row.skip_days == null ? undefined : (JSON.parse(row.skip_days) as number[]),
    disabled: Boolean(row.disabled),
    fork: Boolean(row.fork),
    progress: row.progress == null ? undefined : Number(row.progress),
    data: (row.data == null ? undefined : JSON.parse(row.data)) as DATA,
    debounceStartedAt: toDate(row.debounce_started_at),
    lastModifiedBy: orUndef(row.last_modified_by),
  };
}

/** Columns a user's save() defines. disabled/fork are only written when set, so a job disabled
 * by an operator stays disabled when a restarting server calls every() for it again. */
function definitionColumns(job: JobParameters<unknown>): Row {
  const row: Row = {
    name: job.name,
    priority: job.priority ?? 0,
    type: job.type ?? 'normal',
    repeat_interval: job.repeatInterval == null ? null : String(job.repeatInterval),
    repeat_timezone: job.repeatTimezone ?? null,
    repeat_at: job.repeatAt ?? null,
    start_date: iso(job.startDate),
    end_date: iso(job.endDate),
    skip_days: job.skipDays ? JSON.stringify(job.skipDays) : null,
    data: job.data === undefined ? null : JSON.stringify(job.data),
  };
  if (job.disabled !== undefined) row.disabled = Boolean(job.disabled);
  if (job.fork !== undefined) row.fork = Boolean(job.fork);
  return row;
}

/** Columns the job processor owns (Job.run, touch, fail). */
function stateColumns(job: JobParameters<unknown>): Row {
  return {
    locked_at: iso(job.lockedAt),
    next_run_at: iso(job.nextRunAt),
    last_run_at: iso(job.lastRunAt),
    last_finished_at: iso(job.lastFinishedAt),
    failed_at: iso(job.failedAt),
    fail_count: job.failCount ?? null,
    fail_reason: job.failReason ?? null,
    progress: job.progress ?? null,
  };
}

/** unique({'data.account': 7}) -> one key per (name, spec); order of the spec's keys is irrelevant. */
export function uniqueKeyOf(name: string, unique: Record<string, unknown>): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([name, canonical(unique)]))
    .digest('hex');
}

/** PostgreSQL jsonb @> semantics: every key of the pattern matches; array patterns are subsets. */
export function dataContains(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (Array.isArray(pattern)) {
    return Array.isArray(value) && pattern.every((p) => value.some((v) => dataContains(v, p)));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const obj = value as Record<string, unknown>;
  return Object.entries(pattern).every(([k, p]) => k in obj && dataContains(obj[k], p));
}

const SORT_COLUMNS: Record<keyof JobsSort, string> = {
  nextRunAt: 'next_run_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  priority: 'priority',
  name: 'name',
  data: 'data',
};

function chunks<T>(items: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface KnexJobRepositoryOptions {
  /** Errors from calls Agenda does not await (unlockJob); they must never reject. */
  onError?: (err: Error) => void;
}

export class KnexJobRepository implements JobRepository {
  readonly dialect: Dialect;
  private paused = false;
  private readonly inFlightClaims = new Set<Promise<unknown>>();

  constructor(
    readonly db: Knex,
    private readonly opts: KnexJobRepositoryOptions = {},
  ) {
    this.dialect = dialectOf(db);
  }

  private table() {
    return this.db<AgendaJobRow>(AGENDA_TABLE);
  }

  /** Rows of a raw statement with RETURNING, whatever the driver's result shape. */
  private rowsOf(result: unknown): AgendaJobRow[] {
    return (this.dialect === 'pg' ? (result as { rows: AgendaJobRow[] }).rows : result) as AgendaJobRow[];
  }

  /** Fails (rejects) when the database is unreachable or the migration has not run. */
  async connect(): Promise<void> {
    await this.table().select('id').limit(1);
  }

  /** Stop handing out jobs (used while stopping a worker, see jobs/agenda.ts). */
  pauseClaims(): void {
    this.paused = true;
  }

  /** Resolves once claims already sent to the database have come back. */
  async settleClaims(): Promise<void> {
    await Promise.allSettled([...this.inFlightClaims]);
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = await this.table().where('id', String(id)).first();
    return row ? rowToJob(row as AgendaJobRow) : null;
  }

  async getDistinctJobNames(): Promise<string[]> {
    const rows = await this.table().distinct('name').orderBy('name');
    return rows.map((r) => r.name);
  }

  async getQueueSize(): Promise<number> {
    const [row] = await this.table().where('next_run_at', '<', new Date().toISOString()).count({ n: '*' });
    return Number(row?.n ?? 0);
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { state, data, includeDisabled = true, sort, skip = 0, limit = 0 } = options;
    const q = this.table();
    if (options.name) q.where('name', options.name);
    else if (options.names?.length) q.whereIn('name', options.names);
    if (options.id) q.where('id', String(options.id));
    else if (options.ids?.length) q.whereIn('id', options.ids.map(String));
    if (options.search) {
      const pattern = `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q.whereRaw(`LOWER(name) LIKE ? ESCAPE '\\'`, [pattern]);
    }
    if (!includeDisabled) q.where('disabled', false);
    const order = Object.entries(sort ?? { nextRunAt: 'desc', lastRunAt: 'desc' }).filter(([k]) => k in SORT_COLUMNS);
    for (const [key, dir] of order) {
      q.orderByRaw(`?? ${dir === 'asc' ? 'ASC' : 'DESC'} NULLS LAST`, [SORT_COLUMNS[key as keyof JobsSort]]);
    }
    q.orderBy('id');

    // State is computed from timestamps and data matching is done in JS (the same on both
    // databases), so paginate in SQL only when neither filter is present.
    const inSql = !state && data === undefined;
    if (inSql) {
      const [{ n }] = await q.clone().clearOrder().clearSelect().count({ n: '*' });
      if (limit > 0) q.limit(limit);
      if (skip > 0) q.offset(skip);
      const rows = (await q) as AgendaJobRow[];
      const now = new Date();
      return { jobs: rows.map((r) => this.withState(r, now)), total: Number(n) };
    }
    const now = new Date();
    let jobs = ((await q) as AgendaJobRow[])
      .map((r) => this.withState(r, now))
      .filter((j) => data === undefined || dataContains(j.data, data))
      .filter((j) => !state || (state === 'paused' ? j.disabled === true : j.state === state));
    const total = jobs.length;
    jobs = limit > 0 ? jobs.slice(skip, skip + limit) : jobs.slice(skip);
    return { jobs, total };
  }

  private withState(row: AgendaJobRow, now: Date): JobWithState {
    const job = rowToJob(row);
    return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const rows = (await this.table().select('*').orderBy('name')) as AgendaJobRow[];
    const byName = new Map<string, JobsOverview>();
    for (const row of rows) {
      let o = byName.get(row.name);
      if (!o) {
        o = { name: row.name, total: 0, running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 };
        byName.set(row.name, o);
      }
      const job = rowToJob(row);
      o.total++;
      o[computeJobState(job, now)]++;
      if (job.disabled) o.paused++;
    }
    return [...byName.values()];
  }

  /** Ids matching the options, or null when the options select nothing at all (Agenda's
   * backends treat empty criteria as "no jobs", so purge() with no definitions removes nothing). */
  private async matchingIds(options: RemoveJobsOptions): Promise<string[] | null> {
    const q = this.table().select('id', 'data');
    const ids = options.id ? [String(options.id)] : options.ids?.length ? options.ids.map(String) : null;
    if (ids) q.whereIn('id', ids);
    if (options.name) q.where('name', options.name);
    else if (options.names?.length) q.whereIn('name', options.names);
    else if (options.notNames?.length) q.whereNotIn('name', options.notNames);
    const criteria = Boolean(ids || options.name || options.names?.length || options.notNames?.length) || options.data !== undefined;
    if (!criteria) return null;
    const rows = await q;
    return rows
      .filter((r) => options.data === undefined || dataContains(r.data == null ? undefined : JSON.parse(r.data), options.data))
      .map((r) => r.id);
  }

  private async updateByOptions(options: RemoveJobsOptions, change: Row | null): Promise<number> {
    const ids = await this.matchingIds(options);
    if (!ids) return 0;
    let n = 0;
    for (const part of chunks(ids)) {
      const q = this.table().whereIn('id', part);
      n += change ? await q.update(change) : await q.del();
    }
    return n;
  }

  removeJobs(options: RemoveJobsOptions): Promise<number> {
    return this.updateByOptions(options, null);
  }

  disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.updateByOptions(options, { disabled: true });
  }

  enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.updateByOptions(options, { disabled: false });
  }

  async purgeAllJobs(): Promise<number> {
    return this.table().del();
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const n = await this.table()
      .where({ id: String(job._id), name: job.name })
      .update({ ...stateColumns(job), last_modified_by: options?.lastModifiedBy ?? null });
    if (n !== 1) throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id || this.paused) return undefined;
    const q = this.table()
      .where({ id: String(job._id), name: job.name, disabled: false })
      .whereNull('locked_at');
    if (job.nextRunAt) q.where('next_run_at', iso(job.nextRunAt));
    else q.whereNull('next_run_at');
    const rows = (await q
      .update({ locked_at: new Date().toISOString(), last_modified_by: options?.lastModifiedBy ?? null })
      .returning('*')) as AgendaJobRow[];
    return rows[0] ? rowToJob(rows[0]) : undefined;
  }

  /** Called by Agenda without await or catch: must never reject. A job whose next_run_at is
   * NULL is one a crashed run left behind; it stays locked so lock expiry hands it out again. */
  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    try {
      await this.table().where('id', String(job._id)).whereNotNull('next_run_at').update({ locked_at: null });
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    for (const part of chunks(jobIds.map(String))) {
      await this.table().whereIn('id', part).whereNotNull('next_run_at').update({ locked_at: null });
    }
  }

  /** Atomically claim the next due (or lock-expired) job of this name. */
  getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    if (this.paused) return Promise.resolve(undefined);
    const claim = this.claim(jobName, nextScanAt, lockDeadline, now ?? new Date(), options?.lastModifiedBy ?? null);
    this.inFlightClaims.add(claim);
    void claim.finally(() => this.inFlightClaims.delete(claim)).catch(() => {});
    return claim;
  }

  private async claim(jobName: string, nextScanAt: Date, lockDeadline: Date, now: Date, by: string | null) {
    const due = `disabled = ? AND ((locked_at IS NULL AND next_run_at <= ?) OR locked_at <= ?)`;
    const dueArgs = [false, nextScanAt.toISOString(), lockDeadline.toISOString()];
    const skipLocked = this.dialect === 'pg' ? 'FOR UPDATE SKIP LOCKED' : '';
    const result = await this.db.raw(
      `UPDATE ${AGENDA_TABLE} SET locked_at = ?, last_modified_by = ?
       WHERE id = (
         SELECT id FROM ${AGENDA_TABLE} WHERE name = ? AND ${due}
         ORDER BY next_run_at ASC NULLS LAST, priority DESC, id
         LIMIT 1 ${skipLocked}
       ) AND ${due}
       RETURNING *`,
      [now.toISOString(), by, jobName, ...dueArgs, ...dueArgs],
    );
    const row = this.rowsOf(result)[0];
    return row ? rowToJob(row) : undefined;
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    const by = options?.lastModifiedBy ?? null;
    if (job._id) {
      const rows = (await this.table()
        .where({ id: String(job._id), name: job.name })
        .update({ ...definitionColumns(job), next_run_at: iso(job.nextRunAt), last_modified_by: by })
        .returning('*')) as AgendaJobRow[];
      // A job removed meanwhile stays removed (as in Agenda's own backends).
      return rows[0] ? rowToJob<DATA>(rows[0]) : job;
    }
    if (job.type === 'single') return this.saveSingle(job, by);
    if (job.unique) return this.saveUnique(job, job.unique, by);
    return this.insert(job, {}, by) as Promise<JobParameters<DATA>>;
  }

  /** INSERT ... ON CONFLICT DO NOTHING; undefined when a unique index already holds the job. */
  private async insert<DATA>(job: JobParameters<DATA>, extra: Row, by: string | null): Promise<JobParameters<DATA> | undefined> {
    const row: Row = {
      disabled: false,
      fork: false,
      ...definitionColumns(job),
      ...stateColumns(job),
      id: crypto.randomUUID(),
      last_modified_by: by,
      ...extra,
    };
    const rows = (await this.table().insert(row).onConflict().ignore().returning('*')) as AgendaJobRow[];
    return rows[0] ? rowToJob<DATA>(rows[0]) : undefined;
  }

  /** every(): one row per name. A restart calling every() again keeps a nextRunAt that is
   * already scheduled instead of running the job at once (same rule as Agenda's backends). */
  private async saveSingle<DATA>(job: JobParameters<DATA>, by: string | null): Promise<JobParameters<DATA>> {
    const nextRunAt = iso(job.nextRunAt);
    const keepScheduled = job.nextRunAt != null && job.nextRunAt.getTime() <= Date.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const rows = (await this.table()
        .where({ name: job.name, type: 'single' })
        .update({
          ...definitionColumns(job),
          next_run_at: keepScheduled ? this.db.raw('COALESCE(next_run_at, ?)', [nextRunAt]) : nextRunAt,
          last_modified_by: by,
        } as Row)
        .returning('*')) as AgendaJobRow[];
      if (rows[0]) return rowToJob<DATA>(rows[0]);
      const inserted = await this.insert(job, {}, by);
      if (inserted) return inserted;
      // Another worker inserted it between our UPDATE and INSERT: update that row.
    }
    throw new Error(`could not save single job ${job.name}`);
  }

  private async saveUnique<DATA>(
    job: JobParameters<DATA>,
    unique: Record<string, unknown>,
    by: string | null,
  ): Promise<JobParameters<DATA>> {
    const key = uniqueKeyOf(job.name, unique);
    const debounce = job.uniqueOpts?.debounce;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = new Date();
      const existing = (await this.table().where('unique_key', key).first()) as AgendaJobRow | undefined;
      if (!existing) {
        let nextRunAt = job.nextRunAt;
        if (debounce && debounce.strategy !== 'leading') nextRunAt = new Date(now.getTime() + debounce.delay);
        const inserted = await this.insert(
          { ...job, nextRunAt },
          {
            unique_key: key,
            debounce_started_at: debounce ? now.toISOString() : null,
          },
          by,
        );
        if (inserted) return inserted;
        continue; // lost a race with another insert of the same key
      }
      if (job.uniqueOpts?.insertOnly && !debounce) return rowToJob<DATA>(existing);
      let nextRunAt = iso(job.nextRunAt);
      let debounceStartedAt: string | null = null;
      if (debounce) {
        const started = existing.debounce_started_at ? new Date(existing.debounce_started_at) : now;
        debounceStartedAt = started.toISOString();
        if (debounce.strategy === 'leading') {
          nextRunAt = existing.next_run_at;
        } else if (debounce.maxWait && now.getTime() - started.getTime() >= debounce.maxWait) {
          nextRunAt = now.toISOString();
          debounceStartedAt = null;
        } else {
          nextRunAt = new Date(now.getTime() + debounce.delay).toISOString();
        }
      }
      const rows = (await this.table()
        .where('id', existing.id)
        .update({ ...definitionColumns(job), next_run_at: nextRunAt, debounce_started_at: debounceStartedAt, last_modified_by: by })
        .returning('*')) as AgendaJobRow[];
      if (rows[0]) return rowToJob<DATA>(rows[0]);
    }
    throw new Error(`could not save unique job ${job.name}`);
  }
}

export type KnexBackendOptions = KnexJobRepositoryOptions;

/** Agenda backend over the bank's own knex instance. Polling only (no notification channel);
 * the knex instance belongs to the caller, so Agenda's stop() never destroys it. */
export class KnexBackend implements AgendaBackend {
  readonly name: string;
  readonly repository: KnexJobRepository;
  readonly ownsConnection = false;

  constructor(
    db: Knex,
    private readonly opts: KnexBackendOptions = {},
  ) {
    this.repository = new KnexJobRepository(db, opts);
    this.name = `knex (${this.repository.dialect})`;
  }

  /** Agenda's constructor calls this without a catch, so a rejection would be an unhandled
   * rejection. Report the failure instead; later queries fail (and are reported) on their own
   * until the database is back. createAgenda() checks the connection first and rejects. */
  async connect(): Promise<void> {
    try {
      await this.repository.connect();
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  async disconnect(): Promise<void> {}
}
