import { z } from 'zod';
import type { Ack } from './ack.js';
import {
  callAcceptedEventSchema,
  callAcceptPayload,
  callDeclinedEventSchema,
  callEndedEventSchema,
  callIdEventSchema,
  callIdPayload,
  callRequestShapes,
  callResultSchema,
  callSignalEventSchema,
  callSignalPayload,
  directCallStateEventSchema,
  groupCallAckSchema,
  groupCallResultSchema,
  iceCandidateEventSchema,
  iceCandidatePayload,
  incomingCallEventSchema,
  incomingGroupCallEventSchema,
  participantEventSchema,
  participantLeftEventSchema,
  participantsResultSchema,
  participantStatePayload,
  sfuSignalEventSchema,
} from './call-events.js';
import {
  chatMessageEventSchema,
  deleteMessagePayload,
  editMessagePayload,
  messageDeleteEventSchema,
  messageDeleteResultSchema,
  messageDeliveredEventSchema,
  messageDeliveredPayload,
  messageDeliveredResultSchema,
  messageEditEventSchema,
  messageReactionEventSchema,
  messageReadEventSchema,
  messageReadPayload,
  messageReadResultSchema,
  reactionPayload,
  reactionResultSchema,
  sendMessagePayload,
  typingEventSchema,
  typingPayload,
} from './chat.js';
import { conversationUpdatedEventSchema } from './conversations.js';
import { callStatsPayload, callStatsResultSchema } from './call-quality.js';
import type { ErrorCode } from './errors.js';
import type { ClientToServerEvents, ServerToClientEvents } from './events.js';
import { devicesChangedEventSchema, preKeysLowEventSchema, toDeviceEventSchema } from './keys.js';
import { presenceEventSchema, presenceSubscribePayload, presenceSubscribeResultSchema } from './people.js';
import { authenticatePayload, authenticateResultSchema, sessionEndedEventSchema } from './session-events.js';

/**
 * Every Socket.io event as data, for the event reference (docs/api/events.md, /docs/events) and the
 * tests: the interfaces in events.ts are types only. Each table must name every event of its interface
 * (a missing or unknown one is a compile error), and each schema must describe that event's type.
 */

type PayloadOf<F> = F extends (payload: infer P, ...rest: never[]) => void ? P : never;
type AckResultOf<F> = F extends (payload: never, ack?: Ack<infer R>) => void ? R : never;

export interface ClientEventEntry<E extends keyof ClientToServerEvents = keyof ClientToServerEvents> {
  summary: string;
  /** What the client sends (what the server validates it as). */
  payload: z.ZodType<unknown, PayloadOf<ClientToServerEvents[E]>>;
  /** The fields of `{ ok: true, ... }` besides `ok`. */
  ack: z.ZodType<AckResultOf<ClientToServerEvents[E]>>;
  /** Codes this event's ack may carry besides those every event may (EVERY_EVENT_ERRORS). */
  errors: ErrorCode[];
}

export interface ServerEventEntry<E extends keyof ServerToClientEvents = keyof ServerToClientEvents> {
  summary: string;
  /** Whose devices receive it. */
  to: string;
  payload: z.ZodType<PayloadOf<ServerToClientEvents[E]>>;
}

/** Codes any client event's ack may carry: a malformed or oversized payload, a spent budget, a stopping server, our fault. */
export const EVERY_EVENT_ERRORS: ErrorCode[] = ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL'];

const noResult = z.object({});

export const clientEvents: { [E in keyof ClientToServerEvents]: ClientEventEntry<E> } = {
  AUTHENTICATE: {
    summary: "Replaces the connection's access token with a newer one of the same session (send it before the current one expires).",
    payload: authenticatePayload,
    ack: authenticateResultSchema,
    errors: ['UNAUTHORIZED', 'TOKEN_EXPIRED', 'ACCOUNT_BANNED', 'FORBIDDEN'],
  },
  CHAT_MESSAGE: {
    summary: 'Sends a message to a user (`to`) or a conversation (`conversationId`); acknowledged once it is stored. A retry with the same `clientMessageId` answers the stored message.',
    payload: sendMessagePayload,
    ack: chatMessageEventSchema,
    errors: ['NOT_FOUND', 'FORBIDDEN'],
  },
  CHAT_TYPING: { summary: 'The user is typing in a direct (`to`) or any (`conversationId`) conversation.', payload: typingPayload, ack: noResult, errors: ['NOT_FOUND', 'FORBIDDEN'] },
  CHAT_STOP_TYPING: { summary: 'The user stopped typing.', payload: typingPayload, ack: noResult, errors: ['NOT_FOUND', 'FORBIDDEN'] },
  MESSAGE_READ: {
    summary: "Marks a message read: the reader's read position in its conversation (in a direct one, every earlier message from the other party too).",
    payload: messageReadPayload,
    ack: messageReadResultSchema,
    errors: ['NOT_FOUND', 'FORBIDDEN'],
  },
  MESSAGE_DELIVERED: { summary: 'A recipient device confirms it has a message.', payload: messageDeliveredPayload, ack: messageDeliveredResultSchema, errors: ['NOT_FOUND', 'FORBIDDEN'] },
  MESSAGE_EDIT: {
    summary: "The sender replaces a message's content within the edit window; acknowledged with the message once stored.",
    payload: editMessagePayload,
    ack: messageEditEventSchema,
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  MESSAGE_DELETE: {
    summary: 'Deletes a message for everyone (ack with the tombstone) or hides it for the sender\'s devices (`scope: "me"`, ack without a message).',
    payload: deleteMessagePayload,
    ack: messageDeleteResultSchema,
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  MESSAGE_REACTION: {
    summary: "Adds or removes one's reaction; acknowledged with the message's reactions once stored.",
    payload: reactionPayload,
    ack: reactionResultSchema,
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  PRESENCE_SUBSCRIBE: {
    summary: "Replaces this socket's presence subscriptions; the ack carries their current state (only contacts' presence is visible).",
    payload: presenceSubscribePayload,
    ack: presenceSubscribeResultSchema,
    errors: [],
  },
  CALL_REQUEST: {
    summary: 'Starts a 1:1 call (`to`, ack `{ call }`) or a group call in a conversation (`conversationId`, ack the group call result).',
    payload: callRequestShapes,
    ack: z.union([callResultSchema, groupCallResultSchema]),
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  CALL_JOIN: { summary: "Joins a group call (the group's members only).", payload: callIdPayload, ack: groupCallResultSchema, errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE', 'CALL_FULL'] },
  CALL_PARTICIPANTS: { summary: 'Who is in a group call now.', payload: callIdPayload, ack: participantsResultSchema, errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'] },
  CALL_PARTICIPANT_STATE: { summary: "This device's mute and camera state in a group call, relayed to the others.", payload: participantStatePayload, ack: noResult, errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'] },
  CALL_ACCEPT: { summary: 'The callee accepts a ringing 1:1 call, with its SDP answer.', payload: callAcceptPayload, ack: callResultSchema, errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'] },
  CALL_REJECT: {
    summary: 'The callee rejects a ringing 1:1 call; in a group call a rung member declines it.',
    payload: callIdPayload,
    ack: z.union([callResultSchema, groupCallAckSchema]),
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  CALL_ENDED: {
    summary: 'Hangs up (either party; the caller while ringing cancels); in a group call the participant leaves it.',
    payload: callIdPayload,
    ack: z.union([callResultSchema, groupCallAckSchema]),
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  CALL_BUSY: { summary: 'A callee device declares itself busy for a ringing 1:1 call.', payload: callIdPayload, ack: callResultSchema, errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'] },
  ICE_CANDIDATE: {
    summary: 'A trickled ICE candidate for the other party (1:1), a participant device (`to`, mesh) or the media server (`connection`, SFU).',
    payload: iceCandidatePayload,
    ack: noResult,
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  CALL_SIGNAL: {
    summary: 'Renegotiation once the call is accepted (an ICE restart, adding or removing video), and all of a group call\'s offers and answers.',
    payload: callSignalPayload,
    ack: noResult,
    errors: ['NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE'],
  },
  CALL_STATS: {
    summary: "A device's WebRTC stats summary of a call it is in (1:1 or group), while it is live or up to 2 minutes after it ended; acknowledged with the report's MOS estimate.",
    payload: callStatsPayload,
    ack: callStatsResultSchema,
    errors: ['NOT_FOUND', 'INVALID_STATE'],
  },
};

export const serverEvents: { [E in keyof ServerToClientEvents]: ServerEventEntry<E> } = {
  SESSION_ENDED: {
    summary: 'Sent just before the server closes the connection because its session or token ended: `token_expired` (refresh, then connect again), otherwise sign in again.',
    to: 'the sockets of the ended session or account',
    payload: sessionEndedEventSchema,
  },
  CHAT_MESSAGE: {
    summary: 'A new message.',
    to: "every member's devices but the sending socket (which has the ack)",
    payload: chatMessageEventSchema,
  },
  CHAT_TYPING: { summary: 'A member is typing.', to: 'the other members', payload: typingEventSchema },
  CHAT_STOP_TYPING: { summary: 'A member stopped typing.', to: 'the other members', payload: typingEventSchema },
  MESSAGE_READ: { summary: "A member's read position moved.", to: "the original sender (direct) or the other members' devices (group)", payload: messageReadEventSchema },
  MESSAGE_DELIVERED: { summary: 'A recipient device has the message.', to: "the sender's devices", payload: messageDeliveredEventSchema },
  CONVERSATION_UPDATED: {
    summary: 'A group was created, renamed, or its members or roles changed; `change` says what.',
    to: 'every member (and once to a removed member)',
    payload: conversationUpdatedEventSchema,
  },
  MESSAGE_EDIT: { summary: 'A message as edited.', to: "every member's devices", payload: messageEditEventSchema },
  MESSAGE_DELETE: {
    summary: 'A message deleted for everyone (the tombstone) or hidden by the user on another device.',
    to: "every member's devices (everyone) or the user's other devices (me)",
    payload: messageDeleteEventSchema,
  },
  MESSAGE_REACTION: { summary: "A message's reactions changed: keep the state with the highest revision.", to: "every member's devices", payload: messageReactionEventSchema },
  PRESENCE: { summary: 'A subscribed contact came online or went offline.', to: 'sockets subscribed to that user', payload: presenceEventSchema },
  CALL_REQUEST: {
    summary: 'An incoming 1:1 call (with the offer) or group call (negotiated after joining).',
    to: "every device of the callee, or of every member but the starter",
    payload: z.union([incomingCallEventSchema, incomingGroupCallEventSchema]),
  },
  CALL_ACCEPT: { summary: 'The callee accepted, with its answer.', to: "the caller's device in the call", payload: callAcceptedEventSchema },
  CALL_REJECT: { summary: 'The callee rejected (1:1) or a member declined (group).', to: 'the caller, or the participants', payload: z.union([callIdEventSchema, callDeclinedEventSchema]) },
  CALL_PARTICIPANT_JOINED: { summary: 'A device joined the group call.', to: 'the other participants', payload: participantEventSchema },
  CALL_PARTICIPANT_LEFT: { summary: 'A device left the group call.', to: 'the other participants', payload: participantLeftEventSchema },
  CALL_PARTICIPANT_STATE: { summary: "A participant's mute, camera or connection state changed.", to: 'the other participants', payload: participantEventSchema },
  CALL_ENDED: { summary: 'The call is over for this device, and why.', to: 'the other party, other ringing devices (`answered_elsewhere`), or a removed member', payload: callEndedEventSchema },
  CALL_BUSY: { summary: 'The callee is already ringing or in a call (or a device declared busy).', to: 'the caller', payload: callIdEventSchema },
  CALL_TIMEOUT: { summary: 'Nobody answered within the ring timeout.', to: 'both parties', payload: callIdEventSchema },
  ICE_CANDIDATE: { summary: "The other side's trickled ICE candidate.", to: 'the other party, or the addressed participant device', payload: iceCandidateEventSchema },
  CALL_SIGNAL: {
    summary: "A peer's renegotiation (1:1, mesh), or the media server's description for one of this device's connections (SFU).",
    to: 'the addressed device',
    payload: z.union([callSignalEventSchema, sfuSignalEventSchema]),
  },
  CALL_STATE: {
    summary: 'The call this user is in, sent to a device that (re)connects, so its app can resume it.',
    to: 'the device that connected',
    payload: z.union([directCallStateEventSchema, groupCallResultSchema]),
  },
  E2EE_TO_DEVICE: { summary: "A to-device message for this session's device; it stays queued until acknowledged.", to: 'the addressed session', payload: toDeviceEventSchema },
  E2EE_DEVICES_CHANGED: { summary: "A user's device list changed: show a safety-number change when `identityChanged`.", to: 'the owner and the users sharing a conversation with them', payload: devicesChangedEventSchema },
  E2EE_PREKEYS_LOW: { summary: 'Fewer one-time prekeys than the threshold are left: upload more.', to: 'the device alone', payload: preKeysLowEventSchema },
};
