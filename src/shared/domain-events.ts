import { EventEmitter } from 'node:events';
import type { CallEndedNoticeReason, CallProgress, CallType } from '../calls/call-state-machine.js';
import type { QualityBand } from '../protocol/call-quality.js';
import type { UserStatus } from '../storage/ports.js';

/**
 * Facts one feature announces and others react to (a ban disconnects sockets, for instance), without
 * the features importing each other. This is an in-memory emitter; the facts in RELAYED_EVENTS also reach
 * every other process (see ScaleOut.relay).
 */
export interface DomainEventMap {
  /** An account's role or status changed; when it is no longer active, end everything it has open. */
  accountChanged: [{ userId: string; status: UserStatus }];
  /** These sessions can no longer be used. */
  sessionsRevoked: [{ userId: string; sessionIds: string[] }];
  /**
   * Users joined or left a group: the change is stored and their connected devices (on every process)
   * were moved in or out of its room. Devices still in their handshake were not (see conversation-rooms.ts).
   */
  groupMembersChanged: [{ conversationId: string; joinedIds: string[]; leftIds: string[] }];
  /** A block between two users was made or lifted (stored): what was known of the pair is stale. */
  blocksChanged: [{ blockerId: string; blockedId: string }];
  /**
   * A process's link to the others was cut and is back: what was said between them meanwhile (room joins
   * and leaves, the events above) may never have arrived, so state kept from it is read again.
   */
  relayResumed: [{ at: string }];
  /*
   * The events below are facts of this process only, each emitted once its change is stored: they must
   * never be relayed to other processes (as RELAYED_EVENTS above are), since every process that heard
   * one would push it again.
   */
  /**
   * A new chat message (not a retry) was stored and sent to the connected devices of its conversation's
   * members: the other party of a direct conversation (`recipientId`), or a group's members.
   */
  messageStored: [
    {
      messageId: string;
      conversationId: string;
      senderId: string;
      /** The other party of a direct message; null in a group. */
      recipientId: string | null;
      /** Empty when the message is encrypted. */
      text: string;
      /** End-to-end encrypted: a push says "New message" only. */
      encrypted: boolean;
      createdAt: Date;
    },
  ];
  /**
   * Messages were deleted for everyone: their content is erased and every member's devices were told.
   * What else belongs to them (attachments) goes now.
   */
  messagesDeleted: [{ conversationId: string; messageIds: string[] }];
  /** A call was stored ringing and rang the callee's connected devices. */
  callRang: [{ callId: string; callType: CallType; calleeId: string; caller: { id: string; name: string }; ringTimeoutMs: number }];
  /**
   * A call that rang for the callee stopped ringing: it ended before the callee answered (`missed` when
   * the callee did not answer in time), or one of the callee's devices answered it (answered_elsewhere).
   */
  callStoppedRinging: [{ callId: string; calleeId: string; callerId: string; reason: CallEndedNoticeReason; missed: boolean }];
  /** A group call was stored and rang the other members' connected devices. */
  groupCallRang: [
    { callId: string; callType: CallType; conversationId: string; title: string; caller: { id: string; name: string }; memberIds: string[]; ringTimeoutMs: number },
  ];
  /** A group call stopped ringing for these members: one of their devices joined or declined, they were removed, or the ring is over. */
  groupCallStoppedRinging: [{ callId: string; userIds: string[]; reason: CallEndedNoticeReason }];
  /** A party's quality report of a call was stored: its device's summary as it now stands. */
  callQualityReported: [
    { callId: string; userId: string; mos: number; band: QualityBand; rttMs: number | null; jitterMs: number | null; packetLossPct: number | null; relayed: boolean },
  ];
  /** A call, 1:1 or group, was answered (its first answer, for a group call). */
  callAnswered: [CallChange];
  /** A call, 1:1 or group, reached its final status: stored, or told while its storing is retried. */
  callEnded: [CallChange];
}

/** A call as callAnswered and callEnded tell it. */
export interface CallChange {
  kind: 'direct' | 'group';
  call: CallProgress & { id: string; type: CallType; createdAt: Date };
}

/**
 * The facts every process must hear, wherever they were emitted: with several processes the scale-out
 * relay carries them to the others (and the account-events feed carries the first two, also from the CLI).
 */
export const RELAYED_EVENTS = ['accountChanged', 'sessionsRevoked', 'groupMembersChanged', 'blocksChanged', 'relayResumed'] as const satisfies readonly (keyof DomainEventMap)[];
export type RelayedEvent = (typeof RELAYED_EVENTS)[number];

export class DomainEvents extends EventEmitter<DomainEventMap> {
  /** Payloads announced here after another process announced them first. */
  private readonly heard = new WeakSet<object>();

  constructor() {
    super({ captureRejections: true });
  }

  /**
   * Announces here a fact that another process announced first (heard through the relay or read from
   * the account-events feed). A relay does not pass it on again (see heardFromElsewhere).
   */
  emitHeard<K extends RelayedEvent>(event: K, payload: DomainEventMap[K][0]): void {
    this.heard.add(payload);
    (this.emit as (event: K, payload: DomainEventMap[K][0]) => boolean)(event, payload);
  }

  heardFromElsewhere(payload: object): boolean {
    return this.heard.has(payload);
  }
}

export function createDomainEvents(): DomainEvents {
  return new DomainEvents();
}
