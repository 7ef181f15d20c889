import { z } from 'zod';

/**
 * Opaque, time-ordered ids (UUIDv7 on every backend). Read in lower case, as the server writes them, so
 * an id a client upper-cased still compares equal to the stored one.
 */
export const idSchema = z.uuid({ version: 'v7', message: 'must be an id' }).transform((id) => id.toLowerCase());

/**
 * Text a client sends that the server keeps or searches (names, device labels, queries, chat text):
 * PostgreSQL text cannot hold NUL, and a lone surrogate is not text at all (it would be stored as U+FFFD).
 * Chain the field's own rules after it: `textSchema.trim().min(1).max(100)`.
 */
export const textSchema = z.string().refine((text) => !/\u0000|\p{Cs}/u.test(text), 'must be valid Unicode text without NUL characters');

export const PAGE_SIZE = { min: 1, max: 100, default: 50 } as const;

/** `limit` of every paged list: 1..100, default 50. */
export const pageLimitSchema = z.coerce.number().int().min(PAGE_SIZE.min).max(PAGE_SIZE.max).default(PAGE_SIZE.default);

export const pageQuerySchema = z.object({
  before: idSchema.optional(),
  limit: pageLimitSchema,
});

/** Marks a zod issue as a size limit: the request then answers PAYLOAD_TOO_LARGE, not VALIDATION_FAILED. */
export const TOO_LARGE_ISSUE = { tooLarge: true } as const;

const utf8 = new TextEncoder();

/** A string of at most `maxBytes` bytes in UTF-8 (an SDP, an ICE candidate); a longer one is PAYLOAD_TOO_LARGE. */
export function maxBytesString(maxBytes: number) {
  return z.string().refine((text) => text.length <= maxBytes && utf8.encode(text).length <= maxBytes, {
    message: `must be at most ${maxBytes} bytes`,
    params: TOO_LARGE_ISSUE,
  });
}

/** Every timestamp on the wire is an ISO-8601 UTC string. */
export const timestampSchema = z.iso.datetime({ message: 'must be an ISO-8601 UTC timestamp' });
export type Timestamp = z.infer<typeof timestampSchema>;

/** An id as the server writes it, UUIDv7 in lower case (response schemas describe what is sent, so they hold no transforms). */
export const wireIdSchema = z.string();

/** The cursor of the next page, or null on the last page. */
export const nextCursorSchema = z.string().nullable();

/** `{ ok: true }`: the answer of a command with nothing else to say. */
export const okResponseSchema = z.object({ ok: z.literal(true) });
