import type { Actor, BankContext } from './context.js';
import { BatchItemFailed, DomainError } from './errors.js';
import { idempotentIn } from './idempotency.js';
import { transferIn } from './ledger.js';
import { requireCan } from './permissions.js';
import { type Tx, withTx } from './tx.js';

export interface BatchItem {
  idempotencyKey: string;
  fromAccountNumber: string;
  toAccountNumber: string;
  amount: string;
  memo?: string;
}

export interface BatchResult {
  index: number;
  status: 'posted' | 'pending_approval' | 'failed' | 'replayed';
  transactionId: number | null;
  error: { code: string; message: string } | null;
}

const CHUNK = 200;

/** Runs one item inside a savepoint of t: a refused item leaves nothing behind. */
async function runItem(t: Tx, actor: Actor, item: BatchItem): Promise<BatchResult & { index: -1 }> {
  return t.q.transaction(async (sp) => {
    const sub: Tx = { q: sp, ctx: t.ctx, now: t.now, events: [], seqs: [] };
    const r = await idempotentIn(sub, { scope: `${actor.userId ?? 'system'}:batch-transfer`, key: item.idempotencyKey, payload: item }, async () => {
      const from = await sp('accounts').where({ number: item.fromAccountNumber, kind: 'customer' }).first('id');
      return transferIn(sub, actor, { fromAccountId: from?.id ?? 0, toAccountNumber: item.toAccountNumber, amount: item.amount, memo: item.memo });
    });
    // Kept only if the savepoint holds: a refused item's events vanish with it.
    t.events.push(...sub.events);
    return { index: -1 as const, status: r.replayed ? 'replayed' : r.value.status === 'pending_approval' ? 'pending_approval' : 'posted', transactionId: r.value.id, error: null };
  });
}

const failure = (err: DomainError) => ({ code: err.code, message: err.message });

/**
 * Transfers in bulk. Atomic: every item posts or none does (the first refusal is returned
 * with its index). Otherwise each item stands alone. Either way each item's key makes a
 * retried batch replay instead of posting twice.
 */
export async function batchTransfers(ctx: BankContext, actor: Actor, input: { atomic: boolean; items: BatchItem[] }): Promise<{ results: BatchResult[] }> {
  requireCan(actor, 'money.batch');
  const keys = new Set<string>();
  for (const [index, item] of input.items.entries()) {
    if (keys.has(item.idempotencyKey)) throw new DomainError('invalid_request', `Item ${index} repeats an idempotencyKey used earlier in this batch`, { index, fields: [`items.${index}.idempotencyKey`] });
    keys.add(item.idempotencyKey);
  }
  if (input.atomic) {
    const results = await withTx(ctx, async (t) => {
      const out: BatchResult[] = [];
      for (const [index, item] of input.items.entries()) {
        try {
          out.push({ ...(await runItem(t, actor, item)), index });
        } catch (err) {
          throw err instanceof DomainError ? new BatchItemFailed(index, err) : err;
        }
      }
      return out;
    });
    return { results };
  }
  const results: BatchResult[] = [];
  for (let start = 0; start < input.items.length; start += CHUNK) {
    const chunk = input.items.slice(start, start + CHUNK);
    const part = await withTx(ctx, async (t) => {
      const out: BatchResult[] = [];
      for (const [i, item] of chunk.entries()) {
        const index = start + i;
        try {
          out.push({ ...(await runItem(t, actor, item)), index });
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          out.push({ index, status: 'failed', transactionId: null, error: failure(err) });
        }
      }
      return out;
    });
    results.push(...part);
  }
  return { results };
}

