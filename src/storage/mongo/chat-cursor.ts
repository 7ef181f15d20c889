import { z } from 'zod';

/**
 * A sync cursor on MongoDB: the change position (change-positions.ts) up to which the user has every
 * change. Opaque to clients; a cursor of another adapter (or anything else) decodes to null.
 */
const cursorSchema = z.object({ m: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) }).strict();

export function encodeCursor(position: number): string {
  return Buffer.from(JSON.stringify({ m: position })).toString('base64url');
}

export function decodeCursor(cursor: string): number | null {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data.m : null;
  } catch {
    return null;
  }
}

/** One kind of change read for a page: what was found, and how far the read looked. */
export interface KindRead<T> {
  items: { at: number; change: T }[];
  /** The position of the last document read when the read hit its limit (there may be more after it); null when it read everything up to the head. */
  frontier: number | null;
}

/**
 * A page of changes from the reads of each kind (each of at most `limit` + 1 documents, some perhaps
 * left out after reading, such as hidden messages): the changes up to the nearest frontier (beyond it a
 * kind that hit its limit may have more, not read), in position order, at most `limit`. The cursor is
 * the last change's position when the page is full, else that frontier, else the head.
 */
export function pageOf<T>(reads: readonly KindRead<T>[], head: number, limit: number): { changes: T[]; cursor: number; hasMore: boolean } {
  const frontiers = reads.flatMap((read) => (read.frontier === null ? [] : [read.frontier]));
  const bound = Math.min(head, ...frontiers);
  const items = reads
    .flatMap((read) => read.items)
    .filter((item) => item.at <= bound)
    .sort((a, b) => a.at - b.at);
  if (items.length > limit) {
    const taken = items.slice(0, limit);
    return { changes: taken.map((item) => item.change), cursor: taken.at(-1)!.at, hasMore: true };
  }
  return { changes: items.map((item) => item.change), cursor: bound, hasMore: bound < head };
}
