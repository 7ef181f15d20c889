import type { SessionDescription } from '../protocol/call-events.js';
import type { Delivery, ServerEvent, ServerEventPayload } from '../realtime/delivery.js';
import type { CallNotice } from './call-state-machine.js';
import type { LiveCall } from './live-calls.js';

type Send = <E extends ServerEvent>(event: E, payload: ServerEventPayload<E>) => void;

/**
 * Tells the parties what a transition decided, as the contract's events. A party's devices for a call
 * are the caller's calling device, and the callee's accepting device or, while the call rings, every
 * device of the callee. `live` is the call as it was before the transition. The device whose event
 * caused the notices is left out: it has its acknowledgement.
 */
export function deliverNotices(
  delivery: Delivery,
  live: LiveCall,
  notices: readonly CallNotice[],
  context: { actingSocketId?: string | undefined; answer?: SessionDescription | null } = {},
): void {
  const callId = live.call.id;
  for (const notice of notices) {
    const device = live[notice.to];
    const send: Send = (event, payload) => {
      if (device === null) {
        delivery.toUsers([live.call.calleeId], event, payload, { exceptSocketId: context.actingSocketId });
      } else if (device.socketId !== context.actingSocketId) {
        delivery.toSockets([device.socketId], event, payload);
      }
    };
    switch (notice.kind) {
      case 'accepted':
        send('CALL_ACCEPT', { callId, answer: context.answer ?? null });
        break;
      case 'rejected':
        send('CALL_REJECT', { callId });
        break;
      case 'busy':
        send('CALL_BUSY', { callId });
        break;
      case 'timeout':
        send('CALL_TIMEOUT', { callId });
        break;
      case 'ended':
        send('CALL_ENDED', { callId, reason: notice.reason });
        break;
    }
  }
}
