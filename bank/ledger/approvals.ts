import type { Actor, BankContext } from '../core/context.js';
import { toPage } from '../core/paging.js';
import { requireCan } from '../access/permissions.js';
import { transactionDtos } from '../accounts/operations.js';
import type { TransactionRow } from './transactions.js';
import { type AccountRow, accountDto } from '../accounts/records.js';
import type { Customer, Row } from '../../db/models.js';

/** The manager's queue: held transactions, or past decisions. */
export async function listApprovals(
  ctx: BankContext,
  actor: Actor,
  f: { status: 'pending' | 'approved' | 'rejected'; limit: number; cursor?: number | null },
) {
  requireCan(actor, 'approvals.decide');
  let q = ctx.db<TransactionRow>('transactions');
  if (f.status === 'pending') q = q.where('status', 'pending_approval');
  else if (f.status === 'rejected') q = q.where('status', 'rejected');
  else q = q.where('status', 'posted').whereNotNull('decided_by');
  if (f.cursor) q = q.where('id', '>', f.cursor);
  const rows = await q.orderBy('id').limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const dtos = await transactionDtos(ctx, page);
  const parties = await partiesOf(ctx, page);
  const items = dtos.map((d, i) => ({
    ...d,
    requestedBy: page[i].created_by,
    decidedBy: page[i].decided_by,
    decidedAt: page[i].decided_at,
    decisionNote: page[i].decision_note,
    from: parties.get(page[i].from_account_id ?? 0) ?? null,
    to: parties.get(page[i].to_account_id ?? 0) ?? null,
  }));
  return toPage(rows.length, items, f.limit);
}

/** Who is affected, for the manager deciding: each customer account with its holder's name and balances. */
async function partiesOf(ctx: BankContext, rows: TransactionRow[]) {
  const ids = [...new Set(rows.flatMap((r) => [r.from_account_id, r.to_account_id]).filter((x): x is number => x !== null))];
  if (!ids.length) return new Map();
  const accts = await ctx
    .db<AccountRow & Pick<Row<Customer>, 'first_name' | 'last_name'>>('accounts as a')
    .join('customers as c', 'c.id', 'a.customer_id')
    .whereIn('a.id', ids)
    .andWhere('a.kind', 'customer')
    .select('a.*', 'c.first_name', 'c.last_name');
  return new Map(accts.map((a) => [a.id, { ...accountDto(a), customerName: `${a.first_name} ${a.last_name}` }]));
}
