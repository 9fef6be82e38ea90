/**
 * Calendar days for the daily jobs. The bank's day is the UTC day: entries carry UTC ISO
 * timestamps and GET /accounts/:id/balances counts days the same way.
 */

const DAY_MS = 86_400_000;

/**
 * A day is final this long after it ends: a transaction that began just before midnight may
 * commit a moment after it, so the jobs leave the day alone until then.
 */
export const DAY_SETTLE_MS = 2 * 60_000;

export const dayOf = (instant: Date | string): string => new Date(instant).toISOString().slice(0, 10);

export const addDays = (date: string, n: number): string =>
  new Date(Date.parse(`${date}T00:00:00.000Z`) + n * DAY_MS).toISOString().slice(0, 10);

export const startOfDay = (date: string) => `${date}T00:00:00.000Z`;
export const endOfDay = (date: string) => `${date}T23:59:59.999Z`;

/** Days from a to b inclusive, in order (empty when a > b). */
export function daysBetween(a: string, b: string): string[] {
  const out: string[] = [];
  for (let d = a; d <= b; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The last day that has ended and settled at this instant ("yesterday", a little after midnight). */
export const lastClosedDay = (now: Date): string => addDays(dayOf(new Date(now.getTime() - DAY_SETTLE_MS)), -1);

export const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** 365 or 366: interest is Actual/Actual, a day's share of the year it falls in. */
export const daysInYear = (date: string) => (isLeapYear(Number(date.slice(0, 4))) ? 366 : 365);

export const periodOf = (date: string) => date.slice(0, 7);
export const firstDayOf = (period: string) => `${period}-01`;

/** 'YYYY-MM' of the month after. */
export function nextPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

export const lastDayOf = (period: string) => addDays(firstDayOf(nextPeriod(period)), -1);

export const isDate = (s: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)) && new Date(`${s}T00:00:00.000Z`).toISOString().slice(0, 10) === s;

/** 'YYYY-MM' of the month before. */
export const previousPeriod = (period: string) => periodOf(addDays(firstDayOf(period), -1));
