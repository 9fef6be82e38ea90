import type { Actor, BankContext } from '../core/context.js';
import { type LockedAccount, lockAccounts, lockGroupAccounts, hotShardIds } from '../accounts/records.js';
import { Conflict, DomainError, RuleViolation } from '../core/errors.js';
import { claimKeys, requestHash, settleKeys, type IdemRequest, type IdemResult, type KeyClaim, type KeyOutcome } from './idempotency.js';
import { Journal, type Move, type TransactionDto } from './journal.js';
import { type Tx, withTx } from '../core/db-tx.js';

/** The locked accounts of one group, as a movement's plan sees them. */
export interface GroupAccounts {
  byId(id: number): LockedAccount | undefined;
  /** A customer account by its number. */
  byNumber(number: string): LockedAccount | undefined;
  /** The group's shard of the bank's cash account in this currency. */
  cash(currency: string): LockedAccount | undefined;
}

/** One money movement asked of the writer. */
export interface MovementRequest {
  actor: Actor;
  idem: IdemRequest | null;
  /** The customer accounts it names, by id and by number: locked before it is planned. */
  accountIds: number[];
  accountNumbers?: string[];
  /** Needs a cash shard in the currency of this account (deposits, withdrawals). */
  cashFor?: number;
  /** Rough size of the request, for the group's byte bound. */
  bytes?: number;
  /**
   * Checks every rule against the locked accounts (which already carry the movements planned
   * before it in the group) and returns the movement; throws a DomainError to refuse.
   */
  plan(accounts: GroupAccounts): Move;
}

interface Job {
  req: MovementRequest;
  claim: KeyClaim | null;
  resolve(r: IdemResult<TransactionDto>): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; result: IdemResult<TransactionDto> } | { ok: false; error: unknown };

export interface WriterOptions {
  /** Most movements in one database transaction. */
  maxItems: number;
  /** Most request bytes in one database transaction. */
  maxBytes: number;
}

export const WRITER_DEFAULTS: WriterOptions = { maxItems: 256, maxBytes: 1 << 20 };

/**
 * Group commit. SQLite has one writer and PostgreSQL pays for every commit, so the movements
 * that arrive while one transaction is being written are written together in the next one:
 * their keys claimed in one statement, their accounts locked in one or two, each checked in
 * arrival order against the balances the ones before it left, and everything written with
 * multi-row statements (the hot cash shard and the audit chain head once per group).
 *
 * - A request is answered only after the transaction holding it has committed.
 * - A refusal (insufficient funds, frozen, …) is that request's answer alone; its neighbours
 *   post. A failure of the transaction itself (the database) is retried one request at a time,
 *   so one poisonous request cannot fail the others.
 * - An idle writer starts at once (after the current turn of the event loop, so requests that
 *   arrived together go together): at low load a group is one request and waits for nothing.
 */
export class LedgerWriter {
  private queue: Job[] = [];
  private running: Promise<void> | null = null;
  /** Keys of requests queued or being written in this process. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly ctx: BankContext,
    private readonly opts: WriterOptions = WRITER_DEFAULTS,
  ) {}

  submit(req: MovementRequest): Promise<IdemResult<TransactionDto>> {
    const claim = req.idem ? { scope: req.idem.scope, key: req.idem.key, hash: requestHash(req.idem.payload) } : null;
    const flightKey = claim ? `${claim.scope}\u0000${claim.key}` : null;
    if (flightKey) {
      // The same key twice at once in this process: the second learns it is in flight now,
      // instead of queueing behind the first (across processes the key's row decides).
      if (this.inFlight.has(flightKey))
        return Promise.reject(new Conflict('A request with this Idempotency-Key is still being processed', 'idempotency_in_flight'));
      this.inFlight.add(flightKey);
    }
    return new Promise<IdemResult<TransactionDto>>((resolve, reject) => {
      this.queue.push({ req, claim, resolve, reject });
      this.kick();
    }).finally(() => {
      if (flightKey) this.inFlight.delete(flightKey);
    });
  }

  /** Resolves when everything submitted so far is written (or refused). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick() {
    if (this.running) return;
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.loop())
      .finally(() => {
        this.running = null;
        if (this.queue.length) this.kick();
      });
  }

  private async loop() {
    while (this.queue.length) {
      let bytes = 0;
      let n = 0;
      while (n < this.queue.length && n < this.opts.maxItems) {
        bytes += this.queue[n].req.bytes ?? 256;
        if (n > 0 && bytes > this.opts.maxBytes) break;
        n++;
      }
      await this.run(this.queue.splice(0, n));
    }
  }

  private async run(jobs: Job[]): Promise<void> {
    let outcomes: Outcome[];
    const started = performance.now();
    try {
      outcomes = await withTx(this.ctx, (t) => writeGroup(t, jobs));
      // Metrics listen (runtime/metrics.ts): group sizes and how long a group takes to commit.
      this.ctx.signals.emit('ledger.group', jobs.length, (performance.now() - started) / 1000);
    } catch (err) {
      if (jobs.length === 1) {
        jobs[0].reject(err);
        return;
      }
      // The transaction itself failed: find the culprit by writing each on its own.
      for (const job of jobs) await this.run([job]);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? jobs[i].resolve(o.result) : jobs[i].reject(o.error)));
  }
}

/** Writes one group in the caller's transaction and returns each request's outcome, in order. */
async function writeGroup(t: Tx, jobs: Job[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(jobs.length);
  // 1. Idempotency keys: replays and refusals are answered from their rows.
  const keyed = jobs.flatMap((j, i) => (j.claim ? [i] : []));
  const states = await claimKeys(
    t,
    keyed.map((i) => jobs[i].claim!),
  );
  const keyIds = new Map<number, number | null>();
  keyed.forEach((ji, k) => {
    const s = states[k];
    if (s.kind === 'replay') outcomes[ji] = { ok: true, result: s.result as IdemResult<TransactionDto> };
    else if (s.kind === 'refused') outcomes[ji] = { ok: false, error: s.error };
    else keyIds.set(ji, s.id);
  });
  const live = jobs.flatMap((_, i) => (outcomes[i] ? [] : [i]));

  // 2. Every account the group names, locked once in id order; one cash shard per currency.
  const ids = new Set<number>();
  const numbers = new Set<string>();
  for (const i of live) {
    for (const id of jobs[i].req.accountIds) ids.add(id);
    for (const n of jobs[i].req.accountNumbers ?? []) numbers.add(n);
  }
  const locked = await lockGroupAccounts(t, [...ids], [...numbers]);
  const byNumber = new Map<string, LockedAccount>();
  for (const a of locked.values()) if (a.kind === 'customer') byNumber.set(a.number, a);
  const currencies = new Set<string>();
  for (const i of live) {
    const c = jobs[i].req.cashFor;
    const a = c === undefined ? undefined : locked.get(c);
    if (a) currencies.add(a.currency);
  }
  const cash = new Map<string, LockedAccount>();
  if (currencies.size) {
    const shardIds = new Map<string, number>();
    for (const currency of currencies) {
      const shards = await hotShardIds(t, 'cash', currency);
      shardIds.set(currency, shards[Math.floor(Math.random() * shards.length)]);
    }
    const shards = await lockAccounts(t, [...shardIds.values()]);
    for (const [currency, id] of shardIds) cash.set(currency, shards.get(id)!);
  }
  const view: GroupAccounts = { byId: (id) => locked.get(id), byNumber: (n) => byNumber.get(n), cash: (c) => cash.get(c) };

  // 3. Each movement checked in arrival order against the balances the ones before it left.
  const journal = new Journal();
  const planned: { ji: number; index: number }[] = [];
  for (const ji of live) {
    try {
      const move = jobs[ji].req.plan(view);
      planned.push({ ji, index: journal.add({ ...move, actor: jobs[ji].req.actor }) });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      outcomes[ji] = { ok: false, error: err };
    }
  }

  // 4. Written together; 5. the keys' answers in the same transaction.
  const dtos = await journal.flush(t, jobs[live[0] ?? 0].req.actor);
  for (const p of planned) outcomes[p.ji] = { ok: true, result: { value: dtos[p.index], replayed: false } };
  const settled: KeyOutcome[] = [];
  for (const [ji, id] of keyIds) {
    const o = outcomes[ji];
    const answer = o.ok
      ? { ok: true as const, value: o.result.value }
      : o.error instanceof RuleViolation && !o.error.replayed
        ? { ok: false as const, error: o.error }
        : null;
    settled.push({ claim: jobs[ji].claim!, id, answer });
  }
  await settleKeys(t, settled);
  return outcomes;
}

const writers = new WeakMap<BankContext, LedgerWriter>();

/** The process's writer for this bank. */
export function writerOf(ctx: BankContext): LedgerWriter {
  let w = writers.get(ctx);
  if (!w) writers.set(ctx, (w = new LedgerWriter(ctx, ctx.writerOptions ?? WRITER_DEFAULTS)));
  return w;
}
