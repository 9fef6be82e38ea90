// Money is a decimal string exactly as the API gives it ("1250.50", "7", "-0.01"). It is never
// turned into a float for arithmetic; formatting works on the digits, and the few comparisons
// the UI needs use BigInt minor units.

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

const digitsCache = new Map<string, number>();
const formatterCache = new Map<string, Intl.NumberFormat | null>();

/** Locale used to group digits; INR groups the Indian way (1,00,000). */
export function localeFor(currency: string): string {
  return currency === 'INR' ? 'en-IN' : 'en-US';
}

/** Minor-unit digits of a currency (2 for INR/USD, 0 for JPY); 2 when unknown. */
export function currencyDigits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    digitsCache.set(currency, d);
  }
  return d;
}

function integerFormatter(currency: string): Intl.NumberFormat | null {
  if (!formatterCache.has(currency)) {
    try {
      formatterCache.set(
        currency,
        new Intl.NumberFormat(localeFor(currency), {
          style: 'currency',
          currency,
          minimumFractionDigits: 0,
          maximumFractionDigits: 0,
        }),
      );
    } catch {
      formatterCache.set(currency, null);
    }
  }
  return formatterCache.get(currency) ?? null;
}

function groupPlain(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface FormatOptions {
  /** Prefix positive amounts with "+" (entries, signed movements). */
  signed?: boolean;
  /** Leave out the currency symbol. */
  plain?: boolean;
}

/**
 * "1250.5", "INR" → "₹1,250.50". Decimals are padded to the currency's minor units but never
 * cut: a value with more digits than expected is shown as given.
 */
export function formatMoney(amount: string | null | undefined, currency: string, opts: FormatOptions = {}): string {
  if (amount == null) return '—';
  const text = String(amount).trim();
  const m = DECIMAL.exec(text);
  if (!m) return currency ? `${text} ${currency}` : text;
  const [, minus, intRaw, fracRaw = ''] = m;
  const intDigits = intRaw.replace(/^0+(?=\d)/, '');
  const fraction = fracRaw.padEnd(currencyDigits(currency), '0');
  const nonZero = /[1-9]/.test(intDigits + fracRaw);
  const sign = minus && nonZero ? '-' : opts.signed && nonZero ? '+' : '';

  const nf = opts.plain ? null : integerFormatter(currency);
  if (!nf) {
    const body = groupPlain(intDigits) + (fraction ? `.${fraction}` : '');
    return opts.plain || !currency ? `${sign}${body}` : `${sign}${body} ${currency}`;
  }
  // Let Intl place the symbol and group the integer part (BigInt keeps it exact), then put the
  // fraction back right after the last digit group.
  const parts = nf.formatToParts(BigInt(intDigits));
  let lastDigit = -1;
  parts.forEach((p, i) => {
    if (p.type === 'integer' || p.type === 'group') lastDigit = i;
  });
  let out = '';
  parts.forEach((p, i) => {
    if (p.type === 'minusSign') return;
    out += p.value;
    if (i === lastDigit && fraction) out += `.${fraction}`;
  });
  return sign + out;
}

/** True when the string is a positive amount the currency can carry ("10", "10.5", "0.01"). */
export function isPositiveAmount(amount: string, currency: string): boolean {
  const m = DECIMAL.exec(amount.trim());
  if (!m || m[1]) return false;
  const frac = m[3] ?? '';
  if (frac.length > currencyDigits(currency)) return false;
  return /[1-9]/.test(m[2] + frac);
}

/** Exact minor units as BigInt ("12.5" with 2 digits → 1250n); null when malformed. */
export function toMinorUnits(amount: string, digits: number): bigint | null {
  const m = DECIMAL.exec(String(amount).trim());
  if (!m) return null;
  const frac = (m[3] ?? '').padEnd(digits, '0');
  if (frac.length > digits) return null;
  const v = BigInt(m[2] + frac);
  return m[1] ? -v : v;
}

export function isNegative(amount: string): boolean {
  const m = DECIMAL.exec(String(amount).trim());
  return !!m && !!m[1] && /[1-9]/.test(m[2] + (m[3] ?? ''));
}

/** Compares two decimal strings exactly: -1, 0 or 1 (malformed values sort first). */
export function compareAmounts(a: string, b: string): number {
  const digits = Math.max(fracLen(a), fracLen(b));
  const x = toMinorUnits(a, digits);
  const y = toMinorUnits(b, digits);
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function fracLen(a: string): number {
  const m = DECIMAL.exec(String(a).trim());
  return m?.[3]?.length ?? 0;
}

/** Exact sum of decimal strings ("10.5" + "-0.25" → "10.25"); malformed values are skipped. */
export function sumAmounts(amounts: string[]): string {
  let digits = 0;
  for (const a of amounts) digits = Math.max(digits, fracLen(a));
  let total = 0n;
  for (const a of amounts) {
    const v = toMinorUnits(a, digits);
    if (v !== null) total += v;
  }
  const neg = total < 0n;
  const s = (neg ? -total : total).toString().padStart(digits + 1, '0');
  const text = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return (neg ? '-' : '') + text;
}

/**
 * What a person typed in an amount field, as the API's decimal string: grouping commas, spaces
 * and the currency sign are dropped ("₹1,55,999.5" → "155999.5"). `error` says in words what is
 * wrong, or is null; an empty field is no error (the form decides whether it is required).
 */
export function parseAmountInput(raw: string, currency: string): { value: string; error: string | null } {
  const cleaned = raw.replace(/[\s,₹$€£¥]/g, '').replace(/^(INR|USD|EUR|GBP|JPY)/i, '');
  if (!cleaned) return { value: '', error: null };
  const digits = currencyDigits(currency);
  if (!/^\d*\.?\d*$/.test(cleaned) || cleaned === '.')
    return { value: cleaned, error: `Use digits${digits ? ' and one decimal point' : ''} only, like ${digits ? '1250.50' : '1250'}.` };
  const frac = cleaned.split('.')[1] ?? '';
  if (frac.length > digits)
    return {
      value: cleaned,
      error: digits ? `Amounts have at most ${digits} digits after the point.` : 'Amounts in this currency have no decimals.',
    };
  if (!/[1-9]/.test(cleaned)) return { value: cleaned, error: 'Enter an amount greater than zero.' };
  if ((cleaned.split('.')[0] ?? '').replace(/^0+/, '').length > 12) return { value: cleaned, error: 'That amount is too large.' };
  return { value: cleaned.startsWith('.') ? `0${cleaned}` : cleaned, error: null };
}
