import { describe, expect, it } from 'vitest';
import {
  EventSequencer,
  SeqTracker,
  SYNC_PAGE_SIZE,
  parseStoredSeq,
  seqStorageKey,
  type StreamEvent,
  type SyncAnswer,
} from '../../client/src/seq.js';

type Ev = StreamEvent<{ n: number }>;

const ev = (seq: number, event = 'balance.updated'): Ev => ({ seq, event, data: { n: seq } });

function harness(opts: { lastSeq?: number; window?: number; pageSize?: number; maxPages?: number } = {}) {
  const applied: Array<{ seq: number; replayed: boolean }> = [];
  const advances: number[] = [];
  const tracker = new SeqTracker({ lastSeq: opts.lastSeq, window: opts.window });
  const seqr = new EventSequencer<{ n: number }>(tracker, {
    apply: (e, ctx) => applied.push({ seq: e.seq, replayed: ctx.replayed }),
    onAdvance: (s) => advances.push(s),
    pageSize: opts.pageSize,
    maxPages: opts.maxPages,
  });
  return { tracker, seqr, applied, advances, seqs: () => applied.map((a) => a.seq) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SeqTracker', () => {
  it('accepts each seq once and tracks the highest', () => {
    const t = new SeqTracker();
    expect(t.lastSeq).toBe(0);
    expect(t.accept(3)).toBe(true);
    expect(t.accept(3)).toBe(false);
    expect(t.accept(1)).toBe(true);
    expect(t.lastSeq).toBe(3);
    expect(t.has(2)).toBe(false);
    expect(t.accept(2)).toBe(true);
  });

  it('treats everything up to a restored lastSeq as seen', () => {
    const t = new SeqTracker({ lastSeq: 50 });
    expect(t.accept(50)).toBe(false);
    expect(t.accept(12)).toBe(false);
    expect(t.accept(51)).toBe(true);
    expect(t.lastSeq).toBe(51);
  });

  it('still applies a late, lower seq that was never seen (out-of-order commit)', () => {
    const t = new SeqTracker();
    expect(t.accept(10)).toBe(true);
    expect(t.accept(9)).toBe(true);
    expect(t.accept(9)).toBe(false);
    expect(t.lastSeq).toBe(10);
  });

  it('rejects malformed seqs', () => {
    const t = new SeqTracker();
    expect(t.accept(-1)).toBe(false);
    expect(t.accept(1.5)).toBe(false);
    expect(t.accept(Number.NaN)).toBe(false);
  });

  it('advanceTo moves the high-water mark forward only', () => {
    const t = new SeqTracker({ lastSeq: 5 });
    t.advanceTo(20);
    expect(t.lastSeq).toBe(20);
    t.advanceTo(7);
    expect(t.lastSeq).toBe(20);
  });

  it('keeps memory bounded while still de-duplicating recent seqs', () => {
    const t = new SeqTracker({ window: 100 });
    for (let s = 1; s <= 10_000; s++) expect(t.accept(s)).toBe(true);
    for (let s = 9_990; s <= 10_000; s++) expect(t.accept(s)).toBe(false);
    expect(t.accept(1)).toBe(false);
    expect((t as unknown as { seen: Set<number> }).seen.size).toBeLessThanOrEqual(101);
  });
});

describe('EventSequencer', () => {
  it('applies live events once, in arrival order when no sync runs', () => {
    const h = harness();
    expect(h.seqr.live(ev(1))).toBe(true);
    expect(h.seqr.live(ev(2))).toBe(true);
    expect(h.seqr.live(ev(2))).toBe(false);
    expect(h.seqs()).toEqual([1, 2]);
    expect(h.advances).toEqual([1, 2]);
  });

  it('does not apply an event twice when it came live and then again from sync', async () => {
    const h = harness();
    h.seqr.live(ev(1));
    h.seqr.live(ev(2));
    const asked: number[] = [];
    await h.seqr.sync(async (since) => {
      asked.push(since);
      return { events: [ev(1), ev(2), ev(3)], upTo: 3 };
    });
    expect(asked).toEqual([2]);
    expect(h.seqs()).toEqual([1, 2, 3]);
    expect(h.applied.at(-1)).toEqual({ seq: 3, replayed: true });
    expect(h.tracker.lastSeq).toBe(3);
  });

  it('sorts each page oldest first and asks from the last seen seq', async () => {
    const h = harness({ lastSeq: 10 });
    let since = -1;
    await h.seqr.sync(async (s) => {
      since = s;
      return { events: [ev(13), ev(11), ev(12)], upTo: 13 };
    });
    expect(since).toBe(10);
    expect(h.seqs()).toEqual([11, 12, 13]);
  });

  it('holds live events during a sync and applies them after the history', async () => {
    const h = harness();
    const answer = deferred<SyncAnswer<{ n: number }>>();
    const running = h.seqr.sync(() => answer.promise);
    expect(h.seqr.syncing).toBe(true);
    expect(h.seqr.live(ev(5))).toBe(false); // held
    expect(h.seqr.live(ev(4))).toBe(false); // held, also in the replay
    expect(h.seqs()).toEqual([]);
    answer.resolve({ events: [ev(3), ev(4)], upTo: 4 });
    await running;
    expect(h.seqr.syncing).toBe(false);
    expect(h.seqs()).toEqual([3, 4, 5]);
    expect(h.applied.map((a) => a.replayed)).toEqual([true, true, false]);
  });

  it('pages from upTo while full pages come back', async () => {
    const h = harness({ pageSize: 3 });
    const pages: Record<number, SyncAnswer<{ n: number }>> = {
      0: { events: [ev(1), ev(2), ev(3)], upTo: 3 },
      3: { events: [ev(4), ev(5), ev(6)], upTo: 8 },
      8: { events: [ev(9)], upTo: 9 },
    };
    const asked: number[] = [];
    const result = await h.seqr.sync(async (since) => {
      asked.push(since);
      return pages[since];
    });
    expect(asked).toEqual([0, 3, 8]);
    expect(result).toEqual({ pages: 3, applied: 7, completed: true });
    expect(h.seqs()).toEqual([1, 2, 3, 4, 5, 6, 9]);
    expect(h.tracker.lastSeq).toBe(9);
  });

  it('uses the server page size of 1000 by default', async () => {
    expect(SYNC_PAGE_SIZE).toBe(1000);
    const h = harness();
    const asked: number[] = [];
    await h.seqr.sync(async (since) => {
      asked.push(since);
      if (since === 0) return { events: Array.from({ length: 1000 }, (_, i) => ev(i + 1)), upTo: 1000 };
      return { events: [ev(1001)], upTo: 1001 };
    });
    expect(asked).toEqual([0, 1000]);
    expect(h.applied).toHaveLength(1001);
  });

  it('advances to upTo even when no event of the page was for us', async () => {
    const h = harness({ lastSeq: 7 });
    await h.seqr.sync(async () => ({ events: [], upTo: 42 }));
    expect(h.tracker.lastSeq).toBe(42);
    expect(h.advances).toEqual([42]);
  });

  it('starts over when the server is behind the stored seq (database reset)', async () => {
    const h = harness({ lastSeq: 5000 });
    await h.seqr.sync(async () => ({ events: [], upTo: 12 }));
    expect(h.tracker.lastSeq).toBe(12);
    expect(h.advances).toEqual([12]);
    expect(h.seqr.live(ev(13))).toBe(true);
    expect(h.seqs()).toEqual([13]);
  });

  it('stops paging when the server does not move forward', async () => {
    const h = harness({ pageSize: 2, lastSeq: 5 });
    let calls = 0;
    await h.seqr.sync(async () => {
      calls += 1;
      return { events: [ev(4), ev(5)], upTo: 5 };
    });
    expect(calls).toBe(1);
  });

  it('releases held events and rethrows when the sync request fails', async () => {
    const h = harness();
    const answer = deferred<SyncAnswer<{ n: number }>>();
    const running = h.seqr.sync(() => answer.promise);
    h.seqr.live(ev(8));
    answer.reject(new Error('timeout'));
    await expect(running).rejects.toThrow('timeout');
    expect(h.seqr.syncing).toBe(false);
    expect(h.seqs()).toEqual([8]);
  });

  it('a newer sync (reconnect) supersedes an older one still waiting', async () => {
    const h = harness();
    const first = deferred<SyncAnswer<{ n: number }>>();
    const a = h.seqr.sync(() => first.promise);
    const b = h.seqr.sync(async () => ({ events: [ev(1), ev(2)], upTo: 2 }));
    expect(await b).toEqual({ pages: 1, applied: 2, completed: true });
    first.resolve({ events: [ev(1)], upTo: 1 });
    expect(await a).toEqual({ pages: 0, applied: 0, completed: false });
    expect(h.seqs()).toEqual([1, 2]);
  });

  it('applies events without a seq (ephemeral) without tracking them', () => {
    const h = harness();
    h.seqr.live({ seq: undefined as unknown as number, event: 'presence.ticket', data: { n: 0 } });
    h.seqr.live({ seq: undefined as unknown as number, event: 'presence.ticket', data: { n: 0 } });
    expect(h.applied).toHaveLength(2);
    expect(h.tracker.lastSeq).toBe(0);
  });

  it('keeps going when a handler throws', () => {
    const errors: unknown[] = [];
    const tracker = new SeqTracker();
    const seen: number[] = [];
    const seqr = new EventSequencer<unknown>(tracker, {
      apply: (e) => {
        if (e.seq === 1) throw new Error('boom');
        seen.push(e.seq);
      },
      onError: (err) => errors.push(err),
    });
    seqr.live(ev(1));
    seqr.live(ev(1));
    seqr.live(ev(2));
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([2]);
  });

  it('cancel drops held events (sign-out)', async () => {
    const h = harness();
    const answer = deferred<SyncAnswer<{ n: number }>>();
    const running = h.seqr.sync(() => answer.promise);
    h.seqr.live(ev(3));
    h.seqr.cancel();
    answer.resolve({ events: [ev(1)], upTo: 1 });
    await running;
    expect(h.seqs()).toEqual([]);
  });
});

describe('stored seq', () => {
  it('is keyed per user', () => {
    expect(seqStorageKey(7)).toBe('bank.lastSeq.7');
    expect(seqStorageKey(8)).not.toBe(seqStorageKey(7));
  });

  it('parses defensively', () => {
    expect(parseStoredSeq('123')).toBe(123);
    expect(parseStoredSeq(' 9 ')).toBe(9);
    expect(parseStoredSeq(null)).toBe(0);
    expect(parseStoredSeq('')).toBe(0);
    expect(parseStoredSeq('-4')).toBe(0);
    expect(parseStoredSeq('1e9')).toBe(0);
    expect(parseStoredSeq('abc')).toBe(0);
  });
});
