import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  CallDeclinedEvent,
  CallEndedEvent,
  GroupCallResult,
  IncomingGroupCallEvent,
  ParticipantEvent,
  ParticipantLeftEvent,
  ParticipantsResult,
} from '../../src/protocol/call-events.js';
import {
  acceptedCall,
  ANSWER,
  callEventOk,
  callHistory,
  callUser,
  device,
  dropConnection,
  OFFER,
  reconnect,
  refusal,
  roundTrip,
  sleep,
  type CallUser,
} from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { callGroup, groupCallOk, ringingGroupCall, storedGroupCall } from '../support/group-calls.js';
import { removeMember } from '../support/groups.js';
import { collect, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

type Trio = [CallUser, CallUser, CallUser];
type Quartet = [CallUser, CallUser, CallUser, CallUser];

const RING_MS = 2_500;
const GRACE_MS = 1_000;
const JOINS_PER_MINUTE = 6;

for (const target of databaseTargets()) {
  describe(`group call lifecycle (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {
      CALL_RING_TIMEOUT_MS: String(RING_MS),
      CALL_RECONNECT_GRACE_MS: String(GRACE_MS),
      GROUP_CALL_MESH_MAX: '3',
      GROUP_CALL_JOINS_PER_MINUTE: String(JOINS_PER_MINUTE),
      RATE_LIMIT_AUTH_PER_IP: '100000',
    });

    test('a call rings every other member with the group named; only members start, join or list it', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const [ann, ben, cat] = group.members as Trio;
      const outsider = await callUser(server.baseUrl, 'Eve');
      const rings = [ben, cat].map((member) => nextEvent<IncomingGroupCallEvent>(device(member), 'CALL_REQUEST'));
      const started = await groupCallOk(device(ann), 'CALL_REQUEST', { conversationId: group.id, type: 'video' });
      for (const ring of await Promise.all(rings)) {
        assert.deepEqual(ring, { call: started.call, from: { id: ann.id, name: 'Ann' }, conversation: { id: group.id, title: 'Ann, Ben, Cat' }, offer: null });
      }
      assert.deepEqual([started.call.status, started.call.type, started.participants.length, started.you.camera], ['ringing', 'video', 1, true]);

      assert.equal(await refusal(device(outsider), 'CALL_REQUEST', { conversationId: group.id, type: 'audio' }), 'NOT_FOUND');
      assert.equal(await refusal(device(outsider), 'CALL_JOIN', { callId: started.call.id }), 'FORBIDDEN');
      assert.equal(await refusal(device(outsider), 'CALL_PARTICIPANTS', { callId: started.call.id }), 'FORBIDDEN');
      assert.equal(await refusal(device(outsider), 'CALL_REJECT', { callId: started.call.id }), 'FORBIDDEN');
      assert.equal(await refusal(device(outsider), 'CALL_SIGNAL', { callId: started.call.id, to: started.you.deviceId, description: OFFER }), 'FORBIDDEN');
      assert.equal(await refusal(device(ben), 'CALL_REQUEST', { conversationId: group.id, type: 'audio' }), 'INVALID_STATE', 'one call per group');
      assert.equal(await refusal(device(ben), 'CALL_ACCEPT', { callId: started.call.id }), 'INVALID_STATE', 'group calls are joined');

      const listed = await emitAck<{ ok: true } & ParticipantsResult>(device(cat), 'CALL_PARTICIPANTS', { callId: started.call.id });
      assert.deepEqual(listed.participants, started.participants, 'a member who has not joined may see who is in');
      await callEventOk(device(ann), 'CALL_ENDED', { callId: started.call.id });
    });

    test('nobody joins within the ring timeout: missed, everyone told, in every member’s history', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const timeouts = group.members.map((member) => nextEvent(device(member), 'CALL_TIMEOUT', RING_MS * 3));
      const started = await ringingGroupCall(group);
      for (const timeout of await Promise.all(timeouts)) assert.deepEqual(timeout, { callId: started.call.id });
      for (const member of group.members) {
        const call = await storedGroupCall(server.baseUrl, member.tokens[0]!, started.call.id);
        assert.deepEqual([call.status, call.endReason, call.durationSeconds], ['missed', 'timeout', null]);
        assert.deepEqual(call.participants.map((participant) => participant.userId), [group.members[0]!.id]);
      }
      const missed = await callHistory(server.baseUrl, group.members[1]!.tokens[0]!, '?status=missed&direction=incoming');
      assert.ok(missed.calls.some((call) => call.id === started.call.id), 'a missed incoming call of Ben’s');
      const outgoing = await callHistory(server.baseUrl, group.members[1]!.tokens[0]!, '?direction=outgoing');
      assert.ok(!outgoing.calls.some((call) => call.id === started.call.id), 'not Ben’s outgoing call');
      assert.equal(await refusal(device(group.members[1]!), 'CALL_JOIN', { callId: started.call.id }), 'INVALID_STATE');
    });

    test('history lists each participant once, with joinedAt/leftAt and durations, beside 1:1 calls; members who never joined see it too', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat', 'Dan']);
      const [ann, ben, cat, dan] = group.members as Quartet;
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      await groupCallOk(device(ben), 'CALL_JOIN', { callId });
      await groupCallOk(device(cat), 'CALL_JOIN', { callId });
      await sleep(1_100);
      await callEventOk(device(cat), 'CALL_ENDED', { callId });
      await groupCallOk(device(cat), 'CALL_JOIN', { callId });
      await sleep(1_100);
      const ended = nextEvent<CallEndedEvent>(device(ben), 'CALL_ENDED', 5000);
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
      await callEventOk(device(cat), 'CALL_ENDED', { callId });
      const last = await callEventOk(device(ben), 'CALL_ENDED', { callId });
      assert.deepEqual([last.status, last.endReason], ['ended', 'hangup']);
      await assert.rejects(ended, 'the last one to leave has the ack, not an event');

      const direct = await acceptedCall(ann, ben);
      await callEventOk(device(ann), 'CALL_ENDED', { callId: direct.id });

      const call = await storedGroupCall(server.baseUrl, dan.tokens[0]!, callId);
      assert.deepEqual(call.participants.map((participant) => participant.userId), [ann.id, ben.id, cat.id], 'each once, in the order they first joined');
      const byUser = new Map(call.participants.map((participant) => [participant.userId, participant]));
      for (const participant of call.participants) {
        assert.ok(participant.leftAt && participant.leftAt >= participant.joinedAt);
        assert.ok(participant.durationSeconds <= Math.ceil((Date.parse(participant.leftAt) - Date.parse(participant.joinedAt)) / 1000));
      }
      assert.ok(byUser.get(cat.id)!.durationSeconds >= 2, 'both of Cat’s stretches count');
      assert.ok(byUser.get(ann.id)!.durationSeconds >= 2);
      assert.equal(call.durationSeconds, Math.floor((Date.parse(call.endedAt!) - Date.parse(call.answeredAt!)) / 1000));
      const history = await callHistory(server.baseUrl, ann.tokens[0]!, '?limit=2');
      assert.deepEqual(history.calls.map((entry) => entry.id), [direct.id, callId], 'group and 1:1 calls, newest first');
      const outsider = await callUser(server.baseUrl, 'Eve');
      assert.deepEqual((await callHistory(server.baseUrl, outsider.tokens[0]!)).calls, []);
    });

    test('joins, declines, leaves and media state reach the participants; the last decline ends a ringing call', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const [ann, ben, cat] = group.members as Trio;
      const first = await ringingGroupCall(group);
      const declined = nextEvent<CallDeclinedEvent>(device(ann), 'CALL_REJECT');
      await callEventOk(device(ben), 'CALL_REJECT', { callId: first.call.id });
      assert.deepEqual(await declined, { callId: first.call.id, userId: ben.id });
      const over = nextEvent<CallEndedEvent>(device(ann), 'CALL_ENDED');
      const rejected = await callEventOk(device(cat), 'CALL_REJECT', { callId: first.call.id });
      assert.deepEqual([rejected.status, rejected.endReason], ['rejected', 'rejected']);
      assert.deepEqual(await over, { callId: first.call.id, reason: 'rejected' });

      const second = await ringingGroupCall(group, ben);
      const joined = nextEvent<ParticipantEvent>(device(ben), 'CALL_PARTICIPANT_JOINED');
      const annIn = await groupCallOk(device(ann), 'CALL_JOIN', { callId: second.call.id });
      assert.deepEqual((await joined).participant, annIn.you);
      assert.deepEqual([annIn.you.muted, annIn.you.camera, annIn.you.joinOrder], [false, false, 1]);
      const state = nextEvent<ParticipantEvent>(device(ben), 'CALL_PARTICIPANT_STATE');
      assert.deepEqual(await emitAck(device(ann), 'CALL_PARTICIPANT_STATE', { callId: second.call.id, muted: true, camera: false }), { ok: true });
      assert.deepEqual((await state).participant, { ...annIn.you, muted: true });
      assert.equal(await refusal(device(cat), 'CALL_PARTICIPANT_STATE', { callId: second.call.id, muted: true, camera: false }), 'INVALID_STATE', 'not in the call');
      const left = nextEvent<ParticipantLeftEvent>(device(ben), 'CALL_PARTICIPANT_LEFT');
      await callEventOk(device(ann), 'CALL_ENDED', { callId: second.call.id });
      assert.deepEqual(await left, { callId: second.call.id, userId: ann.id, deviceId: annIn.you.deviceId, reason: 'left' });
      await callEventOk(device(ben), 'CALL_ENDED', { callId: second.call.id });
    });

    test('mesh signaling is addressed per device; of two devices the later joiner offers; the earlier only answers', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const [ann, ben] = group.members as [CallUser, CallUser];
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      const benIn = await groupCallOk(device(ben), 'CALL_JOIN', { callId });
      const annDevice = started.you.deviceId;
      assert.equal(await refusal(device(ann), 'CALL_SIGNAL', { callId, to: benIn.you.deviceId, description: OFFER }), 'INVALID_STATE');
      assert.equal(await refusal(device(ben), 'CALL_SIGNAL', { callId, to: annDevice, description: ANSWER }), 'INVALID_STATE');
      assert.equal(await refusal(device(ben), 'CALL_SIGNAL', { callId, description: OFFER }), 'VALIDATION_FAILED', 'a mesh needs `to`');
      assert.equal(await refusal(device(ben), 'CALL_SIGNAL', { callId, to: benIn.you.deviceId, description: OFFER }), 'NOT_FOUND', 'not to yourself');
      const offer = nextEvent(device(ann), 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(device(ben), 'CALL_SIGNAL', { callId, to: annDevice, description: OFFER }), { ok: true });
      assert.deepEqual(await offer, { callId, description: OFFER, from: ben.id, fromDevice: benIn.you.deviceId });
      const answer = nextEvent(device(ben), 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(device(ann), 'CALL_SIGNAL', { callId, to: benIn.you.deviceId, description: ANSWER }), { ok: true });
      assert.deepEqual(await answer, { callId, description: ANSWER, from: ann.id, fromDevice: annDevice });
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
      await callEventOk(device(ben), 'CALL_ENDED', { callId });
    });

    test('a member removed from the group leaves its call at once and cannot come back; a rung one stops ringing', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat', 'Dan']);
      const [ann, ben, , dan] = group.members as Quartet;
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      const benIn = await groupCallOk(device(ben), 'CALL_JOIN', { callId });
      const told = nextEvent<ParticipantLeftEvent>(device(ann), 'CALL_PARTICIPANT_LEFT');
      const benOut = nextEvent<CallEndedEvent>(device(ben), 'CALL_ENDED');
      const danOut = nextEvent<CallEndedEvent>(device(dan), 'CALL_ENDED');
      assert.equal((await removeMember(server.baseUrl, ann.tokens[0]!, group.id, ben.id)).status, 200);
      assert.deepEqual(await benOut, { callId, reason: 'removed' });
      // Only Ann is in the call with Ben; Cat, rung, is not told who leaves.
      assert.deepEqual(await told, { callId, userId: ben.id, deviceId: benIn.you.deviceId, reason: 'removed' });
      assert.equal(await refusal(device(ben), 'CALL_JOIN', { callId }), 'FORBIDDEN');
      assert.equal((await removeMember(server.baseUrl, ann.tokens[0]!, group.id, dan.id)).status, 200);
      assert.deepEqual(await danOut, { callId, reason: 'removed' });
      const participants = await emitAck<{ ok: true } & ParticipantsResult>(device(ann), 'CALL_PARTICIPANTS', { callId });
      assert.deepEqual(participants.participants.map((participant) => participant.userId), [ann.id]);
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
      const stored = await storedGroupCall(server.baseUrl, ann.tokens[0]!, callId);
      assert.ok(stored.participants.find((participant) => participant.userId === ben.id)?.leftAt, 'Ben left when he was removed');
    });

    test('a full call refuses the next join with CALL_FULL; a user is in one call at a time', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat', 'Dan']);
      const [ann, ben, cat, dan] = group.members as Quartet;
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      await groupCallOk(device(ben), 'CALL_JOIN', { callId });
      await groupCallOk(device(cat), 'CALL_JOIN', { callId });
      const full = await emitAck(device(dan), 'CALL_JOIN', { callId });
      assert.deepEqual(full, { ok: false, error: { code: 'CALL_FULL', message: 'The call is full: 3 of 3 participants' } });
      assert.equal(await refusal(device(ben), 'CALL_JOIN', { callId }), 'INVALID_STATE', 'already in');
      await callEventOk(device(cat), 'CALL_ENDED', { callId });
      const eve = await callUser(server.baseUrl, 'Eve');
      const direct = await acceptedCall(dan, eve);
      assert.equal(await refusal(device(dan), 'CALL_JOIN', { callId }), 'INVALID_STATE', 'in a 1:1 call');
      await callEventOk(device(dan), 'CALL_ENDED', { callId: direct.id });
      await groupCallOk(device(dan), 'CALL_JOIN', { callId });
      const busy = await callEventOk(device(eve), 'CALL_REQUEST', { to: dan.id, type: 'audio' });
      assert.deepEqual([busy.status, busy.endReason], ['busy', 'busy'], 'in a group call is busy for a 1:1 call');
      for (const member of [ann, ben, dan]) await callEventOk(device(member), 'CALL_ENDED', { callId });
    });

    test('join churn is budgeted per user: past GROUP_CALL_JOINS_PER_MINUTE joins, RATE_LIMITED', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben']);
      const [ann, ben] = group.members as [CallUser, CallUser];
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      for (let round = 0; round < JOINS_PER_MINUTE; round += 1) {
        await groupCallOk(device(ben), 'CALL_JOIN', { callId });
        await callEventOk(device(ben), 'CALL_ENDED', { callId });
      }
      assert.equal(await refusal(device(ben), 'CALL_JOIN', { callId }), 'RATE_LIMITED');
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
    });

    test('a dropped participant has the grace: back in time it gets CALL_STATE and the others see it reconnect; past it, it has left', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const [ann, ben, cat] = group.members as Trio;
      const started = await ringingGroupCall(group);
      const callId = started.call.id;
      const benIn = await groupCallOk(device(ben), 'CALL_JOIN', { callId });
      // A rung member's device that connects while the call rings is rung (first: the ring lasts RING_MS).
      await dropConnection(device(cat));
      const ring = await reconnect<IncomingGroupCallEvent>(device(cat), 'CALL_REQUEST');
      assert.equal(ring.call.id, callId);
      const states = collect<ParticipantEvent>(device(ann), 'CALL_PARTICIPANT_STATE');
      await dropConnection(device(ben));
      const back = await reconnect<GroupCallResult>(device(ben), 'CALL_STATE');
      assert.deepEqual(back.you, benIn.you);
      assert.deepEqual(back.participants.map((participant) => participant.userId), [ann.id, ben.id]);
      await sleep(GRACE_MS + 300);
      await roundTrip(device(ann));
      assert.deepEqual(states.items.map((event) => event.participant.connection), ['reconnecting', 'connected']);

      const lost = nextEvent<ParticipantLeftEvent>(device(ann), 'CALL_PARTICIPANT_LEFT', GRACE_MS * 4);
      await dropConnection(device(ben));
      assert.deepEqual(await lost, { callId, userId: ben.id, deviceId: benIn.you.deviceId, reason: 'connection_lost' });
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
      const stored = await storedGroupCall(server.baseUrl, ann.tokens[0]!, callId);
      assert.deepEqual([stored.status, stored.endReason], ['ended', 'hangup']);
    });

    // Last: it restarts the app.
    test('a stopping server ends its group calls as failed (server_restart), telling everyone in them and everyone rung', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
      const [ann, ben, cat] = group.members as Trio;
      const started = await ringingGroupCall(group);
      await groupCallOk(device(ben), 'CALL_JOIN', { callId: started.call.id });
      const told = [ann, ben, cat].map((member) => nextEvent<CallEndedEvent>(device(member), 'CALL_ENDED', 10_000));
      await server.stop();
      for (const ended of await Promise.all(told)) assert.deepEqual(ended, { callId: started.call.id, reason: 'server_restart' });
      await server.start();
      const stored = await storedGroupCall(server.baseUrl, cat.tokens[0]!, started.call.id);
      assert.deepEqual([stored.status, stored.endReason], ['failed', 'server_restart']);
      assert.ok(stored.participants.every((participant) => participant.leftAt !== null), 'everyone left when it ended');
    });
  });
}
