import {
  callAcceptPayload,
  callIdPayload,
  callRequestPayload,
  callSignalPayload,
  iceCandidatePayload,
  participantStatePayload,
} from '../protocol/call-events.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import { AppError } from '../shared/app-error.js';
import type { CallService } from './call-service.js';
import type { GroupCallService } from './group-call-service.js';
import type { Device } from './live-calls.js';

const joinInstead = () => new AppError('INVALID_STATE', 'A group call is joined with CALL_JOIN and left with CALL_ENDED');

/**
 * The call events of every connection, each parsed and acknowledged by realtime.handle and decided by
 * CallService (1:1 calls) or GroupCallService (group calls). Events that name a call go to the service
 * whose call it is. `processId` is this process's storage liveness id: the devices' sockets are held here.
 */
export function registerCallEvents(realtime: RealtimeServer, calls: CallService, groupCalls: GroupCallService, processId: string): void {
  realtime.onConnection((socket) => {
    const { userId, sessionId } = socket.data.principal;
    const device: Device = { userId, sessionId, socketId: socket.id, processId };
    const isGroup = (callId: string) => groupCalls.owns(callId);

    realtime.handle(socket, 'CALL_REQUEST', callRequestPayload, async (input) =>
      input.kind === 'group' ? groupCalls.request(device, input) : { call: await calls.request(device, input) },
    );
    realtime.handle(socket, 'CALL_ACCEPT', callAcceptPayload, async (input) => {
      if (await isGroup(input.callId)) throw joinInstead();
      return { call: await calls.accept(device, input) };
    });
    realtime.handle(socket, 'CALL_REJECT', callIdPayload, async ({ callId }) =>
      (await isGroup(callId)) ? groupCalls.decline(device, callId) : { call: await calls.reject(device, callId) },
    );
    realtime.handle(socket, 'CALL_BUSY', callIdPayload, async ({ callId }) => {
      if (await isGroup(callId)) throw joinInstead();
      return { call: await calls.declareBusy(device, callId) };
    });
    realtime.handle(socket, 'CALL_ENDED', callIdPayload, async ({ callId }) =>
      (await isGroup(callId)) ? groupCalls.leave(device, callId) : { call: await calls.hangUp(device, callId) },
    );
    realtime.handle(socket, 'ICE_CANDIDATE', iceCandidatePayload, async (input) => {
      await ((await isGroup(input.callId)) ? groupCalls.relayCandidate(device, input) : calls.relayCandidate(device, input));
      return {};
    });
    realtime.handle(socket, 'CALL_SIGNAL', callSignalPayload, async (input) => {
      await ((await isGroup(input.callId)) ? groupCalls.relaySignal(device, input) : calls.relaySignal(device, input));
      return {};
    });
    realtime.handle(socket, 'CALL_JOIN', callIdPayload, ({ callId }) => groupCalls.join(device, callId));
    realtime.handle(socket, 'CALL_PARTICIPANTS', callIdPayload, ({ callId }) => groupCalls.participants(device, callId));
    realtime.handle(socket, 'CALL_PARTICIPANT_STATE', participantStatePayload, async (input) => {
      await groupCalls.setState(device, input);
      return {};
    });

    realtime.track(socket, 'call device update', calls.deviceConnected(device));
    realtime.track(socket, 'group call device update', groupCalls.deviceConnected(device));
    socket.on('disconnect', () => {
      realtime.track(socket, 'call device update', calls.deviceDisconnected(device));
      realtime.track(socket, 'group call device update', groupCalls.deviceDisconnected(device));
    });
  });
}
