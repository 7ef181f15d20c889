import { z } from 'zod';

/**
 * A sync cursor: the snapshot (`pg_snapshot` text, `xmin:xmax:xip,...`) of the sync that handed it out,
 * and, while a batch is being paged, the snapshot that batch ends at and the last change returned.
 * Changes are the rows whose transaction is visible in `until` but not in `since`.
 */
export interface ChangeWindow {
  since: string;
  until?: string | undefined;
  last?: { xid: string; pos: string } | undefined;
}

const digits = z.string().regex(/^\d{1,20}$/);

/** A snapshot as PostgreSQL prints it, checked as PostgreSQL would check it on input. */
const snapshot = z
  .string()
  .regex(/^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/)
  .refine((text) => {
    const [xmin, xmax, xip] = text.split(':') as [string, string, string];
    const low = BigInt(xmin);
    const high = BigInt(xmax);
    let previous = low;
    for (const xid of xip ? xip.split(',').map(BigInt) : []) {
      if (xid < previous || xid >= high) return false;
      previous = xid;
    }
    return low <= high;
  });

const window = z.object({ since: snapshot, until: snapshot.optional(), last: z.object({ xid: digits, pos: digits }).optional() }).strict();

export function encodeCursor(change: ChangeWindow): string {
  return Buffer.from(JSON.stringify(change)).toString('base64url');
}

/** The window a cursor stands for; null for anything this adapter did not hand out. */
export function decodeCursor(cursor: string): ChangeWindow | null {
  try {
    const parsed = window.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
