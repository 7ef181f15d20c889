import { z } from 'zod';
import { idSchema, pageLimitSchema, pageQuerySchema, textSchema, type Timestamp } from './common.js';

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

export interface BlockDto {
  userId: string;
  name: string;
  blockedAt: Timestamp;
}

export interface BlocksResponse {
  blocks: BlockDto[];
  nextCursor: string | null;
}

export interface AbuseReportDto {
  id: string;
  reporterId: string;
  reportedUserId: string;
  messageId: string | null;
  reason: AbuseReason;
  details: string | null;
  createdAt: Timestamp;
}

export interface AbuseReportsResponse {
  reports: AbuseReportDto[];
  nextCursor: string | null;
}
