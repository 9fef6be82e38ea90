import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../bank/core/errors.js';
import { formatRate, parseRate, rateInForce, ratesInForce } from '../../bank/ledger/rates.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';
import { seedReference } from '../helpers/fixtures.js';

describe('parseRate / formatRate', () => {
  it('parses percent strings exactly into millionths of a percent', () => {
    expect(parseRate('3.50')).toBe(3_500_000);
    expect(parseRate('3.5')).toBe(3_500_000);
    expect(parseRate('0')).toBe(0);
    expect(parseRate('0.0001')).toBe(100);
    expect(parseRate('7.1234')).toBe(7_123_400);
    expect(parseRate('12')).toBe(12_000_000);
    expect(parseRate('999.9999')).toBe(999_999_900);
    // 0.1 + 0.2 style float error cannot happen: 4.35 is exactly 4_350_000.
    expect(parseRate('4.35')).toBe(4_350_000);
  });

  it('refuses negatives, exponents, numbers, too many decimals and garbage with invalid_request', () => {
    for (const bad of [
      '-1',
      '-0.5',
      '+3',
      '1e2',
      '3.50000',
      '3.12345',
      '',
      ' 3.5',
      '3.5 ',
      '3,5',
      '.5',
      '5.',
      'abc',
      '1000',
      'NaN',
      'Infinity',
      '0x10',
      3.5,
      null,
      undefined,
      {},
    ]) {
      let err: unknown;
      try {
        parseRate(bad);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('invalid_request');
      expect((err as DomainError).details?.fields).toEqual(['annualRate']);
    }
  });

  it('formats with at least two decimals and no float rounding', () => {
    expect(formatRate(3_500_000)).toBe('3.50');
    expect(formatRate(0)).toBe('0.00');
    expect(formatRate(100)).toBe('0.0001');
    expect(formatRate(7_123_400)).toBe('7.1234');
    expect(formatRate(12_000_000)).toBe('12.00');
    expect(formatRate(1)).toBe('0.000001');
    for (const s of ['3.50', '0.00', '0.0001', '7.1234', '999.9999', '10.10']) expect(formatRate(parseRate(s))).toBe(s);
  });
});

describe.each(DIALECTS)('rateInForce on %s', (dialect) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    await seedReference(tdb.db); // SAV 3.50 from 2020-01-01, CUR 0 from 2020-01-01
    const now = new Date().toISOString();
    await tdb.db('interest_rates').insert([
      { account_type: 'SAV', annual_rate_micro: 4_000_000, effective_from: '2024-07-01', created_at: now },
      { account_type: 'SAV', annual_rate_micro: 4_250_000, effective_from: '2025-01-01', created_at: now },
      { account_type: 'BIZ', annual_rate_micro: 1_000_000, effective_from: '2024-07-01', created_at: now },
    ]);
  });
  afterAll(() => tdb?.destroy());

  it('picks the latest rate effective on or before the date', async () => {
    const sav = (d: string) => rateInForce(tdb.db, 'SAV', d);
    expect(await sav('2020-01-01')).toBe(3_500_000);
    expect(await sav('2024-06-30')).toBe(3_500_000);
    expect(await sav('2024-07-01')).toBe(4_000_000);
    expect(await sav('2024-12-31')).toBe(4_000_000);
    expect(await sav('2025-01-01')).toBe(4_250_000);
    expect(await sav('2030-05-05')).toBe(4_250_000);
  });

  it('answers 0 before the first rate and for a type without rates', async () => {
    expect(await rateInForce(tdb.db, 'SAV', '2019-12-31')).toBe(0);
    expect(await rateInForce(tdb.db, 'BIZ', '2024-06-30')).toBe(0);
    expect(await rateInForce(tdb.db, 'NOPE', '2025-01-01')).toBe(0);
  });

  it('accepts an ISO instant (its day counts) and refuses a non-date', async () => {
    expect(await rateInForce(tdb.db, 'SAV', '2024-07-01T23:59:59.999Z')).toBe(4_000_000);
    await expect(rateInForce(tdb.db, 'SAV', '2024-02-30')).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(rateInForce(tdb.db, 'SAV', 'yesterday')).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('ratesInForce gives every type its rate for a day', async () => {
    const m = await ratesInForce(tdb.db, '2024-08-15');
    expect(Object.fromEntries(m)).toEqual({ SAV: 4_000_000, CUR: 0, BIZ: 1_000_000 });
    expect(Object.fromEntries(await ratesInForce(tdb.db, '2024-06-30'))).toEqual({ SAV: 3_500_000, CUR: 0 });
  });
});
