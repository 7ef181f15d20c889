import { z } from 'zod';
import { CALL_STATUSES, type CallEndReason, type CallStatus, type CallType } from '../calls/call-state-machine.js';
import { pageQuerySchema, type Timestamp } from './common.js';

/** A call as clients see it, in history and in call events. */
export interface CallDto {
  id: string;
  callerId: string;
  calleeId: string;
  type: CallType;
  status: CallStatus;
  createdAt: Timestamp;
  answeredAt: Timestamp | null;
  endedAt: Timestamp | null;
  /** Whole seconds from answeredAt to endedAt; null for a call that was never answered. */
  durationSeconds: number | null;
  endReason: CallEndReason | null;
}

export const CALL_DIRECTIONS = ['incoming', 'outgoing'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/** `?status=missed` or `?status=missed,rejected`. */
const statusList = z
  .string()
  .transform((text) => text.split(',').map((item) => item.trim()))
  .pipe(z.array(z.enum(CALL_STATUSES, { message: `must be one or more of ${CALL_STATUSES.join(', ')}` })));

export const callHistoryQuery = pageQuerySchema.extend({
  status: statusList.optional(),
  /** incoming: calls the user received; outgoing: calls the user placed. */
  direction: z.enum(CALL_DIRECTIONS).optional(),
});

export type CallHistoryQuery = z.output<typeof callHistoryQuery>;

export interface CallHistoryResponse {
  calls: CallDto[];
  nextCursor: string | null;
}

export type { IceServer, IceServersAnswer as IceServersResponse } from '../calls/turn-credentials.js';
