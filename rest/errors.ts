import { ZodError } from 'zod';
import { BatchItemFailed, DomainError, RuleViolation, type ErrorCode, storeUnavailable, UNAVAILABLE_MESSAGE } from '../bank/core/index.js';

/** The one place domain errors become HTTP statuses. */
export const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_amount: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  otp_required: 401,
  invalid_otp: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_in_flight: 409,
  insufficient_funds: 422,
  account_frozen: 422,
  account_closed: 422,
  currency_mismatch: 422,
  same_account: 422,
  limit_exceeded: 422,
  nonzero_balance: 422,
  idempotency_mismatch: 422,
  already_reversed: 422,
  account_locked: 423,
  rate_limited: 429,
};

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; details?: Record<string, unknown> } };
  headers?: Record<string, string>;
}

export function zodDetails(err: ZodError) {
  // An unknown field is named at its own path, not at the object that refused it.
  const paths = err.issues.flatMap((i) =>
    i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k].join('.')) : [i.path.join('.') || '(body)'],
  );
  const fields = [...new Set(paths)];
  return { fields, issues: err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })) };
}

export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof DomainError) {
    const headers: Record<string, string> = {};
    if (err.code === 'rate_limited') headers['Retry-After'] = String(err.details?.retryAfterSeconds ?? 60);
    if (err.replayed) headers['Idempotent-Replayed'] = 'true';
    return {
      status: err instanceof BatchItemFailed || err instanceof RuleViolation ? 422 : (STATUS[err.code] ?? 400),
      body: { error: err.toJSON() },
      headers,
    };
  }
  if (err instanceof ZodError) {
    // An amount field failing its schema is an invalid amount, as the contract says.
    const amountOnly = err.issues.every((i) => /amount$/i.test(String(i.path[i.path.length - 1] ?? '')));
    return {
      status: 400,
      body: {
        error: { code: amountOnly ? 'invalid_amount' : 'invalid_request', message: 'The request is not valid', details: zodDetails(err) },
      },
    };
  }
  const down = storeUnavailable(err);
  if (down) {
    return {
      status: 503,
      body: {
        error: { code: 'unavailable', message: UNAVAILABLE_MESSAGE[down.reason], details: { retryAfterSeconds: down.retryAfterSeconds } },
      },
      headers: { 'Retry-After': String(down.retryAfterSeconds) },
    };
  }
  const e = err as { status?: number; expose?: boolean; type?: string; message?: string };
  // Koa/body-parser client errors (malformed JSON, payload too large, bad encoding).
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    const tooLarge = e.status === 413;
    return {
      status: tooLarge ? 413 : 400,
      body: {
        error: {
          code: 'invalid_request',
          message: tooLarge ? 'Request body is too large' : `Malformed request: ${e.expose ? e.message : 'could not parse body'}`,
        },
      },
    };
  }
  return null;
}
