import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { currencyDecimals, formatAmount, maxMinor, parseAmount } from '../../bank/core/money.js';
import { generateAccountNumber, isValidAccountNumber, luhnCheckDigit } from '../../bank/accounts/account-numbers.js';

const currencies = ['INR', 'USD', 'JPY', 'KWD'];

describe('money', () => {
  it('formats and parses back every amount exactly', () => {
    fc.assert(
      fc.property(fc.constantFrom(...currencies), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (cur, n) => {
        const minor = n % (maxMinor(cur) + 1) || 1;
        expect(parseAmount(formatAmount(minor, cur), cur)).toBe(minor);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses canonical decimal strings to the right minor units', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 99 }), (whole, cents) => {
        fc.pre(whole > 0n || cents > 0);
        const s = `${whole}.${String(cents).padStart(2, '0')}`;
        expect(parseAmount(s, 'INR')).toBe(Number(whole) * 100 + cents);
        expect(formatAmount(parseAmount(s, 'INR'), 'INR')).toBe(s);
      }),
    );
    expect(parseAmount('7', 'INR')).toBe(700);
    expect(parseAmount('0.01', 'INR')).toBe(1);
    expect(parseAmount('1250.5', 'INR')).toBe(125050);
    expect(parseAmount('12', 'JPY')).toBe(12);
    expect(formatAmount(-5, 'INR')).toBe('-0.05');
  });

  const malformed = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '-1',
      '+1',
      '1e3',
      '1E3',
      '0x10',
      '1.',
      '.5',
      '1..2',
      '1,000',
      ' 1',
      '1 ',
      '1.001',
      'NaN',
      'Infinity',
      '٣',
      '１',
      '0',
      '0.00',
      '1000000000000',
      '1.2.3',
      '--1',
      '1_000',
    ),
    fc.string().filter((s) => !/^\d{1,12}(\.\d{1,2})?$/.test(s)),
    fc.double().map((d) => `${d}e1`),
    fc.integer({ min: -1_000_000, max: -1 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 100, max: 99999 })).map(([w, f]) => `${w}.${f}`),
    fc.bigInt({ min: 10n ** 12n, max: 10n ** 30n }).map(String),
  );

  it('refuses every malformed amount', () => {
    fc.assert(
      fc.property(malformed, (s) => {
        expect(() => parseAmount(s, 'INR')).toThrowError(expect.objectContaining({ code: 'invalid_amount' }));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses non-strings: numbers never touch money', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object(), fc.array(fc.string())),
        (v) => {
          expect(() => parseAmount(v, 'INR')).toThrowError(expect.objectContaining({ code: 'invalid_amount' }));
        },
      ),
    );
  });

  it("respects each currency's decimals", () => {
    expect(currencyDecimals('JPY')).toBe(0);
    expect(() => parseAmount('1.5', 'JPY')).toThrow();
    expect(parseAmount('1.505', 'KWD')).toBe(1505);
    expect(() => parseAmount('1.5055', 'KWD')).toThrow();
  });
});

describe('account numbers', () => {
  it('are 12 digits with a valid Luhn check digit, and a single changed digit is caught', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 9 }), (pos, delta) => {
        const n = generateAccountNumber();
        expect(n).toMatch(/^[1-9]\d{11}$/);
        expect(isValidAccountNumber(n)).toBe(true);
        const changed = n.slice(0, pos) + String((Number(n[pos]) + delta) % 10) + n.slice(pos + 1);
        expect(isValidAccountNumber(changed)).toBe(false);
      }),
    );
    // Known Luhn example: 7992739871 → check digit 3.
    expect(luhnCheckDigit('7992739871')).toBe(3);
  });
});

describe('display amounts', () => {
  it('groups digits for people without touching floats', async () => {
    const { displayAmount } = await import('../../bank/core/money.js');
    expect(displayAmount(6_800_000, 'INR')).toBe('₹68,000.00');
    expect(displayAmount(125_000_050, 'INR')).toBe('₹12,50,000.50');
    expect(displayAmount(99_999, 'INR')).toBe('₹999.99');
    expect(displayAmount(123_456_789, 'USD')).toBe('$1,234,567.89');
    expect(displayAmount(1_234_567, 'JPY')).toBe('¥1,234,567');
    expect(displayAmount(1_234_500, 'CHF')).toBe('CHF 12,345.00');
    expect(displayAmount(-5, 'INR')).toBe('-₹0.05');
  });
});
