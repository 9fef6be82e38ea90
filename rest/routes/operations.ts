import { z } from 'zod';
import { checkAudit, checkLedger, listAudit } from '../../bank/audit/index.js';
import { DomainError, NotFound } from '../../bank/core/index.js';
import { auditRun } from '../../bank/core/index.js';
import { requireCan } from '../../bank/access/index.js';
import { route, listQuery, decodeCursor, isoDateTime } from '../route.js';

route({
  method: 'get',
  path: '/audit',
  tag: 'Operations',
  summary: 'The audit log, newest first',
  roles: 'manager+',
  query: listQuery.extend({
    entity: z.string().min(1).max(40).optional(),
    entityId: z.string().min(1).max(40).optional(),
    actorId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
  }),
  handler: async ({ bank, actor, query }) => listAudit(bank, actor, { ...query, cursor: decodeCursor(query.cursor) }),
});

route({
  method: 'get',
  path: '/audit/verify',
  tag: 'Operations',
  summary: 'Recompute the audit hash chains',
  roles: 'admin',
  handler: async ({ bank, actor }) => checkAudit(bank, actor),
});

route({
  method: 'get',
  path: '/ledger/verify',
  tag: 'Operations',
  summary: 'Check that every transaction balances and every balance equals its entries',
  roles: 'admin',
  handler: async ({ bank, actor }) => checkLedger(bank, actor),
});

route({
  method: 'get',
  path: '/jobs',
  tag: 'Operations',
  summary: 'The background jobs that can be run',
  roles: 'admin',
  handler: async ({ actor, services }) => {
    requireCan(actor, 'jobs.run');
    return { items: (services.jobNames?.() ?? []).map((name) => ({ name })), nextCursor: null };
  },
});

route({
  method: 'post',
  path: '/jobs/:name/run',
  tag: 'Operations',
  summary: 'Run a background job now, in this process',
  roles: 'admin',
  responses: { 200: '{name, ok, result}: ok is false (with result.error) when the job failed' },
  handler: async ({ bank, actor, params, services }) => {
    requireCan(actor, 'jobs.run');
    const name = params.name ?? '';
    if (!services.runJob || !/^[a-z][a-z-]{0,63}$/.test(name) || (services.jobNames && !services.jobNames().includes(name)))
      throw new NotFound(`Job ${name}`);
    let ok = true;
    let result: unknown;
    try {
      result = await services.runJob(name);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      // The job ran and failed (the work it could do is done): a result, not a server error.
      ok = false;
      result = { error: (err as Error)?.message ?? String(err) };
    }
    await auditRun(bank, actor, 'job.run', { ok }, name);
    return { name, ok, result };
  },
});
