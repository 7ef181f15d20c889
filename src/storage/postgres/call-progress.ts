import type { CallProgress, CallStatus } from '../../calls/call-state-machine.js';
import type { CallProgressColumns } from './schema.js';

/** A call, 1:1 or group, still ringing or answered: what the process that runs it must finish. */
export const UNFINISHED_CALL_STATUSES: CallStatus[] = ['ringing', 'accepted'];

/** The columns a transition of a call, 1:1 or group, changes. */
export function progressColumns(call: CallProgress): CallProgressColumns {
  return {
    status: call.status,
    answered_at: call.answeredAt,
    ended_at: call.endedAt,
    duration_seconds: call.durationSeconds,
    end_reason: call.endReason,
  };
}

/** The progress of a call as stored. */
export function progressOf(row: CallProgressColumns): CallProgress {
  return { status: row.status, answeredAt: row.answered_at, endedAt: row.ended_at, durationSeconds: row.duration_seconds, endReason: row.end_reason };
}
