import type { Knex } from 'knex';
import { Invalid } from '../core/errors.js';

/**
 * Interest rates are percent per year, stored as integers in millionths of a percent
 * ("3.50" -> 3_500_000) so no float ever touches them. The API accepts at most 4 decimals.
 */
export const RATE_SCALE = 1_000_000;
const RATE_RE = /^(\d{1,3})(?:\.(\d{1,4}))?$/;

/** "3.50" -> 3_500_000. Refuses numbers, signs, exponents, blanks, more than 4 decimals, 1000% and up. */
export function parseRate(input: unknown, field = 'annualRate'): number {
  const m = typeof input === 'string' ? RATE_RE.exec(input) : null;
  if (!m)
    throw new Invalid(`${field} must be a percent per year as a decimal string such as "3.50" (0 to 999.9999, at most 4 decimals)`, {
      fields: [field],
    });
  return Number(m[1]) * RATE_SCALE + Number((m[2] ?? '').padEnd(6, '0'));
}

/** 3_500_000 -> "3.50"; at least 2 decimals, trailing zeros beyond them dropped. */
export function formatRate(micro: number): string {
  if (!Number.isSafeInteger(micro) || micro < 0) throw new TypeError(`not a rate: ${micro}`);
  const whole = Math.floor(micro / RATE_SCALE);
  const frac = String(micro % RATE_SCALE)
    .padStart(6, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `${whole}.${frac}`;
}

/** A calendar date 'YYYY-MM-DD' that exists (no 2026-02-30). */
export function isRealDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function dayOf(date: string): string {
  const day = date.slice(0, 10);
  if (!isRealDate(day)) throw new Invalid(`not a date: ${date}`, { fields: ['date'] });
  return day;
}

/**
 * The annual rate (millionths of a percent) that applies to an account type on a date:
 * the latest rate effective on or before that day; 0 when none does (no interest).
 */
export async function rateInForce(db: Knex | Knex.Transaction, accountType: string, date: string): Promise<number> {
  const row = await db('interest_rates')
    .where({ account_type: accountType })
    .andWhere('effective_from', '<=', dayOf(date))
    .orderBy('effective_from', 'desc')
    .first('annual_rate_micro');
  return row ? Number(row.annual_rate_micro) : 0;
}

/** The rate in force on a date for every account type that has one. */
export async function ratesInForce(db: Knex | Knex.Transaction, date: string): Promise<Map<string, number>> {
  const rows = await db('interest_rates')
    .where('effective_from', '<=', dayOf(date))
    .orderBy([{ column: 'account_type' }, { column: 'effective_from' }]);
  // Ascending by date, so the last one seen per type wins.
  return new Map(rows.map((r) => [r.account_type as string, Number(r.annual_rate_micro)]));
}
