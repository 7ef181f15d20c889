import type { GroupCallResult, ParticipantDto } from '../protocol/call-events.js';
import type { GroupCallDto } from '../protocol/calls.js';
import { secondsInCall, type GroupCallRecord } from './group-call-state-machine.js';
import type { LiveGroupCall, ParticipantDevice } from './live-group-calls.js';

/** `now` counts the time of those still in the call. */
export function presentGroupCall(call: GroupCallRecord, now: Date): GroupCallDto {
  const joined = call.members.flatMap((member) => (member.joinedAt === null ? [] : [{ member, joinedAt: member.joinedAt }]));
  joined.sort((a, b) => a.joinedAt.getTime() - b.joinedAt.getTime());
  return {
    id: call.id,
    conversationId: call.conversationId,
    callerId: call.startedBy,
    type: call.type,
    status: call.status,
    topology: call.topology,
    createdAt: call.createdAt.toISOString(),
    answeredAt: call.answeredAt?.toISOString() ?? null,
    endedAt: call.endedAt?.toISOString() ?? null,
    durationSeconds: call.durationSeconds,
    endReason: call.endReason,
    participants: joined.map(({ member, joinedAt }) => ({
      userId: member.userId,
      joinedAt: joinedAt.toISOString(),
      leftAt: member.inCallSince === null ? (member.leftAt?.toISOString() ?? null) : null,
      durationSeconds: secondsInCall(member, call.endedAt ?? now),
    })),
  };
}

export function presentParticipant(participant: ParticipantDevice): ParticipantDto {
  return {
    userId: participant.userId,
    deviceId: participant.deviceId,
    joinOrder: participant.joinOrder,
    joinedAt: participant.joinedAt.toISOString(),
    muted: participant.muted,
    camera: participant.camera,
    connection: participant.connected ? 'connected' : 'reconnecting',
  };
}

/** What a device in the call is told about it: on joining, and again after reconnecting. */
export function presentJoined(live: LiveGroupCall, you: ParticipantDevice, now: Date): GroupCallResult {
  return {
    call: presentGroupCall(live.call, now),
    you: presentParticipant(you),
    participants: live.participants.map(presentParticipant),
    topology: live.call.topology,
  };
}
