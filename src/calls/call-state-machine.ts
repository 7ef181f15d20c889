/**
 * The life of one call as a pure state machine: no sockets, no storage, no timers, no clock.
 * Time comes in as `now`; the caller of `transition` persists the new record and delivers the notices.
 *
 *   ringing --accept (callee)-------------------------> accepted
 *   ringing --reject (callee)-------------------------> rejected   reason rejected
 *   ringing --hang_up (callee)------------------------> rejected   reason rejected  (declining = rejecting)
 *   ringing --hang_up (caller)------------------------> cancelled  reason cancelled
 *   ringing --declare_busy (callee)-------------------> busy       reason busy
 *   ringing --callee_busy (server)--------------------> busy       reason busy      (callee already in a call)
 *   ringing --ring_timeout (server)-------------------> missed     reason timeout
 *   ringing --party_lost (caller)---------------------> cancelled  reason connection_lost
 *   ringing --party_lost (callee)---------------------> missed     reason connection_lost
 *   accepted --hang_up (either)-----------------------> ended      reason hangup
 *   accepted --party_lost (either)--------------------> ended      reason connection_lost
 *   ringing | accepted --server_restart---------------> failed     reason server_restart
 *
 * Every other pair is refused. The checks run in a fixed order, so each (state, event, actor) has
 * exactly one outcome:
 *   1. the actor is not a party of the call                    -> FORBIDDEN (whatever the state)
 *   2. the actor is a party but not the one the event is for   -> FORBIDDEN (the caller cannot accept)
 *   3. the state does not allow the event (final states allow nothing) -> INVALID_STATE
 * Races (a ring timeout firing just after an accept, a second device accepting) thus answer
 * INVALID_STATE and leave the call untouched.
 *
 * durationSeconds is the whole seconds from answeredAt to endedAt for a call that was answered, and
 * null for one that never was: "no conversation" differs from "a conversation under a second".
 */

export const CALL_TYPES = ['audio', 'video'] as const;
export type CallType = (typeof CALL_TYPES)[number];

export const FINAL_CALL_STATUSES = ['rejected', 'busy', 'missed', 'cancelled', 'ended', 'failed'] as const;
export type FinalCallStatus = (typeof FINAL_CALL_STATUSES)[number];

export const CALL_STATUSES = ['ringing', 'accepted', ...FINAL_CALL_STATUSES] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Why a call reached its final status; stored in the record. */
export const CALL_END_REASONS = [
  'hangup',
  'rejected',
  'busy',
  'cancelled',
  'timeout',
  'connection_lost',
  'server_restart',
  /** Group calls through the SFU: the media server went away (unreachable or restarted) mid-call. */
  'media_server_lost',
] as const;
export type CallEndReason = (typeof CALL_END_REASONS)[number];

/**
 * What a party's devices are told the call ended with. `answered_elsewhere` is never stored: it only
 * stops the callee's other devices ringing once one of them accepted. `removed` (group calls) tells a
 * member removed from the group that the call is over for them.
 */
export type CallEndedNoticeReason = CallEndReason | 'answered_elsewhere' | 'removed';

/** Where a call, 1:1 or group, stands: what its transitions change. */
export interface CallProgress {
  status: CallStatus;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  endReason: CallEndReason | null;
}

export interface CallRecord extends CallProgress {
  id: string;
  callerId: string;
  calleeId: string;
  type: CallType;
  createdAt: Date;
}

export type CallEvent =
  /** A callee device answers. */
  | { type: 'accept'; actorId: string }
  /** A callee device declines. */
  | { type: 'reject'; actorId: string }
  /** A callee device says it cannot take the call (e.g. the phone is in a cellular call). */
  | { type: 'declare_busy'; actorId: string }
  /** CALL_ENDED from either party. */
  | { type: 'hang_up'; actorId: string }
  /** The server found the callee already ringing or in another call when the call was requested. */
  | { type: 'callee_busy' }
  | { type: 'ring_timeout' }
  /** Every socket of `userId` stayed away past the reconnect grace. */
  | { type: 'party_lost'; userId: string }
  /** The call was live when the server (or the process that owned it) stopped. */
  | { type: 'server_restart' };

export type CallEventType = CallEvent['type'];

export type CallParty = 'caller' | 'callee';

/**
 * Something to tell one party's devices, in domain words; the transport maps each kind to its event
 * (accepted -> CALL_ACCEPT, rejected -> CALL_REJECT, busy -> CALL_BUSY, timeout -> CALL_TIMEOUT,
 * ended -> CALL_ENDED). A notice addressed to the party whose device fired the event is meant for that
 * party's other devices: the device that acted has its acknowledgement.
 */
export type CallNotice =
  | { to: CallParty; kind: 'accepted' | 'rejected' | 'busy' | 'timeout' }
  | { to: CallParty; kind: 'ended'; reason: CallEndedNoticeReason };

export type TransitionErrorCode = 'INVALID_STATE' | 'FORBIDDEN';

export type TransitionResult =
  | { ok: true; call: CallRecord; notices: CallNotice[] }
  | { ok: false; code: TransitionErrorCode; message: string };

export function isFinalStatus(status: CallStatus): status is FinalCallStatus {
  return (FINAL_CALL_STATUSES as readonly CallStatus[]).includes(status);
}

export function createRingingCall(input: {
  id: string;
  callerId: string;
  calleeId: string;
  type: CallType;
  now: Date;
}): CallRecord {
  return {
    id: input.id,
    callerId: input.callerId,
    calleeId: input.calleeId,
    type: input.type,
    status: 'ringing',
    createdAt: input.now,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    endReason: null,
  };
}

/** Which party `userId` is in `call`, or null for anyone else. */
export function partyOf(call: CallRecord, userId: string): CallParty | null {
  if (userId === call.callerId) return 'caller';
  if (userId === call.calleeId) return 'callee';
  return null;
}

function forbidden(message: string): TransitionResult {
  return { ok: false, code: 'FORBIDDEN', message };
}

function invalidState(call: CallRecord, event: CallEvent): TransitionResult {
  const message = isFinalStatus(call.status)
    ? `The call is already over (${call.status})`
    : `The call is ${call.status} and does not take ${event.type}`;
  return { ok: false, code: 'INVALID_STATE', message };
}

function answer(call: CallRecord, now: Date): CallRecord {
  return { ...call, status: 'accepted', answeredAt: now };
}

function finish(call: CallRecord, status: FinalCallStatus, endReason: CallEndReason, now: Date): CallRecord {
  const durationSeconds =
    call.answeredAt === null ? null : Math.max(0, Math.floor((now.getTime() - call.answeredAt.getTime()) / 1000));
  return { ...call, status, endedAt: now, durationSeconds, endReason };
}

function otherParty(party: CallParty): CallParty {
  return party === 'caller' ? 'callee' : 'caller';
}

/** The rejection of a ringing call, by CALL_REJECT or by the callee hanging up before answering. */
function rejected(call: CallRecord, now: Date): TransitionResult {
  return {
    ok: true,
    call: finish(call, 'rejected', 'rejected', now),
    notices: [
      { to: 'caller', kind: 'rejected' },
      { to: 'callee', kind: 'ended', reason: 'rejected' },
    ],
  };
}

function busy(call: CallRecord, now: Date, declaredByCallee: boolean): TransitionResult {
  const notices: CallNotice[] = [{ to: 'caller', kind: 'busy' }];
  // A callee device that declares busy stops its siblings ringing; a server-detected busy never rang them.
  if (declaredByCallee) notices.push({ to: 'callee', kind: 'ended', reason: 'busy' });
  return { ok: true, call: finish(call, 'busy', 'busy', now), notices };
}

export function transition(call: CallRecord, event: CallEvent, now: Date): TransitionResult {
  switch (event.type) {
    case 'accept':
    case 'reject':
    case 'declare_busy': {
      const party = partyOf(call, event.actorId);
      if (party === null) return forbidden('Only the parties of a call may act on it');
      if (party !== 'callee') return forbidden(`Only the callee may ${event.type.replace('_', ' ')}`);
      if (call.status !== 'ringing') return invalidState(call, event);
      if (event.type === 'accept') {
        return {
          ok: true,
          call: answer(call, now),
          notices: [
            { to: 'caller', kind: 'accepted' },
            { to: 'callee', kind: 'ended', reason: 'answered_elsewhere' },
          ],
        };
      }
      return event.type === 'reject' ? rejected(call, now) : busy(call, now, true);
    }

    case 'hang_up': {
      const party = partyOf(call, event.actorId);
      if (party === null) return forbidden('Only the parties of a call may act on it');
      if (call.status === 'accepted') {
        return {
          ok: true,
          call: finish(call, 'ended', 'hangup', now),
          notices: [{ to: otherParty(party), kind: 'ended', reason: 'hangup' }],
        };
      }
      if (call.status !== 'ringing') return invalidState(call, event);
      if (party === 'callee') return rejected(call, now);
      return {
        ok: true,
        call: finish(call, 'cancelled', 'cancelled', now),
        notices: [{ to: 'callee', kind: 'ended', reason: 'cancelled' }],
      };
    }

    case 'party_lost': {
      const party = partyOf(call, event.userId);
      if (party === null) return forbidden('Only a party of the call can be lost from it');
      if (call.status === 'accepted') {
        return {
          ok: true,
          call: finish(call, 'ended', 'connection_lost', now),
          notices: [{ to: otherParty(party), kind: 'ended', reason: 'connection_lost' }],
        };
      }
      if (call.status !== 'ringing') return invalidState(call, event);
      return {
        ok: true,
        call: finish(call, party === 'caller' ? 'cancelled' : 'missed', 'connection_lost', now),
        notices: [{ to: otherParty(party), kind: 'ended', reason: 'connection_lost' }],
      };
    }

    case 'callee_busy':
      return call.status === 'ringing' ? busy(call, now, false) : invalidState(call, event);

    case 'ring_timeout':
      if (call.status !== 'ringing') return invalidState(call, event);
      return {
        ok: true,
        call: finish(call, 'missed', 'timeout', now),
        notices: [
          { to: 'caller', kind: 'timeout' },
          { to: 'callee', kind: 'timeout' },
        ],
      };

    case 'server_restart':
      if (isFinalStatus(call.status)) return invalidState(call, event);
      return {
        ok: true,
        call: finish(call, 'failed', 'server_restart', now),
        notices: [
          { to: 'caller', kind: 'ended', reason: 'server_restart' },
          { to: 'callee', kind: 'ended', reason: 'server_restart' },
        ],
      };
  }
}
