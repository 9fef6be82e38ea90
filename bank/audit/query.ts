import type { Actor, BankContext } from '../core/context.js';
import { toPage } from '../core/paging.js';
import { auditDto, verifyAudit } from './chain.js';
import { Invalid } from '../core/errors.js';
import { requireCan } from '../access/permissions.js';
import { verifyLedger } from '../ledger/verify.js';

export interface AuditFilter {
  entity?: string;
  entityId?: string;
  actorId?: number;
  /** A date (from its start) or an instant. */
  from?: string;
  /** A date (to its end) or an instant. */
  to?: string;
  limit: number;
  /** The last id seen: the log runs newest first. */
  cursor?: number | null;
}

const instant = (s: string, endOfDay: boolean) =>
  /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z` : new Date(s).toISOString();

/** The audit log, newest first (manager+). */
export async function listAudit(ctx: BankContext, actor: Actor, f: AuditFilter) {
  requireCan(actor, 'audit.read');
  const from = f.from ? instant(f.from, false) : null;
  const to = f.to ? instant(f.to, true) : null;
  if (from && to && from > to) throw new Invalid('from must not be after to', { fields: ['from', 'to'] });
  let q = ctx.db('audit_log');
  if (f.entity) q = q.where('entity', f.entity);
  if (f.entityId) q = q.where('entity_id', f.entityId);
  if (f.actorId !== undefined) q = q.where('actor_id', f.actorId);
  if (from) q = q.where('at', '>=', from);
  if (to) q = q.where('at', '<=', to);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const items = rows.slice(0, f.limit).map(auditDto);
  return toPage(rows.length, items, f.limit);
}

/** Recomputes every audit hash chain (admin). */
export async function checkAudit(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'audit.verify');
  return verifyAudit(ctx);
}

/** Checks the whole ledger (admin). */
export async function checkLedger(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'ledger.verify');
  return verifyLedger(ctx);
}
