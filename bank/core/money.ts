import { InvalidAmount } from './errors.js';

/** Minor-unit digits per ISO currency; anything not listed has 2. */
const DECIMALS: Record<string, number> = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

export function currencyDecimals(currency: string): number {
  return DECIMALS[currency] ?? 2;
}

/** The largest amount any single request may carry: 999,999,999,999 whole units. */
export const MAX_MAJOR_DIGITS = 12;

export function maxMinor(currency: string): number {
  return (10 ** MAX_MAJOR_DIGITS - 1) * 10 ** currencyDecimals(currency) + (10 ** currencyDecimals(currency) - 1);
}

/**
 * Parses a decimal string ("1250.50", "7", "0.01") into integer minor units.
 * Refuses numbers (floats never touch money), signs, exponents, blanks, spaces, grouping,
 * more decimals than the currency has, zero unless allowed, and values over the cap.
 */
export function parseAmount(input: unknown, currency: string, opts: { allowZero?: boolean } = {}): number {
  if (typeof input !== 'string') throw new InvalidAmount('Amount must be a decimal string such as "1250.50"');
  const d = currencyDecimals(currency);
  const re = d === 0 ? /^(\d{1,12})$/ : new RegExp(`^(\\d{1,12})(?:\\.(\\d{1,${d}}))?$`);
  const m = re.exec(input);
  if (!m) throw new InvalidAmount(`Amount must be a positive decimal with at most ${d} decimals and ${MAX_MAJOR_DIGITS} whole digits`);
  const whole = Number(m[1]);
  const frac = m[2] ? Number(m[2].padEnd(d, '0')) : 0;
  const minor = whole * 10 ** d + frac;
  if (minor === 0 && !opts.allowZero) throw new InvalidAmount('Amount must be greater than zero');
  return minor;
}

/** Integer minor units to the API's decimal string: 125050 → "1250.50", -5 → "-0.05". */
export function formatAmount(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new TypeError(`not an integer amount: ${minor}`);
  const d = currencyDecimals(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (d === 0) return `${sign}${abs}`;
  const s = String(abs).padStart(d + 1, '0');
  return `${sign}${s.slice(0, -d)}.${s.slice(-d)}`;
}

/**
 * Parses a signed configuration amount (minimum balances can be set by managers as "0",
 * "1000.00"); same rules as parseAmount but zero allowed.
 */
export function parseNonNegativeAmount(input: unknown, currency: string): number {
  return parseAmount(input, currency, { allowZero: true });
}

const SYMBOLS: Record<string, string> = { INR: '₹', USD: '$', EUR: '€', GBP: '£', JPY: '¥' };

/**
 * For people (notification and mail texts): "₹68,000.00", "₹12,50,000.50" (Indian grouping
 * for INR), "USD 1,234.50" where no symbol is known. Done on the decimal string.
 */
export function displayAmount(minor: number, currency: string): string {
  const [whole, frac] = formatAmount(Math.abs(minor), currency).split('.');
  let grouped: string;
  if (currency === 'INR' && whole.length > 3) {
    const head = whole.slice(0, -3);
    grouped = `${head.replace(/\B(?=(\d{2})+$)/g, ',')},${whole.slice(-3)}`;
  } else {
    grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  }
  const symbol = SYMBOLS[currency];
  const body = `${grouped}${frac !== undefined ? `.${frac}` : ''}`;
  return `${minor < 0 ? '-' : ''}${symbol ?? `${currency} `}${body}`;
}

/** An account number as people are shown it in messages: its last four digits. */
export const maskedAccount = (number: string) => `••${number.slice(-4)}`;
