import { z } from 'zod';
import { CALL_END_REASONS, CALL_STATUSES, CALL_TYPES } from '../calls/call-state-machine.js';
import { nextCursorSchema, pageQuerySchema, timestampSchema, wireIdSchema } from './common.js';

export const CALL_TOPOLOGIES = ['mesh', 'sfu'] as const;
export type CallTopologyKind = (typeof CALL_TOPOLOGIES)[number];

/** A call as clients see it, in history and in call events. */
export const callSchema = z.object({
  id: wireIdSchema,
  callerId: wireIdSchema,
  calleeId: wireIdSchema,
  type: z.enum(CALL_TYPES),
  status: z.enum(CALL_STATUSES),
  createdAt: timestampSchema,
  answeredAt: timestampSchema.nullable(),
  endedAt: timestampSchema.nullable(),
  durationSeconds: z.int().min(0).nullable().meta({ description: 'Whole seconds from answeredAt to endedAt; null for a call that was never answered.' }),
  endReason: z.enum(CALL_END_REASONS).nullable(),
});

/** A member's part in a group call, in history and in call events. */
export const groupCallMemberSchema = z.object({
  userId: wireIdSchema,
  joinedAt: timestampSchema.meta({ description: 'The first time they joined.' }),
  leftAt: timestampSchema.nullable().meta({ description: 'The last time they left; null while they are in the call.' }),
  durationSeconds: z.int().min(0).meta({ description: 'Whole seconds in the call over every stretch (so far, while they are in it).' }),
});

/**
 * A group call as clients see it: `conversationId` tells it from a 1:1 call. `callerId` started it;
 * `participants` are the members who joined, each once, in the order they first joined.
 */
export const groupCallSchema = z.object({
  id: wireIdSchema,
  conversationId: wireIdSchema,
  callerId: wireIdSchema,
  type: z.enum(CALL_TYPES),
  status: z.enum(CALL_STATUSES),
  topology: z.enum(CALL_TOPOLOGIES).meta({ description: 'How media flows: `mesh` (peer to peer between every pair) or `sfu` (through a forwarding server).' }),
  createdAt: timestampSchema,
  answeredAt: timestampSchema.nullable(),
  endedAt: timestampSchema.nullable(),
  durationSeconds: z.int().min(0).nullable(),
  endReason: z.enum(CALL_END_REASONS).nullable(),
  participants: z.array(groupCallMemberSchema),
});

export type CallDto = z.infer<typeof callSchema>;
export type GroupCallMemberDto = z.infer<typeof groupCallMemberSchema>;
export type GroupCallDto = z.infer<typeof groupCallSchema>;

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

export const callHistoryResponseSchema = z.object({
  calls: z.array(z.union([callSchema, groupCallSchema])).meta({ description: '1:1 and group calls together, newest first.' }),
  nextCursor: nextCursorSchema,
});

export type CallHistoryResponse = z.infer<typeof callHistoryResponseSchema>;

/** The subset of the browser's RTCIceServer that this server hands out. */
export const iceServerSchema = z.object({ urls: z.array(z.string()), username: z.string().optional(), credential: z.string().optional() });

/** `GET /api/call/ice-servers`: STUN, and TURN with short-lived credentials of the caller's own. */
export const iceServersResponseSchema = z.object({
  iceServers: z.array(iceServerSchema),
  ttlSeconds: z.int().positive().meta({ description: 'How long the TURN credentials last.' }),
});

export type IceServer = z.infer<typeof iceServerSchema>;
export type IceServersResponse = z.infer<typeof iceServersResponseSchema>;
