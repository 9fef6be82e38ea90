/** Domain errors. Each carries the API's error code; rest/ and hub/ map them in one place each. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_amount'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'otp_required'
  | 'invalid_otp'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'idempotency_in_flight'
  | 'insufficient_funds'
  | 'account_frozen'
  | 'account_closed'
  | 'currency_mismatch'
  | 'same_account'
  | 'limit_exceeded'
  | 'nonzero_balance'
  | 'idempotency_mismatch'
  | 'already_reversed'
  | 'account_locked'
  | 'rate_limited';

export class DomainError extends Error {
  /** Set when this refusal is the stored answer to an idempotent request, replayed. */
  replayed = false;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
  toJSON() {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export class Invalid extends DomainError {
  constructor(message: string, details?: Record<string, unknown>, code: 'invalid_request' | 'invalid_amount' = 'invalid_request') {
    super(code, message, details);
  }
}
export class InvalidAmount extends DomainError {
  constructor(message = 'Amount is not a valid positive decimal for this currency', details?: Record<string, unknown>) {
    super('invalid_amount', message, details);
  }
}
export class NotFound extends DomainError {
  constructor(what = 'Resource') {
    super('not_found', `${what} not found`);
  }
}
export class Forbidden extends DomainError {
  constructor(message = 'You may not do that') {
    super('forbidden', message);
  }
}
export class Unauthenticated extends DomainError {
  constructor(
    code: 'unauthenticated' | 'invalid_credentials' | 'otp_required' | 'invalid_otp' = 'unauthenticated',
    message = 'Sign in first',
  ) {
    super(code, message);
  }
}
export class Conflict extends DomainError {
  constructor(message: string, code: 'conflict' | 'idempotency_in_flight' = 'conflict', details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
export type RuleCode =
  | 'insufficient_funds'
  | 'account_frozen'
  | 'account_closed'
  | 'currency_mismatch'
  | 'same_account'
  | 'limit_exceeded'
  | 'nonzero_balance'
  | 'idempotency_mismatch'
  | 'already_reversed'
  /** The thing is in the wrong state for this rule (e.g. cancelling a transaction no longer pending, reversing one that is not posted). */
  | 'conflict';
/** A business rule refused the operation (HTTP 422, whatever its code). */
export class RuleViolation extends DomainError {
  constructor(code: RuleCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
export class InsufficientFunds extends RuleViolation {
  constructor(message = 'Insufficient funds', details?: Record<string, unknown>) {
    super('insufficient_funds', message, details);
  }
}
export class Locked extends DomainError {
  constructor(readonly until: string) {
    super('account_locked', 'Too many failed sign-ins; try again later', { lockedUntil: until });
  }
}
export class RateLimited extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'Too many requests; slow down', { retryAfterSeconds });
  }
}

/** Rebuilds a DomainError from its JSON form (idempotent replays of a refused request). */
export function domainErrorFromJSON(e: { code: ErrorCode; message: string; details?: Record<string, unknown> }): DomainError {
  const err = new DomainError(e.code, e.message, e.details);
  err.replayed = true;
  return err;
}

/** An atomic batch refused as a whole because of one item; always a 422 whatever the item's own code. */
export class BatchItemFailed extends DomainError {
  constructor(
    readonly index: number,
    cause: DomainError,
  ) {
    super(cause.code, `Item ${index}: ${cause.message}`, { index, ...(cause.details ?? {}) });
  }
}

const STORE_DOWN_CODES = new Set([
  // PostgreSQL: the server shut the connection or cannot take it now; connection exceptions.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  // The network under it.
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  // SQLite: another process holds the write lock past the busy timeout.
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);
const STORE_DOWN_MESSAGES =
  /Connection terminated|connection error|not queryable|Timeout acquiring a connection|Connection ended unexpectedly/i;

/**
 * Why the database cannot serve right now (it went away, is restarting, is locked, is
 * full), or null for any other error. Such a failure is not the client's fault and not a
 * bug: it answers 503 with Retry-After, and the same request (same Idempotency-Key) may be
 * sent again. Nothing was half-written: the transaction did not commit.
 */
export function storeUnavailable(err: unknown): { reason: 'unreachable' | 'busy' | 'full' | 'aborted'; retryAfterSeconds: number } | null {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : '';
  // SQLite rolls a transaction back by itself on a full disk, an I/O error or lack of
  // memory; the ROLLBACK that follows then fails and hides the cause. Nothing committed.
  if (/cannot rollback - no transaction is active/.test(String(e.message ?? ''))) return { reason: 'aborted', retryAfterSeconds: 5 };
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === '53100')
    return { reason: 'full', retryAfterSeconds: 30 };
  if (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') return { reason: 'busy', retryAfterSeconds: 1 };
  if (STORE_DOWN_CODES.has(code) || e.name === 'KnexTimeoutError' || STORE_DOWN_MESSAGES.test(String(e.message ?? '')))
    return { reason: 'unreachable', retryAfterSeconds: 1 };
  return null;
}

export const UNAVAILABLE_MESSAGE = {
  unreachable: 'The bank is briefly unavailable; nothing was changed. Try again (with the same Idempotency-Key).',
  busy: 'The bank is busy; nothing was changed. Try again (with the same Idempotency-Key).',
  full: 'The bank cannot store anything right now; nothing was changed. Try again later.',
  aborted: 'The bank could not store this just now; nothing was changed. Try again shortly.',
} as const;
