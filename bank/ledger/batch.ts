import type { Actor, BankContext } from '../core/context.js';
import { lockAccounts, type LockedAccount } from '../accounts/records.js';
import { BatchItemFailed, Conflict, DomainError, RuleViolation, domainErrorFromJSON } from '../core/errors.js';
import { isUniqueViolation } from '../core/checks.js';
import { IDEMPOTENCY_TTL_MS, insertKeys, requestHash } from './idempotency.js';
import { Journal } from './journal.js';
import { planTransfer } from './transactions.js';
import { requireCan } from '../access/permissions.js';
import { type Tx, withTx } from '../core/db-tx.js';

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

/**
 * Items per database transaction when the batch is not atomic: short row locks on PostgreSQL;
 * SQLite has one writer whatever the size, so fewer, larger transactions cost less.
 */
const chunkFor = (ctx: BankContext) => (ctx.dialect === 'pg' ? 500 : 2_500);
const LOOKUP = 400;

const failure = (err: DomainError) => ({ code: err.code, message: err.message });

/**
 * Transfers in bulk. Atomic: every item posts or none does (the first refusal is returned
 * with its index). Otherwise each item stands alone. Either way each item's key makes a
 * retried batch replay instead of posting twice.
 *
 * Each chunk is one transaction: its keys and accounts are read and locked in a few
 * statements, every item is checked in memory against the balances the items before it
 * left, and what passes is written together by the journal.
 */
export async function batchTransfers(
  ctx: BankContext,
  actor: Actor,
  input: { atomic: boolean; items: BatchItem[] },
): Promise<{ results: BatchResult[] }> {
  requireCan(actor, 'money.batch');
  const keys = new Set<string>();
  for (const [index, item] of input.items.entries()) {
    if (keys.has(item.idempotencyKey))
      throw new DomainError('invalid_request', `Item ${index} repeats an idempotencyKey used earlier in this batch`, {
        index,
        fields: [`items.${index}.idempotencyKey`],
      });
    keys.add(item.idempotencyKey);
  }
  const scope = `${actor.userId ?? 'system'}:batch-transfer`;
  if (input.atomic) return { results: await withTx(ctx, (t) => runChunk(t, actor, scope, input.items, 0, true)) };
  const results: BatchResult[] = [];
  const chunk = chunkFor(ctx);
  for (let start = 0; start < input.items.length; start += chunk) {
    results.push(...(await withTx(ctx, (t) => runChunk(t, actor, scope, input.items.slice(start, start + chunk), start, false))));
  }
  return { results };
}

async function runChunk(t: Tx, actor: Actor, scope: string, items: BatchItem[], offset: number, atomic: boolean): Promise<BatchResult[]> {
  const nowMs = Date.parse(t.now);
  // Keys already used: replay, refuse a changed payload, or (expired) forget.
  const stored = new Map<string, { id: number; request_hash: string; state: string; response_body: string | null; expires_at: string }>();
  for (let i = 0; i < items.length; i += LOOKUP) {
    for (const row of await t
      .q('idempotency_keys')
      .where({ scope })
      .whereIn(
        'key',
        items.slice(i, i + LOOKUP).map((x) => x.idempotencyKey),
      ))
      stored.set(row.key, row);
  }
  const expired: number[] = [];
  for (const [key, row] of stored) {
    if (Date.parse(row.expires_at) > nowMs) continue;
    expired.push(row.id);
    stored.delete(key);
  }
  if (expired.length) await t.q('idempotency_keys').whereIn('id', expired).delete();

  // Every account the chunk names, locked once, in id order.
  const numbers = [...new Set(items.flatMap((x) => [x.fromAccountNumber, x.toAccountNumber]))];
  const ids: number[] = [];
  for (let i = 0; i < numbers.length; i += LOOKUP) {
    ids.push(
      ...(
        await t
          .q('accounts')
          .whereIn('number', numbers.slice(i, i + LOOKUP))
          .andWhere({ kind: 'customer' })
          .select('id')
      ).map((r) => r.id as number),
    );
  }
  const locked = new Map<string, LockedAccount>();
  for (const a of (await lockAccounts(t, ids)).values()) locked.set(a.number, a);

  const journal = new Journal();
  const results: BatchResult[] = [];
  const fresh: { result: BatchResult; key: string; hash: string; journalIndex: number }[] = [];
  const refusals: { key: string; hash: string; err: RuleViolation }[] = [];
  for (const [i, item] of items.entries()) {
    const index = offset + i;
    const hash = requestHash(item);
    try {
      const prior = stored.get(item.idempotencyKey);
      if (prior) {
        if (prior.request_hash !== hash)
          throw new RuleViolation('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
        if (prior.state !== 'done' || !prior.response_body)
          throw new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight');
        const answer = JSON.parse(prior.response_body) as {
          ok: boolean;
          value?: { id: number };
          error?: { code: never; message: string; details?: Record<string, unknown> };
        };
        if (!answer.ok) throw domainErrorFromJSON(answer.error!);
        results.push({ index, status: 'replayed', transactionId: answer.value!.id, error: null });
        continue;
      }
      const move = planTransfer(actor, locked.get(item.fromAccountNumber), locked.get(item.toAccountNumber), item.amount, item.memo);
      const result: BatchResult = { index, status: move.pending ? 'pending_approval' : 'posted', transactionId: null, error: null };
      fresh.push({ result, key: item.idempotencyKey, hash, journalIndex: journal.add(move) });
      results.push(result);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (atomic) throw new BatchItemFailed(index, err);
      // A business refusal is remembered under its key, unless the key already had an answer.
      if (err instanceof RuleViolation && !err.replayed && !stored.has(item.idempotencyKey))
        refusals.push({ key: item.idempotencyKey, hash, err });
      results.push({ index, status: 'failed', transactionId: null, error: failure(err) });
    }
  }

  const dtos = await journal.flush(t, actor);
  const expires = new Date(nowMs + IDEMPOTENCY_TTL_MS).toISOString();
  const keyRows = [
    ...fresh.map((f) => {
      f.result.transactionId = dtos[f.journalIndex].id;
      return { key: f.key, hash: f.hash, status: 200, body: { ok: true, value: dtos[f.journalIndex] } };
    }),
    ...refusals.map((r) => ({ key: r.key, hash: r.hash, status: 422, body: { ok: false, error: r.err.toJSON() } })),
  ].map((r) => ({
    scope,
    key: r.key,
    request_hash: r.hash,
    state: 'done',
    response_status: r.status,
    response_body: JSON.stringify(r.body),
    created_at: t.now,
    expires_at: expires,
  }));
  try {
    await insertKeys(t, keyRows);
  } catch (err) {
    // Another request carrying some of these keys committed first: this chunk posts nothing.
    if (isUniqueViolation(err))
      throw new Conflict(
        'Another request with some of these idempotency keys is being processed; retry to get its answers',
        'idempotency_in_flight',
      );
    throw err;
  }
  return results;
}
