import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { Agenda, Job } from 'agenda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKnex } from '../../db/knex.js';
import { createAgenda, stopAgenda, type CreateAgendaOptions } from '../../jobs/agenda.js';
import { KnexJobRepository } from '../../jobs/knex-backend.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

interface RunRow {
  job_id: string;
  name: string;
  worker: string;
  phase: string;
  at: string;
}

// A worker in another process, for the kill and shutdown tests. Plain JS, run with tsx so it
// can import the TypeScript modules under test.
const CHILD = `
const [, , url, mode] = process.argv;
const { createKnex } = await import(${JSON.stringify(path.join(ROOT, 'db/knex.ts'))});
const { createAgenda, stopAgenda } = await import(${JSON.stringify(path.join(ROOT, 'jobs/agenda.ts'))});
const db = createKnex({ url });
const agenda = await createAgenda({ db, name: 'child', processEveryMs: 100, lockLifetimeMs: 2000, onError: (e) => console.error('child:', e.message) });
const record = (job, phase) => db('test_job_runs').insert({ job_id: String(job.attrs._id), name: job.attrs.name, worker: 'child', phase, at: new Date().toISOString() });
if (mode === 'hang') {
  agenda.define('crash-me', async (job) => { await record(job, 'started'); await new Promise(() => {}); });
  await agenda.start();
} else {
  agenda.define('quick', async (job) => { await record(job, 'finished'); });
  const done = new Promise((r) => agenda.once('complete', r));
  await agenda.start();
  await agenda.now('quick');
  await done;
  const result = await stopAgenda(agenda);
  await db.destroy();
  console.log('stopped ' + JSON.stringify(result));
}
`;
let childScript: string;

beforeAll(() => {
  childScript = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agenda-child-')), 'worker.mjs');
  fs.writeFileSync(childScript, CHILD);
});
afterAll(() => fs.rmSync(path.dirname(childScript), { recursive: true, force: true }));

function spawnWorker(url: string, mode: 'hang' | 'stop') {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, url, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

describe.each(DIALECTS)('agenda knex backend on %s', (dialect) => {
  let t: TestDb;
  let repo: KnexJobRepository;
  let running: Agenda[] = [];
  let extraDbs: Knex[] = [];

  beforeAll(async () => {
    t = await createTestDb(dialect);
    repo = new KnexJobRepository(t.db);
    await t.db.schema.createTable('test_job_runs', (tb) => {
      tb.increments('id');
      tb.string('job_id', 36).notNullable();
      tb.string('name', 64).notNullable();
      tb.string('worker', 32).notNullable();
      tb.string('phase', 16).notNullable();
      tb.string('at', 30).notNullable();
    });
  });
  afterEach(async () => {
    for (const a of running) await stopAgenda(a);
    for (const d of extraDbs) await d.destroy();
    running = [];
    extraDbs = [];
  });
  afterAll(async () => {
    await t?.destroy();
  });

  async function worker(opts: Partial<CreateAgendaOptions> = {}): Promise<Agenda> {
    const agenda = await createAgenda({ db: t.db, processEveryMs: 100, lockLifetimeMs: 5000, onError: () => {}, ...opts });
    running.push(agenda);
    return agenda;
  }
  const record = (db: Knex, job: Job, worker: string, phase = 'finished') =>
    db('test_job_runs').insert({ job_id: String(job.attrs._id), name: job.attrs.name, worker, phase, at: new Date().toISOString() });
  const runs = (name: string) => t.db<RunRow>('test_job_runs').where({ name }).orderBy('id');

  it('round-trips every job field through saveJob and getJobById', async () => {
    const nextRunAt = new Date(Date.now() + 3_600_000);
    const saved = await repo.saveJob(
      {
        name: 'roundtrip',
        priority: 10,
        nextRunAt,
        type: 'normal',
        data: { account: 7, tags: ['a'], nested: { x: null } },
        repeatInterval: 5000,
        repeatTimezone: 'Europe/Paris',
        startDate: new Date('2030-01-01T00:00:00.000Z'),
        skipDays: [0, 6],
        disabled: true,
      },
      { lastModifiedBy: 'test' },
    );
    const got = await repo.getJobById(String(saved._id));
    expect(got).toMatchObject({
      name: 'roundtrip',
      priority: 10,
      type: 'normal',
      nextRunAt,
      data: { account: 7, tags: ['a'], nested: { x: null } },
      repeatInterval: 5000,
      repeatTimezone: 'Europe/Paris',
      startDate: new Date('2030-01-01T00:00:00.000Z'),
      skipDays: [0, 6],
      disabled: true,
      fork: false,
      lastModifiedBy: 'test',
    });
    expect(got?.lockedAt).toBeUndefined();
    expect(await repo.getJobById('no-such-id')).toBeNull();
  });

  it('rejects createAgenda on a database without agenda_jobs and on a non-numeric poll interval', async () => {
    const bare = await createTestDb(dialect, { migrate: false });
    try {
      await expect(createAgenda({ db: bare.db, processEveryMs: 100 })).rejects.toThrow(/agenda_jobs/);
    } finally {
      await bare.destroy();
    }
    await expect(createAgenda({ db: t.db, processEveryMs: '5 seconds' as unknown as number })).rejects.toThrow(TypeError);
  });

  it('claims a due job once, skips future and disabled jobs, and reclaims it after the lock expires', async () => {
    const now = Date.now();
    const due = await repo.saveJob({ name: 'claim', priority: 0, nextRunAt: new Date(now - 1000), type: 'normal', data: 1 }, undefined);
    await repo.saveJob({ name: 'claim', priority: 0, nextRunAt: new Date(now + 60_000), type: 'normal', data: 2 }, undefined);
    await repo.saveJob({ name: 'claim', priority: 0, nextRunAt: new Date(now - 5000), type: 'normal', data: 3, disabled: true }, undefined);
    const scanAt = new Date(now + 100);
    const deadline = new Date(now - 5000);

    const first = await repo.getNextJobToRun('claim', scanAt, deadline, undefined, undefined);
    expect(first?._id).toBe(due._id);
    expect(first?.lockedAt).toBeInstanceOf(Date);
    expect(await repo.getNextJobToRun('claim', scanAt, deadline, undefined, undefined)).toBeUndefined();
    // lockJob is conditional on the row still being unlocked.
    expect(await repo.lockJob(due, undefined)).toBeUndefined();

    // A deadline after the lock time means the holder is presumed dead.
    const reclaimed = await repo.getNextJobToRun('claim', scanAt, new Date(Date.now() + 1000), undefined, undefined);
    expect(reclaimed?._id).toBe(due._id);

    await repo.unlockJobs([String(due._id)]);
    expect((await repo.getJobById(String(due._id)))?.lockedAt).toBeUndefined();
    expect((await repo.lockJob(due, undefined))?._id).toBe(due._id);
  });

  it('hands each job to exactly one of many concurrent claimers on two connections', async () => {
    const other = createKnex({ url: t.url });
    extraDbs.push(other);
    const repos = [repo, new KnexJobRepository(other)];
    const past = new Date(Date.now() - 1000);
    for (let i = 0; i < 20; i++) await repo.saveJob({ name: 'race', priority: 0, nextRunAt: past, type: 'normal', data: i }, undefined);
    const scanAt = new Date(Date.now() + 1000);
    const deadline = new Date(Date.now() - 60_000);
    const claims = await Promise.all(
      Array.from({ length: 40 }, (_, i) => repos[i % 2].getNextJobToRun('race', scanAt, deadline, undefined, undefined)),
    );
    const ids = claims.filter(Boolean).map((c) => String(c!._id));
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it('keeps one row per every() job and keeps its schedule and disabled flag across restarts', async () => {
    const agenda = await worker();
    const job = await agenda.every('1 hour', 'hourly', { v: 1 }, { skipImmediate: true });
    const firstRun = job.attrs.nextRunAt!.getTime();
    await agenda.disable({ name: 'hourly' });
    // A restarted server calls every() again: same row, same next run, still disabled.
    await agenda.every('1 hour', 'hourly', { v: 2 });
    const rows = await t.db('agenda_jobs').where({ name: 'hourly' });
    expect(rows).toHaveLength(1);
    const [saved] = (await agenda.queryJobs({ name: 'hourly' })).jobs;
    expect(saved).toMatchObject({ type: 'single', repeatInterval: '1 hour', data: { v: 2 }, disabled: true });
    expect(saved.nextRunAt!.getTime()).toBe(firstRun);
  });

  it('upserts unique jobs by their unique key and honours insertOnly', async () => {
    const agenda = await worker();
    const a = await agenda.create('statement', { account: 1, n: 1 }).unique({ 'data.account': 1 }).save();
    const b = await agenda.create('statement', { account: 1, n: 2 }).unique({ 'data.account': 1 }).save();
    expect(b.attrs._id).toBe(a.attrs._id);
    const c = await agenda.create('statement', { account: 1, n: 3 }).unique({ 'data.account': 1 }, { insertOnly: true }).save();
    expect(c.attrs._id).toBe(a.attrs._id);
    await agenda.create('statement', { account: 2, n: 1 }).unique({ 'data.account': 2 }).save();
    const { jobs } = await agenda.queryJobs({ name: 'statement', sort: { data: 'asc' } });
    expect(jobs.map((j) => j.data)).toEqual([
      { account: 1, n: 2 },
      { account: 2, n: 1 },
    ]);
    // Filters by partial data, overview and removal by data.
    expect((await agenda.queryJobs({ name: 'statement', data: { account: 2 } })).total).toBe(1);
    const overview = (await agenda.getJobsOverview()).find((o) => o.name === 'statement');
    expect(overview).toMatchObject({ total: 2, queued: 2 });
    expect(await agenda.cancel({ name: 'statement', data: { account: 2 } })).toBe(1);
    expect((await agenda.queryJobs({ name: 'statement' })).total).toBe(1);
  });

  it('runs a job scheduled for later at its time, not before', async () => {
    const agenda = await worker();
    const ranAt: number[] = [];
    agenda.define('later', async () => {
      ranAt.push(Date.now());
    });
    await agenda.start();
    const when = new Date(Date.now() + 1200);
    const job = await agenda.schedule(when, 'later', { x: 1 });
    expect(job.attrs.nextRunAt?.getTime()).toBe(when.getTime());
    await sleep(900);
    expect(ranAt).toEqual([]);
    await waitFor(
      async () => ranAt.length,
      (n) => n === 1,
      5000,
    );
    expect(ranAt[0]).toBeGreaterThanOrEqual(when.getTime());
    expect(ranAt[0] - when.getTime()).toBeLessThan(1000);
    // Natural-language times are parsed relative to now.
    const relative = await agenda.schedule('in 2 minutes', 'later-unused');
    expect(Math.abs(relative.attrs.nextRunAt!.getTime() - (Date.now() + 120_000))).toBeLessThan(2000);
  });

  it('runs now() jobs with their data and records completion', async () => {
    const agenda = await worker();
    const seen: unknown[] = [];
    agenda.define('instant', async (job) => {
      seen.push(job.attrs.data);
    });
    await agenda.start();
    const job = await agenda.now('instant', { amount: 125 });
    await waitFor(
      async () => seen.length,
      (n) => n === 1,
    );
    const saved = await waitFor(
      () => repo.getJobById(String(job.attrs._id)),
      (j) => Boolean(j?.lastFinishedAt),
    );
    expect(seen).toEqual([{ amount: 125 }]);
    expect(saved).toMatchObject({ nextRunAt: null, lockedAt: undefined });
    expect((await agenda.queryJobs({ id: String(job.attrs._id) })).jobs[0].state).toBe('completed');
  });

  it('repeats every() jobs on one row', async () => {
    const agenda = await worker();
    const ranAt: number[] = [];
    agenda.define('tick', async () => {
      ranAt.push(Date.now());
    });
    await agenda.start();
    await agenda.every(300, 'tick');
    await waitFor(
      async () => ranAt.length,
      (n) => n >= 3,
      5000,
    );
    for (let i = 1; i < ranAt.length; i++) expect(ranAt[i] - ranAt[i - 1]).toBeGreaterThanOrEqual(250);
    const rows = await t.db('agenda_jobs').where({ name: 'tick' });
    expect(rows).toHaveLength(1);
    expect(rows[0].type).toBe('single');
    expect(rows[0].next_run_at > rows[0].last_run_at).toBe(true);
  });

  it('does not run disabled jobs until they are enabled', async () => {
    const agenda = await worker();
    let count = 0;
    agenda.define('paused', async () => {
      count++;
    });
    await agenda.now('paused');
    expect(await agenda.disable({ name: 'paused' })).toBe(1);
    await agenda.start();
    await sleep(600);
    expect(count).toBe(0);
    expect((await agenda.queryJobs({ name: 'paused', state: 'paused' })).total).toBe(1);
    expect(await agenda.enable({ name: 'paused' })).toBe(1);
    await waitFor(
      async () => count,
      (n) => n === 1,
    );
  });

  it('never runs a cancelled job', async () => {
    const agenda = await worker();
    let count = 0;
    agenda.define('gone', async () => {
      count++;
    });
    await agenda.start();
    await agenda.schedule(new Date(Date.now() + 700), 'gone');
    expect(await agenda.cancel({ name: 'gone' })).toBe(1);
    await sleep(1200);
    expect(count).toBe(0);
    expect(await t.db('agenda_jobs').where({ name: 'gone' })).toHaveLength(0);
  });

  it('runs each of 30 one-off jobs exactly once across two workers', async () => {
    const other = createKnex({ url: t.url });
    extraDbs.push(other);
    const workers = [
      { name: 'w1', agenda: await worker({ name: 'w1', defaultLockLimit: 3 }), db: t.db },
      { name: 'w2', agenda: await worker({ name: 'w2', db: other, defaultLockLimit: 3 }), db: other },
    ];
    for (const w of workers) {
      w.agenda.define(
        'batch',
        async (job) => {
          await sleep(20);
          await record(w.db, job, w.name);
        },
        { concurrency: 3 },
      );
    }
    for (let i = 0; i < 30; i++) await workers[0].agenda.now('batch', { i });
    await Promise.all(workers.map((w) => w.agenda.start()));
    await waitFor(
      () => runs('batch'),
      (r) => r.length >= 30,
      20_000,
    );
    await sleep(500); // a duplicate run would show up here
    const rows = await runs('batch');
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.job_id)).size).toBe(30);
    // Both workers really competed for the jobs (the lock limit stops one taking them all).
    expect(new Set(rows.map((r) => r.worker))).toEqual(new Set(['w1', 'w2']));
    const left = await t.db('agenda_jobs').where({ name: 'batch' }).whereNotNull('locked_at');
    expect(left).toHaveLength(0);
  });

  it('reruns the job of a killed worker on another worker once its lock expires', async () => {
    const job = await repo.saveJob({ name: 'crash-me', priority: 0, nextRunAt: new Date(), type: 'normal', data: {} }, undefined);
    const child = spawnWorker(t.url, 'hang');
    try {
      await waitFor(
        () => runs('crash-me'),
        (r) => r.length === 1,
        20_000,
      ).catch((err) => {
        throw new Error(`${err.message}\nchild output:\n${child.output()}`);
      });
      const lockedAt = (await repo.getJobById(String(job._id)))!.lockedAt!;
      expect(lockedAt).toBeInstanceOf(Date);

      const agenda = await worker({ name: 'rescuer', lockLifetimeMs: 2000 });
      agenda.define('crash-me', async (j) => {
        await record(t.db, j, 'rescuer');
      });
      await agenda.start();
      child.child.kill('SIGKILL');
      await child.exited;

      const rows = await waitFor(
        () => runs('crash-me'),
        (r) => r.length === 2,
        10_000,
      );
      expect(rows.map((r) => [r.worker, r.phase])).toEqual([
        ['child', 'started'],
        ['rescuer', 'finished'],
      ]);
      expect(rows.every((r) => r.job_id === String(job._id))).toBe(true);
      // Not before the dead worker's lock expired.
      expect(new Date(rows[1].at).getTime() - lockedAt.getTime()).toBeGreaterThanOrEqual(2000);
      await sleep(300);
      expect(await runs('crash-me')).toHaveLength(2);
      const saved = await waitFor(
        () => repo.getJobById(String(job._id)),
        (j) => !j?.lockedAt,
      );
      expect(saved?.lastFinishedAt).toBeInstanceOf(Date);
    } finally {
      child.child.kill('SIGKILL');
    }
  });

  it('lets a worker process exit soon after stopAgenda', async () => {
    const child = spawnWorker(t.url, 'stop');
    const stoppedAt = await waitFor(
      async () => child.output(),
      (o) => o.includes('stopped') || child.child.exitCode !== null,
      20_000,
    ).then(() => Date.now());
    const code = await child.exited;
    expect(child.output()).toContain('stopped {"running":0}');
    expect(code).toBe(0);
    // Agenda's lock-liveness timer (lockLifetime / 2 = 1 s here) is all that may remain.
    expect(Date.now() - stoppedAt).toBeLessThan(2500);
    expect((await runs('quick')).map((r) => r.worker)).toEqual(['child']);
  });
});
