import { RateLimited } from '../bank/errors.js';

const WINDOW_MS = 60_000;

/**
 * Sign-in attempts per client address in fixed one-minute windows, in this process's
 * memory. With several pods each pod limits separately (a client spread over N pods gets
 * up to N times the rate); the per-user lockout is the global guard, counted in the
 * database. The map is capped so a flood of addresses cannot grow it without bound.
 */
export class LoginRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt from `address`; throws RateLimited (with Retry-After) over the limit. */
  hit(address: string): void {
    const now = this.now();
    let w = this.windows.get(address);
    if (!w || now - w.start >= WINDOW_MS) {
      if (w) this.windows.delete(address);
      else this.makeRoom(now);
      w = { start: now, count: 0 };
      this.windows.set(address, w); // insertion order = window age, oldest first
    }
    if (w.count >= this.perMinute) throw new RateLimited(Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000)));
    w.count++;
  }

  get size(): number {
    return this.windows.size;
  }

  private makeRoom(now: number) {
    if (this.windows.size < this.maxAddresses) return;
    for (const [key, w] of this.windows) {
      if (now - w.start < WINDOW_MS) break; // the rest are younger
      this.windows.delete(key);
    }
    // Still full of live windows: forget the oldest rather than grow.
    while (this.windows.size >= this.maxAddresses) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
  }
}
