// Idempotency keys for money-moving requests. A submission gets a fresh key; retrying the very
// same submission (same payload, after a network failure or a server hiccup) reuses it so the
// server answers the first attempt's result instead of moving money twice.

/** A v4 UUID; falls back to getRandomValues where randomUUID is missing (plain-http origins). */
export function newIdempotencyKey(): string {
  const c: Crypto | undefined = typeof crypto !== 'undefined' ? crypto : undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The outcome of an attempt is unknown or temporary: the same key must be used to try again. */
export function isRetryableFailure(err: { status?: number; code?: string } | null | undefined): boolean {
  if (!err) return false;
  const status = err.status ?? 0;
  return status === 0 || status >= 500 || status === 429 || err.code === 'idempotency_in_flight';
}

/** Keeps one key per submission: the same payload retried keeps its key, a changed one gets a new key. */
export class IdempotentSubmission {
  private key: string | null = null;
  private fingerprint: string | null = null;
  private readonly makeKey: () => string;

  constructor(makeKey: () => string = newIdempotencyKey) {
    this.makeKey = makeKey;
  }

  /** True when the previous attempt of this payload failed in a way that must be retried with its key. */
  get pendingRetry(): boolean {
    return this.key !== null;
  }

  keyFor(payload: unknown): string {
    const fp = JSON.stringify(payload);
    if (this.key === null || fp !== this.fingerprint) {
      this.key = this.makeKey();
      this.fingerprint = fp;
    }
    return this.key;
  }

  /** Record how the attempt ended: keep the key only when the outcome is unknown or temporary. */
  settle(error?: { status?: number; code?: string } | null): void {
    if (!error || !isRetryableFailure(error)) this.reset();
  }

  /** Would this payload reuse the pending key (so the UI can say "Retry")? */
  isRetryOf(payload: unknown): boolean {
    return this.key !== null && JSON.stringify(payload) === this.fingerprint;
  }

  reset(): void {
    this.key = null;
    this.fingerprint = null;
  }
}
