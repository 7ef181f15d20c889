import { callAcceptPayload, callIdPayload, callRequestPayload, callSignalPayload, iceCandidatePayload } from '../protocol/call-events.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import type { CallService } from './call-service.js';
import type { Device } from './live-calls.js';

/** The call events of every connection, each parsed and acknowledged by realtime.handle and decided by CallService. */
export function registerCallEvents(realtime: RealtimeServer, calls: CallService): void {
  realtime.onConnection((socket) => {
    const { userId, sessionId } = socket.data.principal;
    const device: Device = { userId, sessionId, socketId: socket.id };

    realtime.handle(socket, 'CALL_REQUEST', callRequestPayload, async (input) => ({ call: await calls.request(device, input) }));
    realtime.handle(socket, 'CALL_ACCEPT', callAcceptPayload, async (input) => ({ call: await calls.accept(device, input) }));
    realtime.handle(socket, 'CALL_REJECT', callIdPayload, async ({ callId }) => ({ call: await calls.reject(device, callId) }));
    realtime.handle(socket, 'CALL_BUSY', callIdPayload, async ({ callId }) => ({ call: await calls.declareBusy(device, callId) }));
    realtime.handle(socket, 'CALL_ENDED', callIdPayload, async ({ callId }) => ({ call: await calls.hangUp(device, callId) }));
    realtime.handle(socket, 'ICE_CANDIDATE', iceCandidatePayload, async (input) => {
      await calls.relayCandidate(device, input);
      return {};
    });
    realtime.handle(socket, 'CALL_SIGNAL', callSignalPayload, async (input) => {
      await calls.relaySignal(device, input);
      return {};
    });

    realtime.track(socket, 'call device update', calls.deviceConnected(device));
    socket.on('disconnect', () => realtime.track(socket, 'call device update', calls.deviceDisconnected(device)));
  });
}
