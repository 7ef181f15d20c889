import type { Delivery } from '../realtime/delivery.js';
import { presentParticipant } from './group-call-presenter.js';
import type { GroupCallNotice } from './group-call-state-machine.js';
import { ringingMembers, type LiveGroupCall, type ParticipantDevice } from './live-group-calls.js';

const connectedSockets = (participants: readonly ParticipantDevice[], except?: string) =>
  participants.filter((participant) => participant.connected && participant.socketId !== except).map((participant) => participant.socketId);

/**
 * Tells a group call's devices what a transition decided. `before` and `after` are the live call on
 * either side of it: participants hear of each other on their device in the call, rung members on
 * all their devices. The device whose event it was has its acknowledgement instead.
 */
export function deliverGroupNotices(
  delivery: Delivery,
  before: LiveGroupCall,
  after: LiveGroupCall,
  notices: readonly GroupCallNotice[],
  actingSocketId?: string,
): void {
  const callId = before.call.id;
  // Who still rang when the transition came, less whoever it took out of the ring (a join, a decline).
  const stillRinging = ringingMembers({ ...before, call: after.call });
  for (const notice of notices) {
    switch (notice.kind) {
      case 'joined': {
        const joined = after.participants.find((participant) => participant.userId === notice.userId);
        if (!joined) break;
        delivery.toSockets(connectedSockets(after.participants, joined.socketId), 'CALL_PARTICIPANT_JOINED', { callId, participant: presentParticipant(joined) });
        if (ringingMembers(before).includes(notice.userId)) {
          delivery.toUsers([notice.userId], 'CALL_ENDED', { callId, reason: 'answered_elsewhere' }, { exceptSocketId: joined.socketId });
        }
        break;
      }
      case 'left': {
        const gone = before.participants.find((participant) => participant.userId === notice.userId);
        if (!gone) break;
        delivery.toSockets(connectedSockets(after.participants), 'CALL_PARTICIPANT_LEFT', { callId, userId: gone.userId, deviceId: gone.deviceId, reason: notice.reason });
        if (notice.reason === 'removed') delivery.toUsers([gone.userId], 'CALL_ENDED', { callId, reason: 'removed' });
        break;
      }
      case 'declined':
        delivery.toSockets(connectedSockets(after.participants), 'CALL_REJECT', { callId, userId: notice.userId });
        delivery.toUsers([notice.userId], 'CALL_ENDED', { callId, reason: 'rejected' }, { exceptSocketId: actingSocketId });
        break;
      case 'timeout':
        // Missed: the starter's device too. Accepted: only the ring stops.
        delivery.toSockets(connectedSockets(after.participants.length === 0 ? before.participants : []), 'CALL_TIMEOUT', { callId });
        delivery.toUsers(stillRinging, 'CALL_TIMEOUT', { callId });
        break;
      case 'ended':
        delivery.toSockets(connectedSockets(before.participants, actingSocketId), 'CALL_ENDED', { callId, reason: notice.reason });
        delivery.toUsers(stillRinging, 'CALL_ENDED', { callId, reason: notice.reason }, { exceptSocketId: actingSocketId });
        break;
    }
  }
}
