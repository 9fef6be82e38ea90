/** Small checks shared by the customer and reference-data modules. */

/** Control characters (NUL above all: PostgreSQL refuses it in text) have no place in names and addresses. */
export const hasControl = (s: string) => [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

/** A unique index refused the row (a concurrent writer won the race a pre-check lost). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}
