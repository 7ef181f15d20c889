import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingingCall, transition, type CallRecord, type CallType } from '../../../src/calls/call-state-machine.js';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

export function callsContract(ctx: ContractContext): void {
  const calls = () => ctx.storage.calls;
  const twoUsers = () => Promise.all([ctx.createUser(), ctx.createUser()]);
  const ringing = (callerId: string, calleeId: string, type: CallType = 'audio'): CallRecord =>
    createRingingCall({ id: newId(), callerId, calleeId, type, now: new Date() });
  /** The record after a transition the state machine allows. */
  const after = (call: CallRecord, event: Parameters<typeof transition>[1], now = new Date()): CallRecord => {
    const result = transition(call, event, now);
    if (!result.ok) throw new Error(result.message);
    return result.call;
  };

  test('create stores a call as given; findById reads it back', async () => {
    const [alice, bob] = await twoUsers();
    const call = ringing(alice.id, bob.id, 'video');
    await calls().create(call);
    assert.deepEqual(await calls().findById(call.id), call);
    const busy = after(ringing(bob.id, alice.id), { type: 'callee_busy' });
    await calls().create(busy);
    assert.deepEqual(await calls().findById(busy.id), busy);
    assert.equal(await calls().findById(newId()), null);
  });

  test('update is a compare-and-set on the status: of racing transitions exactly one is stored', async () => {
    const [alice, bob] = await twoUsers();
    const call = ringing(alice.id, bob.id);
    await calls().create(call);
    const answered = after(call, { type: 'accept', actorId: bob.id });
    const timedOut = after(call, { type: 'ring_timeout' });
    const stored = await Promise.all([calls().update(answered, 'ringing'), calls().update(timedOut, 'ringing')]);
    assert.deepEqual([...stored].sort(), [false, true]);
    assert.deepEqual(await calls().findById(call.id), stored[0] ? answered : timedOut);
    assert.equal(await calls().update(timedOut, 'ringing'), false, 'the status is no longer ringing');
  });

  test('update stores each step: answeredAt, then endedAt, duration and reason', async () => {
    const [alice, bob] = await twoUsers();
    const call = ringing(alice.id, bob.id);
    await calls().create(call);
    const answered = after(call, { type: 'accept', actorId: bob.id }, new Date(call.createdAt.getTime() + 2_000));
    assert.equal(await calls().update(answered, 'ringing'), true);
    assert.deepEqual(await calls().findById(call.id), answered);
    const ended = after(answered, { type: 'hang_up', actorId: alice.id }, new Date(answered.answeredAt!.getTime() + 61_500));
    assert.equal(await calls().update(ended, 'accepted'), true);
    assert.deepEqual(await calls().findById(call.id), ended);
    assert.deepEqual([ended.status, ended.durationSeconds, ended.endReason], ['ended', 61, 'hangup']);
  });

  test('listForUser: both directions, newest first, before a cursor, by status and direction', async () => {
    const [alice, bob] = await twoUsers();
    const carol = await ctx.createUser();
    const made: CallRecord[] = [];
    for (const [caller, callee] of [
      [alice, bob],
      [bob, alice],
      [alice, carol],
      [carol, alice],
    ] as const) {
      const call = ringing(caller.id, callee.id);
      await calls().create(call);
      made.push(call);
    }
    await calls().create(ringing(bob.id, carol.id));
    const missed = after(made[1]!, { type: 'ring_timeout' });
    await calls().update(missed, 'ringing');
    made[1] = missed;
    const newestFirst = [...made].reverse();

    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10 }), newestFirst);
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 2 }), newestFirst.slice(0, 2));
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10, before: newestFirst[1]!.id }), newestFirst.slice(2));
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10, direction: 'incoming' }), [made[3], made[1]]);
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10, direction: 'outgoing' }), [made[2], made[0]]);
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10, statuses: ['missed'] }), [missed]);
    assert.deepEqual(await calls().listForUser(alice.id, { limit: 10, statuses: ['missed'], direction: 'outgoing' }), []);
    assert.deepEqual(await calls().listForUser(newId(), { limit: 10 }), []);
  });

  test('listOrphaned never returns the calls of the storage that is asking', async () => {
    const [alice, bob] = await twoUsers();
    const call = ringing(alice.id, bob.id);
    await calls().create(call);
    const orphans = await calls().listOrphaned();
    assert.equal(orphans.some((orphan) => orphan.id === call.id), false);
  });
}
