import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isFinalStatus } from '../../src/calls/call-state-machine.js';
import {
  createGroupCall,
  participantIds,
  secondsInCall,
  transitionGroupCall,
  type GroupCallEvent,
  type GroupCallRecord,
  type GroupTransitionResult,
} from '../../src/calls/group-call-state-machine.js';

const START = new Date('2030-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);
const MAX = 4;
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];

function newCall(memberIds = USERS.slice(0, 4)): GroupCallRecord {
  return createGroupCall({ id: 'call-1', conversationId: 'group-1', startedBy: 'u0', memberIds, type: 'audio', topology: 'mesh', now: START });
}

function step(call: GroupCallRecord, event: GroupCallEvent, seconds: number): GroupCallRecord {
  const result = transitionGroupCall(call, event, at(seconds));
  if (!result.ok) throw new Error(`${event.type} refused: ${result.message}`);
  return result.call;
}

const join = (userId: string): GroupCallEvent => ({ type: 'join', userId, maxParticipants: MAX });
const leave = (userId: string, reason: 'left' | 'connection_lost' | 'removed' = 'left'): GroupCallEvent => ({ type: 'leave', userId, reason });

describe('group call state machine', () => {
  it('rings with the starter in, is accepted on the first join and ends when the last one leaves', () => {
    let call = newCall();
    assert.deepEqual([call.status, participantIds(call)], ['ringing', ['u0']]);
    call = step(call, join('u1'), 5);
    assert.deepEqual([call.status, call.answeredAt], ['accepted', at(5)]);
    call = step(call, join('u2'), 7);
    call = step(call, leave('u0'), 10);
    assert.equal(call.status, 'accepted', 'the call lives while anyone is in it');
    call = step(call, leave('u1'), 20);
    const last = transitionGroupCall(call, leave('u2'), at(65));
    assert.ok(last.ok);
    assert.deepEqual(last.notices, [{ kind: 'ended', reason: 'hangup' }]);
    assert.deepEqual([last.call.status, last.call.endReason, last.call.durationSeconds], ['ended', 'hangup', 60]);
    const seconds = Object.fromEntries(last.call.members.map((member) => [member.userId, secondsInCall(member, at(100))]));
    assert.deepEqual(seconds, { u0: 10, u1: 15, u2: 58, u3: 0 });
    assert.equal(last.call.members.find((member) => member.userId === 'u3')!.joinedAt, null);
  });

  it('a member who leaves and joins again keeps one entry: first join, last leave, the time of both stretches', () => {
    let call = step(newCall(), join('u1'), 1);
    call = step(call, leave('u1', 'connection_lost'), 11);
    call = step(call, join('u1'), 21);
    call = step(call, leave('u1'), 26);
    const entries = call.members.filter((member) => member.userId === 'u1');
    assert.equal(entries.length, 1);
    assert.deepEqual([entries[0]!.joinedAt, entries[0]!.leftAt, secondsInCall(entries[0]!, at(99))], [at(1), at(26), 15]);
  });

  it('ends missed on the ring timeout when nobody joined; once accepted, the timeout only stops the ring', () => {
    const missed = transitionGroupCall(newCall(), { type: 'ring_timeout' }, at(30));
    assert.ok(missed.ok);
    assert.deepEqual([missed.call.status, missed.call.endReason, missed.call.durationSeconds], ['missed', 'timeout', null]);
    assert.deepEqual(participantIds(missed.call), []);
    const accepted = step(newCall(), join('u2'), 3);
    const stopped = transitionGroupCall(accepted, { type: 'ring_timeout' }, at(30));
    assert.ok(stopped.ok);
    assert.equal(stopped.call, accepted, 'nothing to store');
    assert.deepEqual(stopped.notices, [{ kind: 'timeout' }]);
  });

  it('the starter leaving a ringing call cancels it; everyone declining rejects it', () => {
    const cancelled = step(newCall(), leave('u0'), 4);
    assert.deepEqual([cancelled.status, cancelled.endReason], ['cancelled', 'cancelled']);
    const lost = step(newCall(), leave('u0', 'connection_lost'), 4);
    assert.deepEqual([lost.status, lost.endReason], ['cancelled', 'connection_lost']);
    let call = step(newCall(), { type: 'decline', userId: 'u1' }, 1);
    call = step(call, { type: 'decline', userId: 'u2' }, 2);
    assert.equal(call.status, 'ringing');
    const all = transitionGroupCall(call, { type: 'decline', userId: 'u3' }, at(3));
    assert.ok(all.ok);
    assert.deepEqual([all.call.status, all.call.endReason], ['rejected', 'rejected']);
    assert.deepEqual(all.notices, [{ kind: 'declined', userId: 'u3' }, { kind: 'ended', reason: 'rejected' }]);
  });

  it('refuses a join beyond the limit (CALL_FULL), a second join, a leave when out, a decline when in, anything once over', () => {
    let call = newCall(USERS);
    for (const userId of ['u1', 'u2', 'u3']) call = step(call, join(userId), 1);
    const full = transitionGroupCall(call, join('u4'), at(2));
    assert.deepEqual(full, { ok: false, code: 'CALL_FULL', message: 'The call is full: 4 of 4 participants' });
    const expectInvalid = (result: GroupTransitionResult) => assert.equal(result.ok ? 'ok' : result.code, 'INVALID_STATE');
    expectInvalid(transitionGroupCall(call, join('u1'), at(2)));
    expectInvalid(transitionGroupCall(call, leave('u5'), at(2)));
    expectInvalid(transitionGroupCall(call, { type: 'decline', userId: 'u2' }, at(2)));
    const over = step(call, { type: 'server_restart' }, 9);
    assert.deepEqual([over.status, over.endReason, participantIds(over)], ['failed', 'server_restart', []]);
    for (const event of [join('u4'), leave('u1'), { type: 'ring_timeout' } as const, { type: 'server_restart' } as const]) {
      expectInvalid(transitionGroupCall(over, event, at(10)));
    }
  });
});

/** What a test run does to the call: a member's device acting, dropping, coming back, or a timer. */
type Action = {
  kind: 'join' | 'leave' | 'decline' | 'drop' | 'reconnect' | 'grace_expires' | 'removed' | 'ring_timeout' | 'server_restart' | 'media_server_lost';
  user: number;
};

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('join', 'leave', 'drop', 'reconnect', 'grace_expires'), user: fc.nat({ max: USERS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('decline', 'removed'), user: fc.nat({ max: USERS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('ring_timeout', 'server_restart', 'media_server_lost'), user: fc.constant(0) }) },
);

function assertConsistent(call: GroupCallRecord, now: Date): void {
  const ids = call.members.map((member) => member.userId);
  assert.equal(new Set(ids).size, ids.length, `a member listed twice: ${ids.join(',')}`);
  const inCall = participantIds(call);
  assert.equal(new Set(inCall).size, inCall.length);
  if (isFinalStatus(call.status)) {
    assert.deepEqual(inCall, [], 'nobody is in a call that is over');
    assert.ok(call.endedAt && call.endReason);
  } else {
    assert.ok(inCall.length > 0, `a live call (${call.status}) has someone in it`);
    assert.ok(inCall.length <= MAX);
  }
  for (const member of call.members) {
    assert.ok(member.msInCall >= 0);
    assert.equal(member.joinedAt === null, member.msInCall === 0 && member.inCallSince === null && member.leftAt === null);
    const until = call.endedAt ?? now;
    assert.ok(secondsInCall(member, until) <= (until.getTime() - call.createdAt.getTime()) / 1000, 'nobody is in longer than the call lasted');
  }
}

describe('group call state machine: property', () => {
  it('under any join, leave, decline, drop, reconnect, timer and server-loss sequence it lists nobody twice and always reaches a final state', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        let call = newCall(USERS.slice(0, 5));
        /** Members whose device dropped and has not come back: their grace is running. */
        const away = new Set<string>();
        let clock = 0;
        const apply = (event: GroupCallEvent) => {
          clock += 1;
          const result = transitionGroupCall(call, event, at(clock));
          if (result.ok) {
            if (!isFinalStatus(call.status) && result.call.revision !== call.revision) assert.equal(result.call.revision, call.revision + 1);
            call = result.call;
          } else {
            assert.ok(['INVALID_STATE', 'CALL_FULL'].includes(result.code));
          }
          assertConsistent(call, at(clock));
        };
        for (const next of actions) {
          if (next.kind === 'ring_timeout' || next.kind === 'server_restart' || next.kind === 'media_server_lost') {
            apply({ type: next.kind });
            continue;
          }
          const userId = USERS[next.user]!;
          const inCall = participantIds(call).includes(userId);
          if (next.kind === 'join') {
            apply(join(userId));
            away.delete(userId);
          } else if (next.kind === 'leave') apply(leave(userId));
          else if (next.kind === 'decline') apply({ type: 'decline', userId });
          else if (next.kind === 'removed') apply(leave(userId, 'removed'));
          else if (next.kind === 'drop') {
            if (inCall) away.add(userId);
          } else if (next.kind === 'reconnect') away.delete(userId);
          else if (away.delete(userId)) apply(leave(userId, 'connection_lost'));
        }
        // Whatever happened, the ring runs out and everyone still in leaves in the end (or drops for good).
        apply({ type: 'ring_timeout' });
        for (const userId of participantIds(call)) apply(leave(userId, away.has(userId) ? 'connection_lost' : 'left'));
        assert.ok(isFinalStatus(call.status), `ended ${call.status}`);
      }),
      { numRuns: 2000 },
    );
  });
});
