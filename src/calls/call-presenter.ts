import type { CallDto } from '../protocol/calls.js';
import type { CallRecord } from './call-state-machine.js';

export function presentCall(call: CallRecord): CallDto {
  return {
    id: call.id,
    callerId: call.callerId,
    calleeId: call.calleeId,
    type: call.type,
    status: call.status,
    createdAt: call.createdAt.toISOString(),
    answeredAt: call.answeredAt?.toISOString() ?? null,
    endedAt: call.endedAt?.toISOString() ?? null,
    durationSeconds: call.durationSeconds,
    endReason: call.endReason,
  };
}
