import { describe, expect, it } from 'vitest';
import {
  compareAmounts,
  currencyDigits,
  formatMoney,
  isNegative,
  isPositiveAmount,
  sumAmounts,
  toMinorUnits,
} from '../../client/src/money.js';
import { IdempotentSubmission, isRetryableFailure, newIdempotencyKey } from '../../client/src/idempotency.js';

describe('money formatting (decimal strings, no floats)', () => {
  it('groups digits and pads to the currency decimals', () => {
    expect(formatMoney('1250.5', 'USD')).toBe('$1,250.50');
    expect(formatMoney('7', 'USD')).toBe('$7.00');
    expect(formatMoney('0.01', 'USD')).toBe('$0.01');
    expect(formatMoney('1234567.89', 'USD')).toBe('$1,234,567.89');
  });

  it('uses Indian grouping for INR', () => {
    expect(formatMoney('1250000.50', 'INR')).toBe('₹12,50,000.50');
  });

  it('keeps digits beyond float precision exactly', () => {
    expect(formatMoney('90071992547409931.23', 'USD')).toBe('$90,071,992,547,409,931.23');
  });

  it('shows signs', () => {
    expect(formatMoney('-12.30', 'USD')).toBe('-$12.30');
    expect(formatMoney('12.30', 'USD', { signed: true })).toBe('+$12.30');
    expect(formatMoney('-0.00', 'USD')).toBe('$0.00');
  });

  it('falls back gracefully', () => {
    expect(formatMoney('abc', 'USD')).toBe('abc USD');
    expect(formatMoney(null, 'USD')).toBe('—');
    expect(formatMoney('1000', 'XYZ1')).toBe('1,000.00 XYZ1');
  });

  it('knows minor units', () => {
    expect(currencyDigits('INR')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(formatMoney('1500', 'JPY')).toBe('¥1,500');
  });

  it('validates and compares amounts exactly', () => {
    expect(isPositiveAmount('10', 'INR')).toBe(true);
    expect(isPositiveAmount('10.25', 'INR')).toBe(true);
    expect(isPositiveAmount('10.255', 'INR')).toBe(false);
    expect(isPositiveAmount('0', 'INR')).toBe(false);
    expect(isPositiveAmount('-1', 'INR')).toBe(false);
    expect(isPositiveAmount('1e3', 'INR')).toBe(false);
    expect(isPositiveAmount('', 'INR')).toBe(false);
    expect(toMinorUnits('12.5', 2)).toBe(1250n);
    expect(toMinorUnits('-0.01', 2)).toBe(-1n);
    expect(compareAmounts('0.1', '0.10')).toBe(0);
    expect(compareAmounts('2', '10')).toBe(-1);
    expect(isNegative('-0.00')).toBe(false);
    expect(sumAmounts(['0.1', '0.2'])).toBe('0.3');
    expect(sumAmounts(['10.5', '-0.25', '7'])).toBe('17.25');
    expect(sumAmounts(['-5', '2.5'])).toBe('-2.5');
  });
});

describe('idempotency keys', () => {
  it('makes v4 UUIDs', () => {
    const k = newIdempotencyKey();
    expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newIdempotencyKey()).not.toBe(k);
  });

  it('reuses the key only to retry the same submission after an unknown outcome', () => {
    let n = 0;
    const sub = new IdempotentSubmission(() => `k${++n}`);
    const p = { fromAccountId: 1, toAccountNumber: '000000000000', amount: '5' };
    const k1 = sub.keyFor(p);
    sub.settle({ status: 0, code: 'network_error' });
    expect(sub.isRetryOf(p)).toBe(true);
    expect(sub.keyFor({ ...p })).toBe(k1);
    sub.settle({ status: 503, code: 'http_503' });
    expect(sub.keyFor(p)).toBe(k1);
    // A changed payload is a new submission.
    const k2 = sub.keyFor({ ...p, amount: '6' });
    expect(k2).not.toBe(k1);
    // A definitive answer (success or a business refusal) ends the submission.
    sub.settle({ status: 422, code: 'insufficient_funds' });
    expect(sub.pendingRetry).toBe(false);
    expect(sub.keyFor({ ...p, amount: '6' })).not.toBe(k2);
    sub.settle(null);
    expect(sub.pendingRetry).toBe(false);
  });

  it('classifies retryable failures', () => {
    expect(isRetryableFailure({ status: 0 })).toBe(true);
    expect(isRetryableFailure({ status: 502 })).toBe(true);
    expect(isRetryableFailure({ status: 429, code: 'rate_limited' })).toBe(true);
    expect(isRetryableFailure({ status: 409, code: 'idempotency_in_flight' })).toBe(true);
    expect(isRetryableFailure({ status: 409, code: 'conflict' })).toBe(false);
    expect(isRetryableFailure({ status: 422, code: 'idempotency_mismatch' })).toBe(false);
    expect(isRetryableFailure(null)).toBe(false);
  });
});
