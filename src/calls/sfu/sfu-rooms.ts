import type { IceCandidate, SessionDescription, SfuConnection } from '../../protocol/call-events.js';

/**
 * A participant device's two connections with the SFU: `publish` carries its media to the SFU (the
 * device offers, the SFU answers); `subscribe` carries the others' media to it (the SFU offers, the
 * device answers). Trickled candidates say which of the two they belong to.
 */
export type { SfuConnection };

/** One media stream of a device's subscription: the `mid` in the SFU's offer that carries `device`'s audio or video. */
export interface SfuStream {
  mid: string;
  device: string;
  kind: 'audio' | 'video';
}

/** What a room tells the call's lifecycle about one device, to relay or act on. */
export type SfuRoomEvent =
  /** A new description for the device's `subscribe` connection (others started or stopped publishing): relay it, then pass the device's answer to answerSubscription. */
  | { type: 'subscription-offer'; device: string; offer: SessionDescription }
  /** One of the device's connections with the SFU came up, or went down (ICE or DTLS failed, or it hung up). */
  | { type: 'connection'; device: string; connection: SfuConnection; up: boolean };

/**
 * One call's room on the SFU. `device` is the lifecycle's key for a participant's device (its
 * per-join `deviceId`); the room never sees users. Every method rejects with an SfuError (an AppError
 * whose wire form hides what the SFU said).
 */
export interface SfuRoom {
  readonly callId: string;
  /** The device's offer for its `publish` connection; resolves with the SFU's answer. A second call renegotiates (ICE restart, video added). */
  publish(device: string, offer: SessionDescription): Promise<SessionDescription>;
  /**
   * Starts the device receiving the others' media: resolves with the SFU's offer for its `subscribe`
   * connection, or null when nobody else publishes yet (the offer then comes as a `subscription-offer`
   * event once someone does).
   */
  subscribe(device: string): Promise<SessionDescription | null>;
  /** Whose media each stream of the device's latest `subscribe` offer carries (its own never). */
  streams(device: string): SfuStream[];
  /**
   * The device came back after its signaling dropped: resolves with an offer for its `subscribe`
   * connection to answer, or null when it receives nothing yet. That is a fresh offer with an ICE
   * restart, or, when an offer was out unanswered (perhaps lost), that same offer again, the restart
   * then following its answer as a `subscription-offer` event.
   */
  restartSubscription(device: string): Promise<SessionDescription | null>;
  /** The device's answer to the latest offer for its `subscribe` connection. */
  answerSubscription(device: string, answer: SessionDescription): Promise<void>;
  /** A candidate of one of the device's connections; `candidate: ''` is end-of-candidates. */
  trickle(device: string, connection: SfuConnection, candidate: IceCandidate): Promise<void>;
  /** The device leaves: its connections close and the others stop receiving it. Idempotent. */
  leave(device: string): Promise<void>;
  /** Ends the room on the SFU and every connection in it. Idempotent. */
  destroy(): Promise<void>;
}

/** Why every room went away at once: the SFU stopped answering, restarted, or dropped our session. */
export type SfuLostReason = 'unreachable' | 'restarted' | 'expired';

/** What a process needs to take over the rooms another let go of: JSON, read only by the same implementation. */
export type SfuHandover = Record<string, unknown>;

export interface SfuRooms {
  /** A new private room for the call, for at most `maxParticipants` publishing devices. */
  create(callId: string, options: { maxParticipants: number; onEvent: (event: SfuRoomEvent) => void }): Promise<SfuRoom>;
  /** Destroys the room a process that is gone made for the call, if the SFU still has it. */
  destroyLeftover(callId: string): Promise<void>;
  /**
   * Lets go of every room without ending any (media keeps flowing through the SFU), for another
   * process to adopt; undefined when there is none. The rooms are then no longer this process's.
   */
  release(): Promise<SfuHandover | undefined>;
  /** Takes over the rooms another process released; each room's events go to `onEvent` with its call id. */
  adopt(handover: SfuHandover, onEvent: (callId: string, event: SfuRoomEvent) => void): Promise<SfuRoom[]>;
  /** Destroys every room and ends the session (shutdown). */
  close(): Promise<void>;
}
