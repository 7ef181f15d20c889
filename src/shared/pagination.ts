/**
 * Cursor pagination: ask storage for `limit + 1` rows; the extra one only tells whether another page
 * follows, whose cursor is the last returned item's.
 */
export function paginate<T>(rows: readonly T[], limit: number, cursorOf: (item: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
