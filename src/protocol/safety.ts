import { z } from 'zod';
import { idSchema, nextCursorSchema, pageLimitSchema, pageQuerySchema, textSchema, timestampSchema, wireIdSchema } from './common.js';

/** Blocking users and reporting abuse (docs/api/safety.md). */

export const blockBody = z.object({ userId: idSchema });

export const blockParams = z.object({ userId: idSchema });

/** Blocks, the latest first; `after` is the last block's userId from the previous page. */
export const blocksQuery = z.object({ after: idSchema.optional(), limit: pageLimitSchema });

export const ABUSE_REASONS = ['spam', 'harassment', 'hate', 'violence', 'sexual', 'other'] as const;

export const reportBody = z.object({
  userId: idSchema,
  messageId: idSchema.optional(),
  reason: z.enum(ABUSE_REASONS),
  details: textSchema.trim().max(1000, 'must be at most 1000 characters').optional(),
});

export const reportsQuery = pageQuerySchema;

export type ReportBody = z.output<typeof reportBody>;
export type AbuseReason = (typeof ABUSE_REASONS)[number];

export const blockSchema = z.object({ userId: wireIdSchema, name: z.string(), blockedAt: timestampSchema });

export const blockResponseSchema = z.object({ block: blockSchema });

export const blocksResponseSchema = z.object({ blocks: z.array(blockSchema), nextCursor: nextCursorSchema });

export const abuseReportSchema = z.object({
  id: wireIdSchema,
  reporterId: wireIdSchema,
  reportedUserId: wireIdSchema,
  messageId: wireIdSchema.nullable(),
  reason: z.enum(ABUSE_REASONS),
  details: z.string().nullable(),
  createdAt: timestampSchema,
});

/** What the reporter gets back: the report is for admins to read. */
export const reportCreatedResponseSchema = z.object({ report: z.object({ id: wireIdSchema, createdAt: timestampSchema }) });

export const abuseReportsResponseSchema = z.object({ reports: z.array(abuseReportSchema), nextCursor: nextCursorSchema });

export type BlockDto = z.infer<typeof blockSchema>;
export type BlocksResponse = z.infer<typeof blocksResponseSchema>;
export type AbuseReportDto = z.infer<typeof abuseReportSchema>;
export type AbuseReportsResponse = z.infer<typeof abuseReportsResponseSchema>;
