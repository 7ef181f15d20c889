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

/** A member's part in a group call, in history and in call events. */
export interface GroupCallMemberDto {
  userId: string;
  /** The first time they joined. */
  joinedAt: Timestamp;
  /** The last time they left; null while they are in the call. */
  leftAt: Timestamp | null;
  /** Whole seconds in the call over every stretch (so far, while they are in it). */
  durationSeconds: number;
}

/**
 * A group call as clients see it: `conversationId` tells it from a 1:1 call. `callerId` started it;
 * `participants` are the members who joined, each once, in the order they first joined.
 */
export interface GroupCallDto {
  id: string;
  conversationId: string;
  callerId: string;
  type: CallType;
  status: CallStatus;
  /** How media flows: `mesh` (peer to peer between every pair) or `sfu` (through a forwarding server). */
  topology: CallTopologyKind;
  createdAt: Timestamp;
  answeredAt: Timestamp | null;
  endedAt: Timestamp | null;
  durationSeconds: number | null;
  endReason: CallEndReason | null;
  participants: GroupCallMemberDto[];
}

export const CALL_TOPOLOGIES = ['mesh', 'sfu'] as const;
export type CallTopologyKind = (typeof CALL_TOPOLOGIES)[number];

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
  /** 1:1 and group calls together, newest first. */
  calls: (CallDto | GroupCallDto)[];
  nextCursor: string | null;
}

export type { IceServer, IceServersAnswer as IceServersResponse } from '../calls/turn-credentials.js';
