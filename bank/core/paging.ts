/**
 * A page of a list read with `limit + 1` rows: the extra row only tells that there is more.
 * The cursor is the last id on the page (lists page by id, ascending or descending).
 */
export function toPage<T extends { id: number }>(fetched: number, items: T[], limit: number): { items: T[]; nextCursor: string | null } {
  return { items, nextCursor: fetched > limit ? String(items[items.length - 1].id) : null };
}
