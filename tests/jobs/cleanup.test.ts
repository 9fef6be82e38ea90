import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { userWithSession } from '../helpers/fixtures.js';
import { bankWithClock } from './clock.js';

const NOW = Date.parse('2026-06-10T12:00:00.000Z');
const H = 3600_000;
const D = 24 * H;
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

describe.each(DIALECTS)('cleanup on %s', (dialect) => {
  let t: TestDb;
  afterAll(() => t?.destroy());

  it('removes what has expired and nothing else', async () => {
    t = await createTestDb(dialect);
    const { bank, jobs } = await bankWithClock(t.db, at(0));
    const { user, sessionId: live } = await userWithSession(bank, 'teller');
    const session = (name: string, created: number, expires: number, revoked: number | null) => ({
      user_id: user.id,
      token_hash: crypto.createHash('sha256').update(name).digest('hex'),
      created_at: at(created),
      last_seen_at: at(created),
      expires_at: at(expires),
      revoked_at: revoked === null ? null : at(revoked),
      revoked_reason: revoked === null ? null : 'logout',
    });
    await t
      .db('sessions')
      .insert([
        session('revoked-recently', -2 * H, 10 * H, -1 * H),
        session('revoked-long-ago', -3 * D, 10 * H, -2 * D),
        session('expired-long-ago', -3 * D, -2 * D, null),
        session('expired-recently', -13 * H, -1 * H, null),
      ]);
    const key = (k: string, expires: number) => ({
      scope: 's',
      key: k,
      request_hash: 'h',
      state: 'done',
      response_status: 200,
      response_body: '{}',
      created_at: at(expires - D),
      expires_at: at(expires),
    });
    await t.db('idempotency_keys').insert([key('expired', -60_000), key('fresh', H)]);
    const event = async (name: string, created: number, published: boolean) => {
      const [row] = await t
        .db('events')
        .insert({ type: name, payload: '{}', created_at: at(created), published_at: published ? at(created) : null }, ['seq']);
      const seq = typeof row === 'object' ? row.seq : row;
      await t.db('event_rooms').insert({ seq, room: 'staff' });
      return seq as number;
    };
    const oldPublished = await event('old.published', -8 * D, true);
    await event('recent.published', -6 * D, true);
    await event('old.unpublished', -30 * D, false);
    const job = (
      name: string,
      type: 'normal' | 'single',
      f: { next?: number | null; locked?: number | null; finished?: number | null },
    ) => ({
      id: crypto.randomUUID(),
      name,
      type,
      priority: 0,
      disabled: false,
      fork: false,
      next_run_at: f.next == null ? null : at(f.next),
      locked_at: f.locked == null ? null : at(f.locked),
      last_finished_at: f.finished == null ? null : at(f.finished),
    });
    await t
      .db('agenda_jobs')
      .insert([
        job('one-off-done-long-ago', 'normal', { finished: -8 * D }),
        job('one-off-done-yesterday', 'normal', { finished: -1 * D }),
        job('one-off-due', 'normal', { next: -9 * D }),
        job('one-off-running', 'normal', { locked: -60_000, finished: -9 * D }),
        job('recurring', 'single', { next: H, finished: -30 * D }),
      ]);

    const r = await jobs.runNow('cleanup');
    expect(r).toEqual({ sessions: 2, idempotencyKeys: 1, events: 1, agendaJobs: 1, payeeLookups: 0 });

    const tokens = (await t.db('sessions').orderBy('id')).map((s) => (s.id === live ? 'live' : s.token_hash));
    expect(tokens).toEqual([
      'live',
      ...['revoked-recently', 'expired-recently'].map((n) => crypto.createHash('sha256').update(n).digest('hex')),
    ]);
    expect((await t.db('idempotency_keys')).map((k) => k.key)).toEqual(['fresh']);
    expect((await t.db('events').orderBy('seq')).map((e) => e.type)).toEqual(['recent.published', 'old.unpublished']);
    expect(await t.db('event_rooms').where({ seq: oldPublished })).toEqual([]);
    expect((await t.db('agenda_jobs').orderBy('name')).map((j) => j.name)).toEqual([
      'one-off-done-yesterday',
      'one-off-due',
      'one-off-running',
      'recurring',
    ]);
    const audits = await t.db('audit_log').where({ action: 'maintenance.cleanup' });
    expect(audits).toHaveLength(1);
    expect(JSON.parse(audits[0].after)).toEqual(r);

    expect(await jobs.runNow('cleanup')).toEqual({ sessions: 0, idempotencyKeys: 0, events: 0, agendaJobs: 0, payeeLookups: 0 });
    expect(await t.db('audit_log').where({ action: 'maintenance.cleanup' })).toHaveLength(1);
  });
});
