import type { CallSignalInput, IceCandidateInput } from '../protocol/call-events.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { CallTopology } from './call-topology.js';
import type { LiveGroupCall, ParticipantDevice } from './live-group-calls.js';

/**
 * Peer to peer between every pair of participant devices: the server only relays each description and
 * candidate to the device it is addressed to. Glare cannot happen: of each pair, the device that joined
 * later makes every offer (the first one and ICE restarts) and the earlier one only answers; the server
 * refuses an offer or answer sent the other way.
 */
export class MeshTopology implements CallTopology {
  readonly kind = 'mesh' as const;

  constructor(
    private readonly delivery: Pick<Delivery, 'toSockets'>,
    readonly maxParticipants: number,
  ) {}

  async signal(live: LiveGroupCall, from: ParticipantDevice, input: CallSignalInput): Promise<void> {
    const to = this.addressee(live, from, input.to);
    const offering = input.description.type === 'offer';
    if (offering !== from.joinOrder > to.joinOrder) {
      throw new AppError(
        'INVALID_STATE',
        offering ? 'In a mesh call the device that joined later offers: wait for its offer' : 'Only the device that joined earlier answers',
      );
    }
    if (to.connected) {
      this.delivery.toSockets([to.socketId], 'CALL_SIGNAL', { callId: live.call.id, description: input.description, from: from.userId, fromDevice: from.deviceId });
    }
  }

  async candidate(live: LiveGroupCall, from: ParticipantDevice, input: IceCandidateInput): Promise<void> {
    const to = this.addressee(live, from, input.to);
    if (to.connected) {
      this.delivery.toSockets([to.socketId], 'ICE_CANDIDATE', { callId: live.call.id, candidate: input.candidate, from: from.userId, fromDevice: from.deviceId });
    }
  }

  // Each device negotiates with each other one: nothing is set up or torn down beside the pairs.
  async joined(): Promise<void> {}
  async left(): Promise<void> {}
  async ended(): Promise<void> {}

  private addressee(live: LiveGroupCall, from: ParticipantDevice, deviceId: string | undefined): ParticipantDevice {
    if (deviceId === undefined) {
      throw new AppError('VALIDATION_FAILED', 'Name the participant device it is for', { details: [{ path: 'to', message: 'required in a mesh call' }] });
    }
    const to = live.participants.find((participant) => participant.deviceId === deviceId);
    if (!to || to === from) throw new AppError('NOT_FOUND', 'No such participant device in the call');
    return to;
  }
}
