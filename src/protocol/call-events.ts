import { z } from 'zod';
import { CALL_END_REASONS, CALL_TYPES } from '../calls/call-state-machine.js';
import { PARTICIPANT_LEFT_REASONS } from '../calls/group-call-state-machine.js';
import type { ClientEvent } from './ack.js';
import { CALL_TOPOLOGIES, callSchema, groupCallSchema } from './calls.js';
import { idSchema, maxBytesString, timestampSchema, wireIdSchema } from './common.js';

/** The contract's limits: beyond them an event is refused with PAYLOAD_TOO_LARGE. */
export const SDP_MAX_BYTES = 64 * 1024;
export const ICE_CANDIDATE_MAX_BYTES = 2 * 1024;

const sdp = maxBytesString(SDP_MAX_BYTES);

/** An RTCSessionDescriptionInit as browsers serialise it. */
const description = <T extends 'offer' | 'answer'>(type: T) => z.object({ type: z.literal(type), sdp });

export const sessionDescriptionSchema = z.object({ type: z.enum(['offer', 'answer']), sdp });

/** An RTCIceCandidateInit as browsers serialise it; an empty `candidate` means end of candidates. */
export const iceCandidateSchema = z.object({
  candidate: maxBytesString(ICE_CANDIDATE_MAX_BYTES),
  sdpMid: z.string().max(64).nullish(),
  sdpMLineIndex: z.number().int().min(0).max(1023).nullish(),
  usernameFragment: z.string().max(256).nullish(),
});

export const directCallRequestPayload = z.object({ to: idSchema, type: z.enum(CALL_TYPES), offer: description('offer').optional() });
/** A group call: every other member of the group rings; the media is negotiated after joining. */
export const groupCallRequestPayload = z.object({ conversationId: idSchema, type: z.enum(CALL_TYPES) });

/**
 * CALL_REQUEST is a group call when it names a `conversationId`, else a 1:1 call `to` a user; each is
 * validated as what it is, so a malformed request's details name its own fields.
 */
const taggedDirectRequest = directCallRequestPayload.transform((input) => ({ kind: 'direct' as const, ...input }));
const taggedGroupRequest = groupCallRequestPayload.transform((input) => ({ kind: 'group' as const, ...input }));
/** The two shapes CALL_REQUEST takes, as the event reference shows them; callRequestPayload validates each as what it is. */
export const callRequestShapes = z.union([directCallRequestPayload, groupCallRequestPayload]);
export const callRequestPayload = z.unknown().transform((value, context) => {
  const isGroup = typeof value === 'object' && value !== null && 'conversationId' in value;
  const parsed = isGroup ? taggedGroupRequest.safeParse(value) : taggedDirectRequest.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) context.addIssue({ ...issue });
  return z.NEVER;
});
export const callAcceptPayload = z.object({ callId: idSchema, answer: description('answer').optional() });
/** CALL_REJECT, CALL_ENDED and CALL_BUSY from a client name the call only. */
export const callIdPayload = z.object({ callId: idSchema });
/**
 * A device's two connections in an SFU call: `publish` carries its media to the media server (the
 * device offers), `subscribe` the others' media to it (the media server offers).
 */
export const SFU_CONNECTIONS = ['publish', 'subscribe'] as const;
export type SfuConnection = (typeof SFU_CONNECTIONS)[number];

/**
 * `to`: in a mesh group call, the participant device it is for (a `deviceId` from the participant
 * list); 1:1 calls have one other device and need none. `connection`: in an SFU group call, which of
 * the device's connections it belongs to. Each is required where it applies and ignored elsewhere.
 */
export const iceCandidatePayload = z.object({ callId: idSchema, candidate: iceCandidateSchema, to: idSchema.optional(), connection: z.enum(SFU_CONNECTIONS).optional() });
export const callSignalPayload = z.object({ callId: idSchema, description: sessionDescriptionSchema, to: idSchema.optional(), connection: z.enum(SFU_CONNECTIONS).optional() });
/** A participant's own media state, relayed to the others. */
export const participantStatePayload = z.object({ callId: idSchema, muted: z.boolean(), camera: z.boolean() });

export type SessionDescription = z.output<typeof sessionDescriptionSchema>;
export type IceCandidate = z.output<typeof iceCandidateSchema>;
export type CallRequestPayload = z.input<typeof directCallRequestPayload> | z.input<typeof groupCallRequestPayload>;
export type ParticipantStatePayload = z.input<typeof participantStatePayload>;
export type ParticipantStateInput = z.output<typeof participantStatePayload>;
export type CallAcceptPayload = z.input<typeof callAcceptPayload>;
export type CallIdPayload = z.input<typeof callIdPayload>;
export type IceCandidatePayload = z.input<typeof iceCandidatePayload>;
export type CallSignalPayload = z.input<typeof callSignalPayload>;
export type CallRequestInput = z.output<typeof directCallRequestPayload>;
export type GroupCallRequestInput = z.output<typeof groupCallRequestPayload>;
export type CallAcceptInput = z.output<typeof callAcceptPayload>;
export type IceCandidateInput = z.output<typeof iceCandidatePayload>;
export type CallSignalInput = z.output<typeof callSignalPayload>;

export const callParticipantSchema = z.object({ id: wireIdSchema, name: z.string() });

/** An incoming call, on every device of the callee. */
export const incomingCallEventSchema = z.object({ call: callSchema, from: callParticipantSchema, offer: sessionDescriptionSchema.nullable() });

/** An incoming group call, on every device of every member but the one who started it. */
export const incomingGroupCallEventSchema = z.object({
  call: groupCallSchema,
  from: callParticipantSchema,
  conversation: z.object({ id: wireIdSchema, title: z.string() }),
  offer: z.null().meta({ description: 'Group calls are negotiated after joining, pair by pair or with the SFU.' }),
});

/** One device in a group call, as the others see it. */
export const participantSchema = z.object({
  userId: wireIdSchema,
  deviceId: wireIdSchema.meta({ description: "The device's address for CALL_SIGNAL and ICE_CANDIDATE `to`; a new one each time it joins." }),
  joinOrder: z.int().min(0).meta({ description: 'The order of joining: in a mesh, of two devices the one with the higher `joinOrder` offers.' }),
  joinedAt: timestampSchema,
  muted: z.boolean(),
  camera: z.boolean(),
  connection: z.enum(['connected', 'reconnecting']).meta({ description: '`reconnecting` while its connection is down and the reconnect grace runs.' }),
});

/** The acknowledgement of a group CALL_REQUEST and of CALL_JOIN, and CALL_STATE after a reconnect. */
export const groupCallResultSchema = z.object({
  call: groupCallSchema,
  you: participantSchema.meta({ description: 'This device in the call.' }),
  participants: z.array(participantSchema).meta({ description: 'Everyone in the call (you included), by joinOrder.' }),
  topology: z.enum(CALL_TOPOLOGIES),
});

export const participantsResultSchema = z.object({ call: groupCallSchema, participants: z.array(participantSchema) });

export const participantEventSchema = z.object({ callId: wireIdSchema, participant: participantSchema });

export const participantLeftEventSchema = z.object({ callId: wireIdSchema, userId: wireIdSchema, deviceId: wireIdSchema, reason: z.enum(PARTICIPANT_LEFT_REASONS) });

/** A member declined a group call (to its participants). */
export const callDeclinedEventSchema = z.object({ callId: wireIdSchema, userId: wireIdSchema });

export const callAcceptedEventSchema = z.object({ callId: wireIdSchema, answer: sessionDescriptionSchema.nullable() });

export const callIdEventSchema = z.object({ callId: wireIdSchema });

/**
 * What a party's devices are told the call ended with: a stored end reason, or `answered_elsewhere`
 * (another device of the callee accepted) or `removed` (a member removed from the group), never stored.
 */
export const callEndedEventSchema = z.object({ callId: wireIdSchema, reason: z.enum([...CALL_END_REASONS, 'answered_elsewhere', 'removed']) });

export const iceCandidateEventSchema = z.object({
  callId: wireIdSchema,
  candidate: iceCandidateSchema,
  from: wireIdSchema.meta({ description: 'The user who sent it.' }),
  fromDevice: wireIdSchema.optional().meta({ description: 'In a group call, the sending participant device (answer it with `to`).' }),
});

export const callSignalEventSchema = z.object({ callId: wireIdSchema, description: sessionDescriptionSchema, from: wireIdSchema, fromDevice: wireIdSchema.optional() });

/** In an SFU group call: the media server's description for one of this device's connections. */
export const sfuSignalEventSchema = z.object({
  callId: wireIdSchema,
  description: sessionDescriptionSchema,
  connection: z.enum(SFU_CONNECTIONS),
  streams: z
    .array(z.object({ mid: z.string(), deviceId: wireIdSchema, kind: z.enum(['audio', 'video']) }))
    .optional()
    .meta({ description: "With a `subscribe` offer: which participant device's audio or video each `mid` of it carries." }),
});

/** Sent to a party's device that (re)connects while the party is in a call, so its app can resume it. */
export const directCallStateEventSchema = z.object({ call: callSchema, peer: callParticipantSchema });

/** The acknowledgement of every event that changes a call: the call as stored afterwards. */
export const callResultSchema = z.object({ call: callSchema });

export const groupCallAckSchema = z.object({ call: groupCallSchema });

export type CallParticipant = z.infer<typeof callParticipantSchema>;
export type IncomingCallEvent = z.infer<typeof incomingCallEventSchema>;
export type IncomingGroupCallEvent = z.infer<typeof incomingGroupCallEventSchema>;
export type ParticipantDto = z.infer<typeof participantSchema>;
export type GroupCallResult = z.infer<typeof groupCallResultSchema>;
export type ParticipantsResult = z.infer<typeof participantsResultSchema>;
export type ParticipantEvent = z.infer<typeof participantEventSchema>;
export type ParticipantLeftEvent = z.infer<typeof participantLeftEventSchema>;
export type CallDeclinedEvent = z.infer<typeof callDeclinedEventSchema>;
export type CallAcceptedEvent = z.infer<typeof callAcceptedEventSchema>;
export type CallIdEvent = z.infer<typeof callIdEventSchema>;
export type CallEndedEvent = z.infer<typeof callEndedEventSchema>;
export type IceCandidateEvent = z.infer<typeof iceCandidateEventSchema>;
export type CallSignalEvent = z.infer<typeof callSignalEventSchema>;
export type SfuSignalEvent = z.infer<typeof sfuSignalEventSchema>;
export type DirectCallStateEvent = z.infer<typeof directCallStateEventSchema>;
export type CallStateEvent = DirectCallStateEvent | GroupCallResult;
export type CallResult = z.infer<typeof callResultSchema>;
export type GroupCallAck = z.infer<typeof groupCallAckSchema>;

/** Call signaling events (CONTRACT.md "Call events", plus CALL_SIGNAL and CALL_STATE); documented in docs/api/calls.md. */
export interface CallClientEvents {
  /** A 1:1 call (`to`) answers CallResult, a group call (`conversationId`) GroupCallResult. */
  CALL_REQUEST: ClientEvent<CallRequestPayload, CallResult | GroupCallResult>;
  /** Joining a group call (the group's members only). */
  CALL_JOIN: ClientEvent<CallIdPayload, GroupCallResult>;
  /** Who is in a group call now. */
  CALL_PARTICIPANTS: ClientEvent<CallIdPayload, ParticipantsResult>;
  /** This device's mute and camera state in a group call. */
  CALL_PARTICIPANT_STATE: ClientEvent<ParticipantStatePayload>;
  CALL_ACCEPT: ClientEvent<CallAcceptPayload, CallResult>;
  /** In a group call: declines it (a rung member). */
  CALL_REJECT: ClientEvent<CallIdPayload, CallResult | GroupCallAck>;
  /** In a group call: leaves it (a participant). */
  CALL_ENDED: ClientEvent<CallIdPayload, CallResult | GroupCallAck>;
  CALL_BUSY: ClientEvent<CallIdPayload, CallResult>;
  ICE_CANDIDATE: ClientEvent<IceCandidatePayload>;
  /** Renegotiation once the call is accepted: an ICE restart, or adding or removing video. */
  CALL_SIGNAL: ClientEvent<CallSignalPayload>;
}

export interface CallServerEvents {
  CALL_REQUEST: (payload: IncomingCallEvent | IncomingGroupCallEvent) => void;
  CALL_ACCEPT: (payload: CallAcceptedEvent) => void;
  CALL_REJECT: (payload: CallIdEvent | CallDeclinedEvent) => void;
  CALL_PARTICIPANT_JOINED: (payload: ParticipantEvent) => void;
  CALL_PARTICIPANT_LEFT: (payload: ParticipantLeftEvent) => void;
  /** A participant's mute, camera or connection state changed. */
  CALL_PARTICIPANT_STATE: (payload: ParticipantEvent) => void;
  CALL_ENDED: (payload: CallEndedEvent) => void;
  CALL_BUSY: (payload: CallIdEvent) => void;
  CALL_TIMEOUT: (payload: CallIdEvent) => void;
  ICE_CANDIDATE: (payload: IceCandidateEvent) => void;
  CALL_SIGNAL: (payload: CallSignalEvent | SfuSignalEvent) => void;
  CALL_STATE: (payload: CallStateEvent) => void;
}
