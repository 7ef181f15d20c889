/**
 * The life of one group call as a pure state machine, beside the 1:1 one (call-state-machine.ts), whose
 * vocabulary it shares: the call types, statuses, end reasons, the duration rule (whole seconds from the
 * first answer to the end; null when nobody answered) and the order of refusals. A group call has no
 * fixed roles: a starter, the members who were rung, and whoever is in the call right now.
 *
 *   ringing  (only the starter is in; the members' devices ring)
 *     --join (a member)--------------------------------------> accepted   (answeredAt: the first join)
 *     --leave (the starter, the last one in)-----------------> cancelled  reason cancelled, or connection_lost
 *     --decline (the last member who had not declined)-------> rejected   reason rejected
 *     --ring_timeout-----------------------------------------> missed     reason timeout
 *   accepted (anyone may join, leave and join again while someone is in)
 *     --leave (the last one in)------------------------------> ended      reason hangup, or connection_lost
 *     --ring_timeout-----------------------------------------> accepted   (the ring stops; joining still works)
 *   ringing | accepted --server_restart-----------------------> failed     reason server_restart
 *   ringing | accepted --media_server_lost--------------------> failed     reason media_server_lost (SFU calls)
 *
 * A leave that is not the last one, a join while accepted and a decline while accepted keep the status.
 * Refusals, in this order: a final status allows nothing (INVALID_STATE); a join when already in, a
 * leave when not in, a decline when in or already declined (INVALID_STATE); a join beyond the
 * participant limit (CALL_FULL). Whether the actor is a member of the conversation is the service's
 * check, made before: the machine lists whoever joins.
 *
 * Each member is listed once, with the first time they joined, the last time they left and the time they
 * spent in the call over every stretch, so a member who drops and comes back is never listed twice.
 */
import type { CallTopologyKind } from '../protocol/calls.js';
import type { CallEndReason, CallProgress, CallType, FinalCallStatus } from './call-state-machine.js';
import { isFinalStatus } from './call-state-machine.js';

export interface GroupCallMember {
  userId: string;
  /** When they first joined; null for a member who was rung and never joined. */
  joinedAt: Date | null;
  /** When they last left; null while they are in the call, or if they never joined. */
  leftAt: Date | null;
  /** When their present stretch in the call began; null when they are not in it. */
  inCallSince: Date | null;
  /** Milliseconds in the call over the stretches that are over. */
  msInCall: number;
  declinedAt: Date | null;
}

/** Its `answeredAt` is when the first member besides the starter joined. */
export interface GroupCallRecord extends CallProgress {
  id: string;
  conversationId: string;
  startedBy: string;
  type: CallType;
  /** How its media flows, chosen when it starts. */
  topology: CallTopologyKind;
  createdAt: Date;
  /** Counts the transitions that changed the record: stored as a compare-and-set on it. */
  revision: number;
  /** The starter first, then the members rung, then anyone who joined later, each once. */
  members: GroupCallMember[];
}

/** Why a participant is no longer in the call, as the others are told. */
export const PARTICIPANT_LEFT_REASONS = ['left', 'connection_lost', 'removed'] as const;
export type ParticipantLeftReason = (typeof PARTICIPANT_LEFT_REASONS)[number];

export type GroupCallEvent =
  | { type: 'join'; userId: string; maxParticipants: number }
  /** CALL_ENDED from a participant, their device gone past the grace, or their removal from the group. */
  | { type: 'leave'; userId: string; reason: ParticipantLeftReason }
  /** CALL_REJECT from a rung member. */
  | { type: 'decline'; userId: string }
  | { type: 'ring_timeout' }
  | { type: 'server_restart' }
  /** The SFU that carried the call's media is gone: nobody can hear anybody any more. */
  | { type: 'media_server_lost' };

/**
 * What to tell, in domain words; the service maps each to its event and devices. `participants` are
 * those in the call after the transition, `ringing` the members still rung.
 */
export type GroupCallNotice =
  | { kind: 'joined'; userId: string }
  | { kind: 'left'; userId: string; reason: ParticipantLeftReason }
  | { kind: 'declined'; userId: string }
  /** The ring ran out: the call is missed, or (accepted) only the ring stops. */
  | { kind: 'timeout' }
  | { kind: 'ended'; reason: CallEndReason };

export type GroupTransitionErrorCode = 'INVALID_STATE' | 'CALL_FULL';

export type GroupTransitionResult =
  | { ok: true; call: GroupCallRecord; notices: GroupCallNotice[]; changedMembers: string[] }
  | { ok: false; code: GroupTransitionErrorCode; message: string };

export function createGroupCall(input: {
  id: string;
  conversationId: string;
  startedBy: string;
  memberIds: readonly string[];
  type: CallType;
  topology: CallTopologyKind;
  now: Date;
}): GroupCallRecord {
  const rung = [...new Set(input.memberIds)].filter((userId) => userId !== input.startedBy);
  return {
    id: input.id,
    conversationId: input.conversationId,
    startedBy: input.startedBy,
    type: input.type,
    topology: input.topology,
    status: 'ringing',
    createdAt: input.now,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    endReason: null,
    revision: 0,
    members: [
      { userId: input.startedBy, joinedAt: input.now, leftAt: null, inCallSince: input.now, msInCall: 0, declinedAt: null },
      ...rung.map((userId) => ({ userId, joinedAt: null, leftAt: null, inCallSince: null, msInCall: 0, declinedAt: null })),
    ],
  };
}

export function isInCall(member: GroupCallMember): boolean {
  return member.inCallSince !== null;
}

/** The users in the call now. */
export function participantIds(call: GroupCallRecord): string[] {
  return call.members.filter(isInCall).map((member) => member.userId);
}

/** Whole seconds a member spent in the call, up to `now` for one still in it. */
export function secondsInCall(member: GroupCallMember, now: Date): number {
  const current = member.inCallSince === null ? 0 : now.getTime() - member.inCallSince.getTime();
  return Math.floor((member.msInCall + Math.max(0, current)) / 1000);
}

function refused(code: GroupTransitionErrorCode, message: string): GroupTransitionResult {
  return { ok: false, code, message };
}

function memberOf(call: GroupCallRecord, userId: string): GroupCallMember | undefined {
  return call.members.find((member) => member.userId === userId);
}

function withMember(call: GroupCallRecord, member: GroupCallMember): GroupCallRecord {
  const exists = call.members.some((entry) => entry.userId === member.userId);
  const members = exists ? call.members.map((entry) => (entry.userId === member.userId ? member : entry)) : [...call.members, member];
  return { ...call, members };
}

function leaving(member: GroupCallMember, now: Date): GroupCallMember {
  if (member.inCallSince === null) return member;
  return { ...member, inCallSince: null, leftAt: now, msInCall: member.msInCall + Math.max(0, now.getTime() - member.inCallSince.getTime()) };
}

/** The call over: everyone still in leaves at `now`. */
function finish(call: GroupCallRecord, status: FinalCallStatus, endReason: CallEndReason, now: Date): { call: GroupCallRecord; changedMembers: string[] } {
  const changedMembers = participantIds(call);
  const durationSeconds = call.answeredAt === null ? null : Math.max(0, Math.floor((now.getTime() - call.answeredAt.getTime()) / 1000));
  return {
    call: { ...call, status, endedAt: now, durationSeconds, endReason, members: call.members.map((member) => leaving(member, now)) },
    changedMembers,
  };
}

function changed(call: GroupCallRecord, notices: GroupCallNotice[], changedMembers: string[]): GroupTransitionResult {
  return { ok: true, call: { ...call, revision: call.revision + 1 }, notices, changedMembers };
}

export function transitionGroupCall(call: GroupCallRecord, event: GroupCallEvent, now: Date): GroupTransitionResult {
  if (isFinalStatus(call.status)) return refused('INVALID_STATE', `The call is already over (${call.status})`);
  switch (event.type) {
    case 'join': {
      const member = memberOf(call, event.userId);
      if (member && isInCall(member)) return refused('INVALID_STATE', 'You are already in the call');
      const inCall = participantIds(call).length;
      if (inCall >= event.maxParticipants) return refused('CALL_FULL', `The call is full: ${inCall} of ${event.maxParticipants} participants`);
      const joined: GroupCallMember = {
        ...(member ?? { userId: event.userId, leftAt: null, msInCall: 0, declinedAt: null }),
        joinedAt: member?.joinedAt ?? now,
        leftAt: null,
        inCallSince: now,
      };
      const next = withMember(call, joined);
      const answered = call.status === 'ringing' && event.userId !== call.startedBy ? { status: 'accepted' as const, answeredAt: now } : {};
      return changed({ ...next, ...answered }, [{ kind: 'joined', userId: event.userId }], [event.userId]);
    }

    case 'leave': {
      const member = memberOf(call, event.userId);
      if (!member || !isInCall(member)) return refused('INVALID_STATE', 'You are not in the call');
      const next = withMember(call, leaving(member, now));
      if (participantIds(next).length > 0) return changed(next, [{ kind: 'left', userId: event.userId, reason: event.reason }], [event.userId]);
      const lost = event.reason === 'connection_lost';
      const over =
        call.status === 'ringing'
          ? finish(next, 'cancelled', lost ? 'connection_lost' : 'cancelled', now)
          : finish(next, 'ended', lost ? 'connection_lost' : 'hangup', now);
      return changed(over.call, [{ kind: 'ended', reason: over.call.endReason! }], [event.userId]);
    }

    case 'decline': {
      const member = memberOf(call, event.userId);
      if (member && isInCall(member)) return refused('INVALID_STATE', 'You are in the call: leave it with CALL_ENDED');
      if (member?.declinedAt) return refused('INVALID_STATE', 'You declined the call already');
      const declined: GroupCallMember = { ...(member ?? { userId: event.userId, joinedAt: null, leftAt: null, inCallSince: null, msInCall: 0 }), declinedAt: now };
      const next = withMember(call, declined);
      const notices: GroupCallNotice[] = [{ kind: 'declined', userId: event.userId }];
      const everyoneDeclined = next.members.every((entry) => entry.userId === call.startedBy || entry.declinedAt !== null);
      if (call.status !== 'ringing' || !everyoneDeclined) return changed(next, notices, [event.userId]);
      const over = finish(next, 'rejected', 'rejected', now);
      return changed(over.call, [...notices, { kind: 'ended', reason: 'rejected' }], [event.userId, ...over.changedMembers]);
    }

    case 'ring_timeout': {
      if (call.status === 'accepted') return { ok: true, call, notices: [{ kind: 'timeout' }], changedMembers: [] };
      const over = finish(call, 'missed', 'timeout', now);
      return changed(over.call, [{ kind: 'timeout' }], over.changedMembers);
    }

    case 'server_restart':
    case 'media_server_lost': {
      const over = finish(call, 'failed', event.type, now);
      return changed(over.call, [{ kind: 'ended', reason: event.type }], over.changedMembers);
    }
  }
}
