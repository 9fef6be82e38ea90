import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/src/api.js';
import { describeError, errorMessage, fieldError, whenInWords } from '../../client/src/errors.js';

const err = (status: number, code: string, message: string, details?: unknown, retryAfter: number | null = null) =>
  new ApiError(status, code, message, details, retryAfter);

describe('errors in words for people', () => {
  it('says how much can be sent, in rupees with Indian grouping, next to the amount', () => {
    const e = err(422, 'insufficient_funds', 'Insufficient funds in account 803634281031', {
      accountNumber: '803634281031',
      available: '156999.00',
      floor: '1000.00',
    });
    expect(describeError(e)).toEqual({ message: 'You can send up to ₹1,55,999.00 from this account.', field: 'amount' });
    expect(fieldError(e, 'amount')).toBe('You can send up to ₹1,55,999.00 from this account.');
    expect(fieldError(e, 'toAccountNumber')).toBeNull();
    // An overdraft (negative floor) lets more go.
    expect(errorMessage(err(422, 'insufficient_funds', 'x', { available: '500.00', floor: '-10000.00' }))).toBe(
      'You can send up to ₹10,500.00 from this account.',
    );
    expect(errorMessage(err(422, 'insufficient_funds', 'x', { available: '1000.00', floor: '1000.00' }))).toBe(
      'There is not enough money for this: the account must keep at least ₹1,000.00.',
    );
  });

  it('names the field a refused form is about, never the API field list', () => {
    const one = err(400, 'invalid_request', 'Invalid request', { fields: ['phone'], issues: [{ path: 'phone', message: 'Invalid' }] });
    expect(describeError(one)).toMatchObject({
      field: 'phone',
      message: 'Enter a phone number with its country code, like +91 98765 43210.',
    });
    const two = err(400, 'invalid_request', 'Invalid request', { fields: ['email', 'address.postalCode'] });
    const w = describeError(two);
    expect(w.message).toBe('Some details need another look: see the highlighted fields.');
    expect(fieldError(two, 'postalCode')).toBe('Enter the postal code.');
    expect(fieldError(two, 'email')).toMatch(/email address/);
    for (const e of [one, two]) expect(describeError(e).message).not.toMatch(/fields:|Invalid request/);
  });

  it('puts a lock and a rate limit in local words, not timestamps', () => {
    const now = Date.parse('2026-12-01T23:22:00Z');
    const locked = err(423, 'account_locked', 'Too many failed sign-ins', { lockedUntil: '2026-12-01T23:36:55Z' });
    const text = describeError(locked, { now }).message;
    expect(text).toMatch(
      /^Too many wrong passwords, so signing in is paused\. You can try again in 15 minutes \(at \d{1,2}:\d{2}\s?[ap]m\)\.$/i,
    );
    expect(text).not.toContain('2026-12-01T');
    expect(whenInWords('2026-12-01T23:22:30Z', now)).toBe('in 30 seconds');
    expect(errorMessage(err(429, 'rate_limited', 'Too many', undefined, 42))).toBe(
      'Too many attempts in a short time. Try again in 42 seconds.',
    );
  });

  it('words every contract code without echoing the server message', () => {
    const codes = [
      'account_frozen',
      'account_closed',
      'currency_mismatch',
      'same_account',
      'limit_exceeded',
      'nonzero_balance',
      'idempotency_mismatch',
      'idempotency_in_flight',
      'conflict',
      'not_found',
      'forbidden',
      'unauthenticated',
      'invalid_credentials',
      'otp_required',
      'invalid_otp',
      'invalid_amount',
      'network_error',
    ];
    for (const code of codes) {
      const m = errorMessage(err(422, code, `RAW ${code} account 803634281031`, { accountNumber: '803634281031' }));
      expect(m, code).toBeTruthy();
      expect(m, code).not.toContain('RAW');
      expect(m, code).not.toContain('803634281031');
    }
    expect(errorMessage(err(422, 'account_frozen', 'x', { accountNumber: '803634281031', direction: 'debit' }))).toBe(
      'The account ending 1031 is frozen, so money cannot leave it.',
    );
    expect(describeError(err(404, 'not_found', 'Destination account not found'))).toMatchObject({ field: 'toAccountNumber' });
    expect(errorMessage(err(422, 'conflict', 'not pending'), { action: 'cancel' })).toMatch(/can no longer be cancelled/);
    expect(errorMessage(err(503, 'http_503', 'Service Unavailable'))).toBe(
      'Something went wrong on our side. Please try again in a moment.',
    );
    expect(errorMessage(new Error('TypeError: x is undefined'))).toBe('Something went wrong. Please try again.');
  });
});
