import { z } from 'zod';

/** Opaque, time-ordered ids (UUIDv7 on every backend). */
export const idSchema = z.uuid({ version: 'v7', message: 'must be an id' });

export const PAGE_SIZE = { min: 1, max: 100, default: 50 } as const;

export const pageQuerySchema = z.object({
  before: idSchema.optional(),
  limit: z.coerce.number().int().min(PAGE_SIZE.min).max(PAGE_SIZE.max).default(PAGE_SIZE.default),
});

/** Every timestamp on the wire is an ISO-8601 UTC string. */
export type Timestamp = string;
