import type { Actor, BankContext } from './context.js';
import { toPage } from './paging.js';
import { requireCan } from './permissions.js';
import { transactionDtos } from './accounts.js';
import type { TransactionRow } from './ledger.js';

/** The manager's queue: held transactions, or past decisions. */
export async function listApprovals(ctx: BankContext, actor: Actor, f: { status: 'pending' | 'approved' | 'rejected'; limit: number; cursor?: number | null }) {
  requireCan(actor, 'approvals.decide');
  let q = ctx.db<TransactionRow>('transactions');
  if (f.status === 'pending') q = q.where('status', 'pending_approval');
  else if (f.status === 'rejected') q = q.where('status', 'rejected');
  else q = q.where('status', 'posted').whereNotNull('decided_by');
  if (f.cursor) q = q.where('id', '>', f.cursor);
  const rows = await q.orderBy('id').limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const dtos = await transactionDtos(ctx, page);
  const items = dtos.map((d, i) => ({ ...d, requestedBy: page[i].created_by, decidedBy: page[i].decided_by, decidedAt: page[i].decided_at, decisionNote: page[i].decision_note }));
  return toPage(rows.length, items, f.limit);
}
