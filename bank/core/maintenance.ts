import type { Knex } from 'knex';
import { SYSTEM, type Actor, type BankContext } from './context.js';
import { audit } from '../audit/chain.js';
import type { Progress } from '../ledger/snapshots.js';
import { withTx } from './db-tx.js';

/** Sessions are kept this long after they were revoked or expired (for the sign-in history views). */
export const SESSION_RETENTION_MS = 24 * 3600_000;
/**
 * Published events are kept this long for replay (a client reconnecting with an older seq
 * than this gets what is left). Unpublished events are never removed.
 */
export const EVENT_REPLAY_WINDOW_MS = 7 * 24 * 3600_000;
/** Finished one-off Agenda jobs are kept this long, for inspection. */
export const ONE_OFF_JOB_RETENTION_MS = 7 * 24 * 3600_000;

const CHUNK = 1000;

/** Deletes matching rows a chunk at a time (short transactions; never one huge lock). */
async function deleteInChunks(
  ctx: BankContext,
  table: string,
  idColumn: string,
  where: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
  progress?: Progress,
  before?: (t: Knex.Transaction, ids: unknown[]) => Promise<void>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await withTx(ctx, async (t) => {
      const ids = (await where(t.q(table)).orderBy(idColumn).limit(CHUNK).select(idColumn)).map(
        (r: Record<string, unknown>) => r[idColumn],
      );
      if (!ids.length) return 0;
      await before?.(t.q, ids);
      return where(t.q(table)).whereIn(idColumn, ids).del();
    });
    total += n;
    await progress?.();
    if (n < CHUNK) return total;
  }
}

export interface CleanupResult {
  sessions: number;
  idempotencyKeys: number;
  events: number;
  agendaJobs: number;
  payeeLookups: number;
}

/**
 * Removes what has outlived its use: sessions revoked or expired more than a day ago, expired
 * idempotency keys, published events older than the replay window, and finished one-off
 * Agenda jobs older than a week. Recurring job definitions, live sessions, unexpired keys
 * and unpublished events are never touched. One summary audit row per run that removed anything.
 */
export async function cleanup(ctx: BankContext, opts: { progress?: Progress } = {}): Promise<CleanupResult> {
  const nowMs = ctx.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const sessionCutoff = iso(nowMs - SESSION_RETENTION_MS);
  const result: CleanupResult = {
    sessions: await deleteInChunks(
      ctx,
      'sessions',
      'id',
      (q) => q.where((w) => w.where('revoked_at', '<', sessionCutoff).orWhere('expires_at', '<', sessionCutoff)),
      opts.progress,
    ),
    idempotencyKeys: await deleteInChunks(ctx, 'idempotency_keys', 'id', (q) => q.where('expires_at', '<', iso(nowMs)), opts.progress),
    events: await deleteInChunks(
      ctx,
      'events',
      'seq',
      (q) => q.whereNotNull('published_at').andWhere('created_at', '<', iso(nowMs - EVENT_REPLAY_WINDOW_MS)),
      opts.progress,
      async (q, seqs) => {
        await q('event_rooms')
          .whereIn('seq', seqs as number[])
          .del();
      },
    ),
    agendaJobs: await deleteInChunks(
      ctx,
      'agenda_jobs',
      'id',
      (q) =>
        q
          .where('type', 'normal')
          .whereNull('next_run_at')
          .whereNull('locked_at')
          .andWhere('last_finished_at', '<', iso(nowMs - ONE_OFF_JOB_RETENTION_MS)),
      opts.progress,
    ),
    // Confirmation-of-payee look-ups only feed the per-minute limit.
    payeeLookups: await deleteInChunks(
      ctx,
      'payee_lookups',
      'id',
      (q) => q.where('at', '<', iso(nowMs - SESSION_RETENTION_MS)),
      opts.progress,
    ),
  };
  if (Object.values(result).some((n) => n > 0)) await auditRun(ctx, SYSTEM, 'maintenance.cleanup', result, 'cleanup');
  return result;
}

/** One audit row for a run of background work (or an operator starting one). */
export async function auditRun(
  ctx: BankContext,
  actor: Actor,
  action: string,
  after: unknown,
  entityId: string | null = null,
): Promise<void> {
  await withTx(ctx, (t) => audit(t, actor, { action, entity: 'job', entityId, after }));
}
