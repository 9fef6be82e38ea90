import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { SYSTEM } from '../../bank/core/context.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { deposit } from '../../bank/ledger/transactions.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { createKnex } from '../../db/knex.js';
import { JOBS } from '../../jobs/definitions.js';
import type { Jobs } from '../../jobs/index.js';
import { createTestDb, PG_URL, type TestDb } from '../helpers/db.js';
import { createCustomer, seedReference } from '../helpers/fixtures.js';
import { bankWithClock } from './clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(ok: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}
const runs = async (
  m: { jobRuns: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> } },
  job: string,
) => (await m.jobRuns.get()).values.filter((v) => v.labels.job_name === job).reduce((s, v) => s + v.value, 0);

describe('two workers on PostgreSQL', () => {
  let t: TestDb;
  const extra: Knex[] = [];
  const started: Jobs[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((j) => j.stop()));
  });
  afterAll(async () => {
    await Promise.all(extra.map((k) => k.destroy()));
    await t?.destroy();
  });

  it('posting interest at the same time never posts twice', async () => {
    t = await createTestDb('pg');
    const db2 = createKnex({ url: PG_URL, schema: t.schema, poolMax: 10 });
    extra.push(db2);
    const w1 = await bankWithClock(t.db, '2026-03-01T08:00:00.000Z');
    const w2 = await bankWithClock(db2, '2026-03-01T08:00:00.000Z');
    await seedReference(t.db);
    const accounts: number[] = [];
    for (let i = 0; i < 12; i++) {
      const cust = await createCustomer(t.db, `Twin${i}`);
      const a = (await openAccount(w1.bank, SYSTEM, { customerId: cust, type: 'SAV', branch: 'MAIN' })).id;
      await deposit(w1.bank, SYSTEM, { accountId: a, amount: `${1000 + i * 137}.45` });
      accounts.push(a);
    }
    for (const w of [w1, w2]) w.clock.set('2026-04-01T00:30:00.000Z');
    const results = (await Promise.all([
      w1.jobs.runNow('interest-posting'),
      w2.jobs.runNow('interest-posting'),
      w1.jobs.runNow('interest-posting'),
    ])) as any[];
    expect(results.reduce((s, r) => s + r.postings, 0)).toBe(12);
    expect(results.reduce((s, r) => s + r.accrual.rows, 0)).toBe(12 * 31);

    const txs = await t.db('transactions').where({ kind: 'interest' }).select('to_account_id', 'external_ref');
    expect(txs).toHaveLength(12);
    expect(txs.map((x) => x.external_ref).sort()).toEqual(accounts.map((a) => `interest:${a}:2026-03`).sort());
    expect(await t.db('interest_postings').count({ n: '*' })).toEqual([{ n: 12 }]);
    expect((await t.db('interest_accruals').whereNull('posted_transaction_id')).length).toBe(0);
    expect((await verifyLedger(w1.bank)).ok).toBe(true);
  });

  it('share the recurring jobs: an overdue job runs once, on one of them', async () => {
    const now = new Date().toISOString();
    const env = { JOBS_PROCESS_EVERY_MS: '100' };
    const db2 = createKnex({ url: PG_URL, schema: t.schema, poolMax: 10 });
    extra.push(db2);
    const a = await bankWithClock(t.db, now, env, true);
    const b = await bankWithClock(db2, now, env, true);
    started.push(a.jobs, b.jobs);
    const rows = await t.db('agenda_jobs').where({ type: 'single' }).orderBy('name');
    expect(rows.map((r) => [r.name, r.repeat_interval, r.repeat_timezone])).toEqual(
      JOBS.map((j) => [j.name, j.schedule, 'UTC']).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(rows.every((r) => r.next_run_at > now)).toBe(true);

    await t
      .db('agenda_jobs')
      .where({ name: 'cleanup', type: 'single' })
      .update({ next_run_at: new Date(Date.now() - 1000).toISOString() });
    await waitFor(async () => (await runs(a.metrics, 'cleanup')) + (await runs(b.metrics, 'cleanup')) >= 1);
    await sleep(500); // several more polls by both
    expect((await runs(a.metrics, 'cleanup')) + (await runs(b.metrics, 'cleanup'))).toBe(1);
    const lag = [...(await a.metrics.jobLag.get()).values, ...(await b.metrics.jobLag.get()).values].filter(
      (v) => v.labels.job_name === 'cleanup' && String(v.metricName).endsWith('_count'),
    );
    expect(lag.reduce((s, v) => s + v.value, 0)).toBe(1);
    const row = await t.db('agenda_jobs').where({ name: 'cleanup', type: 'single' }).first();
    expect(row.next_run_at > new Date().toISOString()).toBe(true);
    expect(row.locked_at).toBeNull();
  });

  it('a restarted worker still runs a job that fell due while none was up', async () => {
    await t
      .db('agenda_jobs')
      .where({ name: 'ticket-escalation', type: 'single' })
      .update({ next_run_at: new Date(Date.now() - 3600_000).toISOString() });
    const w = await bankWithClock(t.db, new Date().toISOString(), { JOBS_PROCESS_EVERY_MS: '100' }, true);
    started.push(w.jobs);
    await waitFor(async () => (await runs(w.metrics, 'ticket-escalation')) === 1);
  });
});
