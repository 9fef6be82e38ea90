// Bookkeeping for the server's event stream, free of Vue and Socket.IO so it can be unit-tested.
//
// Every server event carries an increasing `seq`. The socket is only the fast path: on every
// (re)connect the client asks `sync {since}` for what it missed. The same event can therefore
// arrive twice (live, then again in the replay), and on PostgreSQL seqs can even be committed
// out of order, so "seq <= last seen" is not enough to call an event a duplicate: we remember
// the individual seqs seen within a window below the highest one.

/** One event as `sync` returns it; live events are wrapped into the same shape. */
export interface StreamEvent<T = unknown> {
  seq: number;
  event: string;
  data: T;
}

/** The acknowledgement of a successful `sync`. */
export interface SyncAnswer<T = unknown> {
  events: StreamEvent<T>[];
  upTo: number;
}

/** The server sends at most this many events per `sync` answer. */
export const SYNC_PAGE_SIZE = 1000;

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export interface SeqTrackerOptions {
  /** Highest seq already reflected in the client's state (for example restored from storage). */
  lastSeq?: number;
  /** How many seqs below the highest one are remembered individually. */
  window?: number;
}

export class SeqTracker {
  /** Every seq at or below the floor counts as seen. */
  private floor: number;
  private max: number;
  private readonly seen = new Set<number>();
  private readonly window: number;

  constructor(opts: SeqTrackerOptions = {}) {
    const last = isSeq(opts.lastSeq) ? opts.lastSeq : 0;
    this.floor = last;
    this.max = last;
    this.window = Math.max(16, Math.floor(opts.window ?? 5000));
  }

  /** The highest seq seen or covered by a sync: what to send as `since`. */
  get lastSeq(): number {
    return this.max;
  }

  has(seq: number): boolean {
    return seq <= this.floor || this.seen.has(seq);
  }

  /** Marks `seq` as seen. True when it is new, i.e. the event should be applied. */
  accept(seq: number): boolean {
    if (!isSeq(seq) || this.has(seq)) return false;
    this.seen.add(seq);
    if (seq > this.max) this.max = seq;
    this.prune();
    return true;
  }

  /** The server says it has covered everything up to `upTo` for this session. */
  advanceTo(upTo: number): void {
    if (isSeq(upTo) && upTo > this.max) {
      this.max = upTo;
      this.prune();
    }
  }

  /** Forget everything (another user signed in). */
  reset(lastSeq = 0): void {
    this.seen.clear();
    this.floor = isSeq(lastSeq) ? lastSeq : 0;
    this.max = this.floor;
  }

  private prune(): void {
    // Hysteresis keeps this amortised O(1): prune to half a window once a whole window is held.
    if (this.seen.size <= this.window && this.max - this.floor <= this.window * 2) return;
    const floor = this.max - Math.floor(this.window / 2);
    if (floor <= this.floor) return;
    this.floor = floor;
    for (const s of this.seen) if (s <= floor) this.seen.delete(s);
  }
}

export interface ApplyContext {
  /** True for events that came from a `sync` answer rather than live from the socket. */
  replayed: boolean;
}

export interface SequencerOptions<T> {
  apply: (event: StreamEvent<T>, ctx: ApplyContext) => void;
  /** Called when the highest seq moved (after a live event or a sync page): persist it. */
  onAdvance?: (lastSeq: number) => void;
  /** A handler threw; the event still counts as seen so the stream keeps flowing. */
  onError?: (error: unknown, event: StreamEvent<T>) => void;
  pageSize?: number;
  /** Safety stop for a server that keeps answering full pages without moving `upTo`. */
  maxPages?: number;
}

export type SyncRequest<T> = (since: number) => Promise<SyncAnswer<T>>;

export interface SyncResult {
  pages: number;
  applied: number;
  /** False when a newer sync (a later reconnect) took over before this one finished. */
  completed: boolean;
}

/**
 * Applies events exactly once and in order. Live events that arrive while a sync is running
 * are held back and applied after the replayed history, so an older replayed event never
 * overwrites the effect of a newer live one.
 */
export class EventSequencer<T = unknown> {
  readonly tracker: SeqTracker;
  private readonly opts: SequencerOptions<T>;
  private held: StreamEvent<T>[] = [];
  private generation = 0;
  private running = false;

  constructor(tracker: SeqTracker, opts: SequencerOptions<T>) {
    this.tracker = tracker;
    this.opts = opts;
  }

  get syncing(): boolean {
    return this.running;
  }

  /** An event that arrived on the socket. Returns true when it was applied now. */
  live(event: StreamEvent<T>): boolean {
    if (this.running && isSeq(event.seq)) {
      this.held.push(event);
      return false;
    }
    const before = this.tracker.lastSeq;
    const applied = this.deliver(event, false);
    this.advanced(before);
    return applied;
  }

  /**
   * Runs a full sync: asks from the last seen seq, applies each page oldest first and asks
   * again from `upTo` while a full page came back. Events held meanwhile are applied at the end,
   * also when the request fails (the error is rethrown).
   */
  async sync(request: SyncRequest<T>): Promise<SyncResult> {
    const generation = ++this.generation;
    this.running = true;
    const pageSize = this.opts.pageSize ?? SYNC_PAGE_SIZE;
    const maxPages = this.opts.maxPages ?? 10_000;
    let since = this.tracker.lastSeq;
    let pages = 0;
    let applied = 0;
    try {
      while (pages < maxPages) {
        const answer = await request(since);
        if (generation !== this.generation) return { pages, applied, completed: false };
        pages += 1;
        const before = this.tracker.lastSeq;
        const events = Array.isArray(answer?.events) ? [...answer.events] : [];
        events.sort((a, b) => a.seq - b.seq);
        for (const e of events) if (this.deliver(e, true)) applied += 1;
        const highest = events.length ? events[events.length - 1].seq : since;
        const upTo = isSeq(answer?.upTo) ? answer.upTo : highest;
        if (upTo < since && !events.length) {
          // The server's stream is behind what we remember (its database was reset): start over
          // from its head, otherwise every new event would look like one already seen.
          this.tracker.reset(upTo);
          this.opts.onAdvance?.(upTo);
          break;
        }
        this.tracker.advanceTo(upTo);
        this.advanced(before);
        // Another page only when this one was full and the server actually moved forward.
        if (events.length < pageSize || upTo <= since) break;
        since = upTo;
      }
      return { pages, applied, completed: true };
    } finally {
      if (generation === this.generation) this.release();
    }
  }

  /** Drop held events and forget an in-flight sync (sign-out). */
  cancel(): void {
    this.generation += 1;
    this.running = false;
    this.held = [];
  }

  private release(): void {
    this.running = false;
    const held = this.held;
    this.held = [];
    held.sort((a, b) => a.seq - b.seq);
    const before = this.tracker.lastSeq;
    for (const e of held) this.deliver(e, false);
    this.advanced(before);
  }

  private deliver(event: StreamEvent<T>, replayed: boolean): boolean {
    // Events without a seq (ephemeral ones, if the server sends any) cannot be de-duplicated.
    if (isSeq(event.seq) && !this.tracker.accept(event.seq)) return false;
    try {
      this.opts.apply(event, { replayed });
    } catch (error) {
      this.opts.onError?.(error, event);
    }
    return true;
  }

  private advanced(before: number): void {
    if (this.tracker.lastSeq !== before) this.opts.onAdvance?.(this.tracker.lastSeq);
  }
}

/** localStorage key under which the last seen seq of one user is kept. */
export function seqStorageKey(userId: number | string): string {
  return `bank.lastSeq.${userId}`;
}

/** Reads a stored seq defensively: anything that is not a non-negative integer counts as 0. */
export function parseStoredSeq(raw: string | null | undefined): number {
  if (raw == null || !/^\d{1,15}$/.test(raw.trim())) return 0;
  const n = Number(raw.trim());
  return isSeq(n) ? n : 0;
}
