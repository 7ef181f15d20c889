import { z } from 'zod';
import { CALL_TYPES, type CallEndedNoticeReason } from '../calls/call-state-machine.js';
import type { ClientEvent } from './ack.js';
import type { CallDto } from './calls.js';
import { idSchema, maxBytesString } from './common.js';

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

export const callRequestPayload = z.object({ to: idSchema, type: z.enum(CALL_TYPES), offer: description('offer').optional() });
export const callAcceptPayload = z.object({ callId: idSchema, answer: description('answer').optional() });
/** CALL_REJECT, CALL_ENDED and CALL_BUSY from a client name the call only. */
export const callIdPayload = z.object({ callId: idSchema });
export const iceCandidatePayload = z.object({ callId: idSchema, candidate: iceCandidateSchema });
export const callSignalPayload = z.object({ callId: idSchema, description: sessionDescriptionSchema });

export type SessionDescription = z.output<typeof sessionDescriptionSchema>;
export type IceCandidate = z.output<typeof iceCandidateSchema>;
export type CallRequestPayload = z.input<typeof callRequestPayload>;
export type CallAcceptPayload = z.input<typeof callAcceptPayload>;
export type CallIdPayload = z.input<typeof callIdPayload>;
export type IceCandidatePayload = z.input<typeof iceCandidatePayload>;
export type CallSignalPayload = z.input<typeof callSignalPayload>;
export type CallRequestInput = z.output<typeof callRequestPayload>;
export type CallAcceptInput = z.output<typeof callAcceptPayload>;
export type IceCandidateInput = z.output<typeof iceCandidatePayload>;
export type CallSignalInput = z.output<typeof callSignalPayload>;

export interface CallParticipant {
  id: string;
  name: string;
}

/** An incoming call, on every device of the callee. */
export interface IncomingCallEvent {
  call: CallDto;
  from: CallParticipant;
  offer: SessionDescription | null;
}

export interface CallAcceptedEvent {
  callId: string;
  answer: SessionDescription | null;
}

export interface CallIdEvent {
  callId: string;
}

export interface CallEndedEvent {
  callId: string;
  reason: CallEndedNoticeReason;
}

export interface IceCandidateEvent {
  callId: string;
  candidate: IceCandidate;
  /** The user who sent it. */
  from: string;
}

export interface CallSignalEvent {
  callId: string;
  description: SessionDescription;
  from: string;
}

/** Sent to a party's device that (re)connects while the party is in a call, so its app can resume it. */
export interface CallStateEvent {
  call: CallDto;
  peer: CallParticipant;
}

/** The acknowledgement of every event that changes a call: the call as stored afterwards. */
export interface CallResult {
  call: CallDto;
}

/** Call signaling events (CONTRACT.md "Call events", plus CALL_SIGNAL and CALL_STATE); documented in docs/api/calls.md. */
export interface CallClientEvents {
  CALL_REQUEST: ClientEvent<CallRequestPayload, CallResult>;
  CALL_ACCEPT: ClientEvent<CallAcceptPayload, CallResult>;
  CALL_REJECT: ClientEvent<CallIdPayload, CallResult>;
  CALL_ENDED: ClientEvent<CallIdPayload, CallResult>;
  CALL_BUSY: ClientEvent<CallIdPayload, CallResult>;
  ICE_CANDIDATE: ClientEvent<IceCandidatePayload>;
  /** Renegotiation once the call is accepted: an ICE restart, or adding or removing video. */
  CALL_SIGNAL: ClientEvent<CallSignalPayload>;
}

export interface CallServerEvents {
  CALL_REQUEST: (payload: IncomingCallEvent) => void;
  CALL_ACCEPT: (payload: CallAcceptedEvent) => void;
  CALL_REJECT: (payload: CallIdEvent) => void;
  CALL_ENDED: (payload: CallEndedEvent) => void;
  CALL_BUSY: (payload: CallIdEvent) => void;
  CALL_TIMEOUT: (payload: CallIdEvent) => void;
  ICE_CANDIDATE: (payload: IceCandidateEvent) => void;
  CALL_SIGNAL: (payload: CallSignalEvent) => void;
  CALL_STATE: (payload: CallStateEvent) => void;
}
