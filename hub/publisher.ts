import type { BankContext } from '../bank/core/index.js';
import type { Logger } from '../log.js';
import type { Deliver } from './deliver.js';
import { markPublished } from '../bank/outbox/index.js';
import { loadEvents, type OutboxEvent } from '../bank/outbox/index.js';
import type { PendingEvent } from '../bank/outbox/index.js';

const BATCH = 500;
const MARK_EVERY_MS = 100;

/**
 * The live path: right after a transaction commits (bank.signals 'committed'), takes its
 * events from the signal (reading back only any it did not carry), emits them and marks
 * them published. Commits arriving together are batched, and
 * batches run one after another so emits leave in commit-signal order. A failure here loses
 * nothing: the rows stay unpublished and the relay takes them after its grace period.
 */
export class Publisher {
  private pending: number[] = [];
  /** Events the commit signal handed over whole: emitted without reading them back. */
  private readonly known = new Map<number, OutboxEvent>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly marking = new Set<Promise<unknown>>();
  private toMark: number[] = [];
  private markTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bank: BankContext,
    private readonly deliver: Deliver,
    private readonly logger: Logger,
  ) {}

  readonly onCommitted = (seqs: number[], events: PendingEvent[] = []) => {
    if (this.stopped || !Array.isArray(seqs)) return;
    for (const e of events) {
      if (e.seq !== undefined && e.at) this.known.set(e.seq, { seq: e.seq, type: e.type, data: e.data, createdAt: e.at, rooms: e.rooms });
    }
    this.pending.push(...seqs);
    this.kick();
  };

  private kick() {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.pending.length && !this.stopped) this.kick();
    });
  }

  private async drain() {
    while (this.pending.length && !this.stopped) {
      const batch = this.pending.splice(0, BATCH);
      try {
        const handed: OutboxEvent[] = [];
        const missing: number[] = [];
        for (const seq of batch) {
          const e = this.known.get(seq);
          if (e) {
            handed.push(e);
            this.known.delete(seq);
          } else {
            missing.push(seq);
          }
        }
        const events = missing.length ? [...handed, ...(await loadEvents(this.bank.db, missing))].sort((a, b) => a.seq - b.seq) : handed;
        // The emits happen now; only their Redis confirmation is awaited, off the path of the
        // next batch (a dying Redis connection must not delay local pushes).
        const marking = this.deliver(events, 'live')
          .then(({ delivered }) => this.markLater(delivered))
          .catch((err) => this.logger.warn({ err }, 'live publish failed; the relay will re-emit them'))
          .finally(() => this.marking.delete(marking));
        this.marking.add(marking);
      } catch (err) {
        this.logger.warn({ err, seqs: batch.length }, 'live publish failed; the relay will retry');
      }
    }
  }

  /**
   * Marks published rows in one write every MARK_EVERY_MS instead of one per batch: on SQLite
   * every write queues behind the ledger's, and the relay waits far longer than this anyway.
   */
  private markLater(seqs: number[]) {
    if (!seqs.length) return;
    this.toMark.push(...seqs);
    this.markTimer ??= setTimeout(() => void this.flushMarks(), MARK_EVERY_MS);
  }

  private async flushMarks() {
    this.markTimer = null;
    const seqs = this.toMark.splice(0);
    if (!seqs.length) return;
    await markPublished(this.bank.db, seqs, new Date().toISOString()).catch((err) =>
      this.logger.warn({ err }, 'marking events published failed; the relay will re-emit them'),
    );
  }

  async close() {
    this.stopped = true;
    await this.running;
    await Promise.allSettled([...this.marking]);
    if (this.markTimer) clearTimeout(this.markTimer);
    await this.flushMarks();
  }
}
