import { Invalid } from './errors.js';

/** Small checks shared by the domain modules. */

/** Control characters (NUL above all: PostgreSQL refuses it in text) have no place in names and addresses. */
export const hasControl = (s: string) => [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

/** A unique index refused the row (a concurrent writer won the race a pre-check lost). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** Trimmed, non-blank, at most max characters; otherwise 400 naming the field. */
export function requiredText(value: string, field: string, max: number): string {
  const v = value.trim();
  if (!v) throw new Invalid(`${field} must not be blank`, { fields: [field] });
  if (v.length > max) throw new Invalid(`${field} must be at most ${max} characters`, { fields: [field] });
  return v;
}
