import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEndedEvent, CallSignalEvent, CallStateEvent, IceCandidateEvent, IncomingCallEvent } from '../../src/protocol/call-events.js';
import {
  acceptedCall,
  ANSWER,
  callEventOk,
  callUser,
  device,
  OFFER,
  reconnect,
  refusal,
  ringingCall,
  roundTrip,
  sleep,
  storedCall,
  CANDIDATE,
  dropConnection,
} from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { collect, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

// Reconnecting takes milliseconds; the margin is for a loaded machine.
const GRACE_MS = 1_000;

for (const target of databaseTargets()) {
  describe(`calls across disconnects (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CALL_RECONNECT_GRACE_MS: String(GRACE_MS), RATE_LIMIT_AUTH_PER_IP: '100000' });

    test('a party whose device stays away past the grace ends the call: connection_lost, with the duration', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await acceptedCall(alice, bob);
      const ended = nextEvent<CallEndedEvent>(device(bob), 'CALL_ENDED', GRACE_MS * 4);
      await dropConnection(device(alice));
      const droppedAt = Date.now();
      // Another device of Alice's being connected does not keep the call: it is not in it.
      assert.equal(device(alice, 1).connected, true);
      assert.deepEqual(await ended, { callId: id, reason: 'connection_lost' });
      assert.ok(Date.now() - droppedAt >= GRACE_MS - 50, 'not before the grace ran out');
      const call = await storedCall(server.baseUrl, bob.tokens[0]!, id);
      assert.deepEqual([call.status, call.endReason], ['ended', 'connection_lost']);
      assert.equal(call.durationSeconds, Math.floor((Date.parse(call.endedAt!) - Date.parse(call.answeredAt!)) / 1000));

      // Coming back after the grace, the device finds the call over: no CALL_STATE, and history says how it ended.
      const states = collect(device(alice), 'CALL_STATE');
      const connected = nextEvent(device(alice), 'connect');
      device(alice).connect();
      await connected;
      await roundTrip(device(alice));
      assert.deepEqual(states.items, []);
      assert.equal(await refusal(device(alice), 'CALL_ENDED', { callId: id }), 'INVALID_STATE');
    });

    test('a device that reconnects within the grace keeps the call, gets CALL_STATE and the signaling', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob');
      const accepted = await acceptedCall(alice, bob);
      const onBob = collect(device(bob), 'CALL_ENDED');
      const socket = device(alice);
      const before = socket.id;
      await dropConnection(socket);

      const otherDevice = collect(device(alice, 1), 'CALL_STATE');
      const state = await reconnect<CallStateEvent>(socket, 'CALL_STATE');
      assert.notEqual(socket.id, before, 'a new connection, not the old one resumed');
      assert.deepEqual(state, { call: accepted, peer: { id: bob.id, name: 'Bob' } });
      await sleep(GRACE_MS + 300);
      await Promise.all([roundTrip(device(bob)), roundTrip(device(alice, 1))]);
      assert.deepEqual(onBob.items, [], 'the call was kept');
      assert.deepEqual(otherDevice.items, [], 'only the device in the call resumes it');

      const candidate = nextEvent<IceCandidateEvent>(socket, 'ICE_CANDIDATE');
      await emitAck(device(bob), 'ICE_CANDIDATE', { callId: accepted.id, candidate: CANDIDATE(1) });
      assert.deepEqual(await candidate, { callId: accepted.id, candidate: CANDIDATE(1), from: bob.id });
      const ended = nextEvent<CallEndedEvent>(device(bob), 'CALL_ENDED');
      const call = await callEventOk(socket, 'CALL_ENDED', { callId: accepted.id });
      assert.deepEqual([call.status, call.endReason], ['ended', 'hangup']);
      assert.deepEqual(await ended, { callId: accepted.id, reason: 'hangup' });
    });

    test('what was sent to a device while it was away is not replayed: it gets CALL_STATE and restarts ICE with CALL_SIGNAL', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const accepted = await acceptedCall(alice, bob);
      const socket = device(bob);
      await dropConnection(socket);
      // Relayed to the device's connection in the call, which is gone: acknowledged, and lost with it.
      assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: accepted.id, candidate: CANDIDATE(1) }), { ok: true });

      const candidates = collect<IceCandidateEvent>(socket, 'ICE_CANDIDATE');
      const state = await reconnect<CallStateEvent>(socket, 'CALL_STATE');
      assert.deepEqual(state, { call: accepted, peer: { id: alice.id, name: 'Alice' } });

      const restart = nextEvent<CallSignalEvent>(device(alice), 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(socket, 'CALL_SIGNAL', { callId: accepted.id, description: OFFER }), { ok: true });
      assert.deepEqual(await restart, { callId: accepted.id, description: OFFER, from: bob.id });
      const answered = nextEvent<CallSignalEvent>(socket, 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(device(alice), 'CALL_SIGNAL', { callId: accepted.id, description: ANSWER }), { ok: true });
      assert.deepEqual(await answered, { callId: accepted.id, description: ANSWER, from: alice.id });
      await emitAck(device(alice), 'ICE_CANDIDATE', { callId: accepted.id, candidate: CANDIDATE(2) });
      await roundTrip(device(alice));
      await roundTrip(socket);
      assert.deepEqual(candidates.items, [{ callId: accepted.id, candidate: CANDIDATE(2), from: alice.id }], 'only what was sent after it came back');
      await callEventOk(device(alice), 'CALL_ENDED', { callId: accepted.id });
    });

    test('while it rings: the callee losing every device makes it missed, the caller losing theirs cancelled', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const first = await ringingCall(alice, bob);
      const lost = nextEvent<CallEndedEvent>(device(alice), 'CALL_ENDED', GRACE_MS * 4);
      await dropConnection(device(bob, 0));
      await sleep(GRACE_MS + 300);
      const stillRinging = await storedCall(server.baseUrl, alice.tokens[0]!, first.id);
      assert.equal(stillRinging.status, 'ringing', 'one device of the callee is still there');
      await dropConnection(device(bob, 1));
      assert.deepEqual(await lost, { callId: first.id, reason: 'connection_lost' });
      const missed = await storedCall(server.baseUrl, alice.tokens[0]!, first.id);
      assert.deepEqual([missed.status, missed.endReason], ['missed', 'connection_lost']);

      const carol = await callUser(server.baseUrl, 'Carol', 2);
      const second = await ringingCall(alice, carol);
      const stopped = carol.devices.map((socket) => nextEvent<CallEndedEvent>(socket, 'CALL_ENDED', GRACE_MS * 4));
      await dropConnection(device(alice));
      for (const ended of await Promise.all(stopped)) assert.deepEqual(ended, { callId: second.id, reason: 'connection_lost' });
      const cancelled = await storedCall(server.baseUrl, carol.tokens[0]!, second.id);
      assert.deepEqual([cancelled.status, cancelled.endReason], ['cancelled', 'connection_lost']);
    });

    test('a ringing callee that comes back within the grace can still answer', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await ringingCall(alice, bob);
      const socket = device(bob);
      await dropConnection(socket);
      const ring = await reconnect<IncomingCallEvent>(socket, 'CALL_REQUEST');
      assert.equal(ring.call.id, id);
      await sleep(GRACE_MS + 300);
      const call = await callEventOk(socket, 'CALL_ACCEPT', { callId: id, answer: ANSWER });
      assert.equal(call.status, 'accepted');
      await callEventOk(socket, 'CALL_ENDED', { callId: id });
    });
  });
}
