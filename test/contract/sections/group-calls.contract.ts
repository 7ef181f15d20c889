import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGroupCall, transitionGroupCall, type GroupCallEvent, type GroupCallRecord } from '../../../src/calls/group-call-state-machine.js';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

export function groupCallsContract(ctx: ContractContext): void {
  const groupCalls = () => ctx.storage.groupCalls;
  /** A group of `count` new users, the first its owner, and a call its owner started in it. */
  const ringingCall = async (count: number, at = new Date()) => {
    const users = await Promise.all(Array.from({ length: count }, () => ctx.createUser()));
    const conversationId = newId();
    const memberIds = users.map((user) => user.id);
    await ctx.storage.conversations.createGroup({ id: conversationId, title: 'Call group', ownerId: memberIds[0]!, memberIds: memberIds.slice(1), createdAt: at });
    const call = createGroupCall({ id: newId(), conversationId, startedBy: memberIds[0]!, memberIds, type: 'video', topology: 'mesh', now: at });
    return { call, memberIds };
  };
  const after = (call: GroupCallRecord, event: GroupCallEvent, now: Date) => {
    const result = transitionGroupCall(call, event, now);
    if (!result.ok) throw new Error(result.message);
    return result;
  };
  const store = async (call: GroupCallRecord, event: GroupCallEvent, now: Date) => {
    const result = after(call, event, now);
    assert.equal(await groupCalls().update(result.call, { revision: call.revision, changedMembers: result.changedMembers }), true);
    return result.call;
  };
  const join = (userId: string): GroupCallEvent => ({ type: 'join', userId, maxParticipants: 8 });

  test('group calls: create stores the call with its members in order; findById reads it back', async () => {
    const { call } = await ringingCall(3);
    await groupCalls().create(call);
    assert.deepEqual(await groupCalls().findById(call.id), call);
    assert.equal(await groupCalls().findById(newId()), null);
  });

  test('group calls: update is a compare-and-set on the revision and writes the changed members, new ones included', async () => {
    const { call, memberIds } = await ringingCall(3);
    await groupCalls().create(call);
    const t = (seconds: number) => new Date(call.createdAt.getTime() + seconds * 1000);
    const joined = after(call, join(memberIds[1]!), t(2));
    const declined = after(call, { type: 'decline', userId: memberIds[2]! }, t(2));
    const stored = await Promise.all([
      groupCalls().update(joined.call, { revision: call.revision, changedMembers: joined.changedMembers }),
      groupCalls().update(declined.call, { revision: call.revision, changedMembers: declined.changedMembers }),
    ]);
    assert.deepEqual([...stored].sort(), [false, true]);
    let current = stored[0] ? joined.call : declined.call;
    assert.deepEqual(await groupCalls().findById(call.id), current);
    // Someone who joined the group after the ring joins the call: a new member row.
    const latecomer = await ctx.createUser();
    await ctx.storage.conversations.addMembers(call.conversationId, [latecomer.id], t(3), 100);
    current = await store(current, join(latecomer.id), t(4));
    current = await store(current, { type: 'leave', userId: latecomer.id, reason: 'connection_lost' }, t(9));
    assert.deepEqual(await groupCalls().findById(call.id), current);
    current = await store(current, { type: 'server_restart' }, t(12));
    assert.deepEqual(await groupCalls().findById(call.id), current);
    assert.equal(current.members.find((member) => member.userId === latecomer.id)?.msInCall, 5000);
    assert.equal(await groupCalls().update(current, { revision: current.revision - 1, changedMembers: [] }), false, 'a stale revision');
  });

  test('group calls: listForMember pages a member’s calls newest first, by status and direction', async () => {
    const { call: first, memberIds } = await ringingCall(2, new Date(Date.now() - 60_000));
    await groupCalls().create(first);
    const missed = after(first, { type: 'ring_timeout' }, new Date(Date.now() - 30_000)).call;
    await groupCalls().update(missed, { revision: first.revision, changedMembers: [memberIds[0]!] });
    const second = { ...createGroupCall({ id: newId(), conversationId: first.conversationId, startedBy: memberIds[1]!, memberIds, type: 'audio', topology: 'mesh', now: new Date() }) };
    await groupCalls().create(second);
    const [owner, other] = memberIds as [string, string];
    const ids = async (userId: string, filter: Partial<Parameters<ReturnType<typeof groupCalls>['listForMember']>[1]> = {}) =>
      (await groupCalls().listForMember(userId, { limit: 10, ...filter })).map((call) => call.id);
    assert.deepEqual(await ids(owner), [second.id, first.id]);
    assert.deepEqual(await ids(owner, { limit: 1 }), [second.id]);
    assert.deepEqual(await ids(owner, { before: second.id }), [first.id]);
    assert.deepEqual(await ids(owner, { statuses: ['missed'] }), [first.id]);
    assert.deepEqual(await ids(owner, { direction: 'outgoing' }), [first.id]);
    assert.deepEqual(await ids(other, { direction: 'outgoing' }), [second.id]);
    assert.deepEqual(await ids(other, { direction: 'incoming' }), [first.id]);
    assert.deepEqual(await ids((await ctx.createUser()).id), []);
    assert.deepEqual((await groupCalls().listForMember(owner, { limit: 10 }))[1], missed);
  });
}
