import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CALL_STATUSES,
  FINAL_CALL_STATUSES,
  createRingingCall,
  isFinalStatus,
  partyOf,
  transition,
  type CallEndReason,
  type CallEvent,
  type CallEventType,
  type CallNotice,
  type CallRecord,
  type CallStatus,
} from '../../src/calls/call-state-machine.js';

const CALLER = 'user-caller';
const CALLEE = 'user-callee';
const STRANGER = 'user-stranger';
const CREATED = new Date('2030-01-01T10:00:00.000Z');
const ANSWERED = new Date('2030-01-01T10:00:05.000Z');
const NOW = new Date('2030-01-01T10:01:40.700Z');

type Actor = 'caller' | 'callee' | 'stranger' | 'system';
const USER_OF = { caller: CALLER, callee: CALLEE, stranger: STRANGER } as const;

/** A record in `status` as the service would have stored it. */
function callIn(status: CallStatus): CallRecord {
  const ringing = createRingingCall({ id: 'call-1', callerId: CALLER, calleeId: CALLEE, type: 'video', now: CREATED });
  if (status === 'ringing') return ringing;
  if (status === 'accepted') return { ...ringing, status, answeredAt: ANSWERED };
  const answered = status === 'ended' || status === 'failed';
  const endedAt = new Date(CREATED.getTime() + 20_000);
  return {
    ...ringing,
    status,
    answeredAt: answered ? ANSWERED : null,
    endedAt,
    durationSeconds: answered ? 15 : null,
    endReason: status === 'ended' ? 'hangup' : status === 'failed' ? 'server_restart' : 'timeout',
  };
}

/** Every event the machine knows, each with the actors it can come from. */
const EVENTS: { type: CallEventType; actors: Actor[]; make: (actor: Actor) => CallEvent }[] = [
  { type: 'accept', actors: ['caller', 'callee', 'stranger'], make: (a) => ({ type: 'accept', actorId: userOf(a) }) },
  { type: 'reject', actors: ['caller', 'callee', 'stranger'], make: (a) => ({ type: 'reject', actorId: userOf(a) }) },
  { type: 'declare_busy', actors: ['caller', 'callee', 'stranger'], make: (a) => ({ type: 'declare_busy', actorId: userOf(a) }) },
  { type: 'hang_up', actors: ['caller', 'callee', 'stranger'], make: (a) => ({ type: 'hang_up', actorId: userOf(a) }) },
  { type: 'party_lost', actors: ['caller', 'callee', 'stranger'], make: (a) => ({ type: 'party_lost', userId: userOf(a) }) },
  { type: 'callee_busy', actors: ['system'], make: () => ({ type: 'callee_busy' }) },
  { type: 'ring_timeout', actors: ['system'], make: () => ({ type: 'ring_timeout' }) },
  { type: 'server_restart', actors: ['system'], make: () => ({ type: 'server_restart' }) },
];

function userOf(actor: Actor): string {
  assert.notEqual(actor, 'system');
  return USER_OF[actor as Exclude<Actor, 'system'>];
}

type Allowed = { status: CallStatus; reason: CallEndReason | null; notices: CallNotice[] };

/** The whole table of allowed moves: event -> actor -> from-state -> outcome. Anything absent is refused. */
const ALLOWED: Partial<Record<CallEventType, Partial<Record<Actor, Partial<Record<CallStatus, Allowed>>>>>> = {
  accept: {
    callee: {
      ringing: {
        status: 'accepted',
        reason: null,
        notices: [
          { to: 'caller', kind: 'accepted' },
          { to: 'callee', kind: 'ended', reason: 'answered_elsewhere' },
        ],
      },
    },
  },
  reject: {
    callee: {
      ringing: {
        status: 'rejected',
        reason: 'rejected',
        notices: [
          { to: 'caller', kind: 'rejected' },
          { to: 'callee', kind: 'ended', reason: 'rejected' },
        ],
      },
    },
  },
  declare_busy: {
    callee: {
      ringing: {
        status: 'busy',
        reason: 'busy',
        notices: [
          { to: 'caller', kind: 'busy' },
          { to: 'callee', kind: 'ended', reason: 'busy' },
        ],
      },
    },
  },
  hang_up: {
    caller: {
      ringing: { status: 'cancelled', reason: 'cancelled', notices: [{ to: 'callee', kind: 'ended', reason: 'cancelled' }] },
      accepted: { status: 'ended', reason: 'hangup', notices: [{ to: 'callee', kind: 'ended', reason: 'hangup' }] },
    },
    callee: {
      ringing: {
        status: 'rejected',
        reason: 'rejected',
        notices: [
          { to: 'caller', kind: 'rejected' },
          { to: 'callee', kind: 'ended', reason: 'rejected' },
        ],
      },
      accepted: { status: 'ended', reason: 'hangup', notices: [{ to: 'caller', kind: 'ended', reason: 'hangup' }] },
    },
  },
  party_lost: {
    caller: {
      ringing: { status: 'cancelled', reason: 'connection_lost', notices: [{ to: 'callee', kind: 'ended', reason: 'connection_lost' }] },
      accepted: { status: 'ended', reason: 'connection_lost', notices: [{ to: 'callee', kind: 'ended', reason: 'connection_lost' }] },
    },
    callee: {
      ringing: { status: 'missed', reason: 'connection_lost', notices: [{ to: 'caller', kind: 'ended', reason: 'connection_lost' }] },
      accepted: { status: 'ended', reason: 'connection_lost', notices: [{ to: 'caller', kind: 'ended', reason: 'connection_lost' }] },
    },
  },
  callee_busy: {
    system: { ringing: { status: 'busy', reason: 'busy', notices: [{ to: 'caller', kind: 'busy' }] } },
  },
  ring_timeout: {
    system: {
      ringing: {
        status: 'missed',
        reason: 'timeout',
        notices: [
          { to: 'caller', kind: 'timeout' },
          { to: 'callee', kind: 'timeout' },
        ],
      },
    },
  },
  server_restart: {
    system: {
      ringing: {
        status: 'failed',
        reason: 'server_restart',
        notices: [
          { to: 'caller', kind: 'ended', reason: 'server_restart' },
          { to: 'callee', kind: 'ended', reason: 'server_restart' },
        ],
      },
      accepted: {
        status: 'failed',
        reason: 'server_restart',
        notices: [
          { to: 'caller', kind: 'ended', reason: 'server_restart' },
          { to: 'callee', kind: 'ended', reason: 'server_restart' },
        ],
      },
    },
  },
};

/** Events only the callee may fire; a caller firing them is refused whatever the state. */
const CALLEE_ONLY: CallEventType[] = ['accept', 'reject', 'declare_busy'];

describe('call state machine: every (state, event, actor)', () => {
  for (const status of CALL_STATUSES) {
    for (const event of EVENTS) {
      for (const actor of event.actors) {
        const allowed = ALLOWED[event.type]?.[actor]?.[status];
        const refusal =
          actor === 'stranger' || (actor === 'caller' && CALLEE_ONLY.includes(event.type)) ? 'FORBIDDEN' : 'INVALID_STATE';
        const expected = allowed ? `-> ${allowed.status}` : refusal;

        it(`${status} + ${event.type} by ${actor}: ${expected}`, () => {
          const before = callIn(status);
          const snapshot = structuredClone(before);
          const result = transition(before, event.make(actor), NOW);
          assert.deepEqual(before, snapshot, 'the input record is never mutated');

          if (!allowed) {
            assert.equal(result.ok, false);
            if (result.ok) return;
            assert.equal(result.code, refusal);
            assert.ok(result.message.length > 0);
            return;
          }

          assert.equal(result.ok, true);
          if (!result.ok) return;
          const call = result.call;
          assert.equal(call.status, allowed.status);
          assert.equal(call.endReason, allowed.reason);
          assert.deepEqual(result.notices, allowed.notices);
          assert.deepEqual(
            { id: call.id, callerId: call.callerId, calleeId: call.calleeId, type: call.type, createdAt: call.createdAt },
            { id: before.id, callerId: before.callerId, calleeId: before.calleeId, type: before.type, createdAt: before.createdAt },
          );
          if (allowed.status === 'accepted') {
            assert.deepEqual(call.answeredAt, NOW);
            assert.equal(call.endedAt, null);
            assert.equal(call.durationSeconds, null);
            return;
          }
          assert.deepEqual(call.answeredAt, before.answeredAt);
          assert.deepEqual(call.endedAt, NOW);
          // Answered 10:00:05, ended 10:01:40.7: 95.7 s of conversation, counted in whole seconds.
          assert.equal(call.durationSeconds, before.answeredAt ? 95 : null);
        });
      }
    }
  }

  it('the table only names real states and every final state refuses everything', () => {
    for (const byActor of Object.values(ALLOWED)) {
      for (const byStatus of Object.values(byActor)) {
        for (const from of Object.keys(byStatus)) {
          assert.ok(from === 'ringing' || from === 'accepted', `${from} must not allow any event`);
        }
      }
    }
  });
});

describe('call state machine: specifics', () => {
  const ringing = callIn('ringing');

  it('creates a ringing call with nothing answered or ended yet', () => {
    assert.deepEqual(ringing, {
      id: 'call-1',
      callerId: CALLER,
      calleeId: CALLEE,
      type: 'video',
      status: 'ringing',
      createdAt: CREATED,
      answeredAt: null,
      endedAt: null,
      durationSeconds: null,
      endReason: null,
    });
  });

  it('counts whole seconds of conversation from answer to hang-up', () => {
    const accepted = transition(ringing, { type: 'accept', actorId: CALLEE }, new Date('2030-01-01T10:00:10.900Z'));
    assert.ok(accepted.ok);
    const ended = transition(accepted.call, { type: 'hang_up', actorId: CALLER }, new Date('2030-01-01T10:02:10.899Z'));
    assert.ok(ended.ok);
    assert.equal(ended.call.durationSeconds, 119);
    assert.deepEqual(ended.call.answeredAt, new Date('2030-01-01T10:00:10.900Z'));
  });

  it('gives a call hung up in the same second it was answered a duration of 0, not null', () => {
    const accepted = transition(ringing, { type: 'accept', actorId: CALLEE }, ANSWERED);
    assert.ok(accepted.ok);
    const ended = transition(accepted.call, { type: 'hang_up', actorId: CALLEE }, new Date(ANSWERED.getTime() + 400));
    assert.ok(ended.ok);
    assert.equal(ended.call.durationSeconds, 0);
  });

  it('never yields a negative duration when the clock stepped back', () => {
    const accepted = transition(ringing, { type: 'accept', actorId: CALLEE }, ANSWERED);
    assert.ok(accepted.ok);
    const ended = transition(accepted.call, { type: 'party_lost', userId: CALLER }, new Date(ANSWERED.getTime() - 3_000));
    assert.ok(ended.ok);
    assert.equal(ended.call.durationSeconds, 0);
  });

  it('leaves an unanswered call without a duration', () => {
    for (const event of [
      { type: 'ring_timeout' },
      { type: 'reject', actorId: CALLEE },
      { type: 'hang_up', actorId: CALLER },
      { type: 'callee_busy' },
      { type: 'server_restart' },
    ] satisfies CallEvent[]) {
      const result = transition(ringing, event, NOW);
      assert.ok(result.ok, event.type);
      assert.equal(result.call.durationSeconds, null, event.type);
      assert.equal(result.call.answeredAt, null, event.type);
    }
  });

  it('refuses a second accept (another device of the callee) without touching the call', () => {
    const first = transition(ringing, { type: 'accept', actorId: CALLEE }, ANSWERED);
    assert.ok(first.ok);
    const second = transition(first.call, { type: 'accept', actorId: CALLEE }, NOW);
    assert.deepEqual(second, { ok: false, code: 'INVALID_STATE', message: 'The call is accepted and does not take accept' });
  });

  it('says a finished call is over, naming its status', () => {
    const result = transition(callIn('missed'), { type: 'hang_up', actorId: CALLER }, NOW);
    assert.deepEqual(result, { ok: false, code: 'INVALID_STATE', message: 'The call is already over (missed)' });
  });

  it('refuses a stranger before looking at the state', () => {
    for (const status of CALL_STATUSES) {
      const result = transition(callIn(status), { type: 'hang_up', actorId: STRANGER }, NOW);
      assert.ok(!result.ok);
      assert.equal(result.code, 'FORBIDDEN');
    }
  });

  it('tells the parties apart', () => {
    assert.equal(partyOf(ringing, CALLER), 'caller');
    assert.equal(partyOf(ringing, CALLEE), 'callee');
    assert.equal(partyOf(ringing, STRANGER), null);
  });

  it('knows which statuses are final', () => {
    assert.deepEqual(
      CALL_STATUSES.filter((status) => isFinalStatus(status)),
      [...FINAL_CALL_STATUSES],
    );
    assert.equal(isFinalStatus('ringing'), false);
    assert.equal(isFinalStatus('accepted'), false);
  });
});

describe('call state machine: any sequence of events', () => {
  const actorArb = fc.constantFrom<Actor>('caller', 'callee', 'stranger', 'system');
  const eventArb = fc
    .tuple(fc.constantFrom(...EVENTS), actorArb)
    .filter(([event, actor]) => event.actors.includes(actor))
    .map(([event, actor]) => event.make(actor));

  it('moves at most twice, then stays final with consistent timestamps', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 600_000 })), { maxLength: 12 }), (steps) => {
        let call = callIn('ringing');
        let at = CREATED.getTime();
        let moves = 0;
        for (const [event, elapsed] of steps) {
          at += elapsed;
          const result = transition(call, event, new Date(at));
          if (!result.ok) continue;
          moves += 1;
          assert.ok(!isFinalStatus(call.status), 'a final call never moves');
          call = result.call;
        }
        assert.ok(moves <= 2);
        assert.equal(call.endedAt !== null, isFinalStatus(call.status));
        assert.equal(call.endReason !== null, isFinalStatus(call.status));
        assert.equal(call.durationSeconds !== null, isFinalStatus(call.status) && call.answeredAt !== null);
        if (call.answeredAt && call.endedAt) {
          assert.equal(call.durationSeconds, Math.floor((call.endedAt.getTime() - call.answeredAt.getTime()) / 1000));
        }
      }),
    );
  });
});
