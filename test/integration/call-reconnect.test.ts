import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import type { CallEndedEvent, CallStateEvent, IceCandidateEvent } from '../../src/protocol/call-events.js';
import { acceptedCall, ANSWER, callEventOk, callUser, device, ringingCall, roundTrip, sleep, storedCall } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { closeAllSockets, collect, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Reconnecting takes milliseconds; the margin is for a loaded machine.
const GRACE_MS = 1_000;
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

/** The connection breaks the way a phone losing its network does: no goodbye, the server sees the transport close. */
function dropConnection(socket: ClientSocket): Promise<unknown> {
  const gone = nextEvent(socket, 'disconnect');
  (socket as unknown as Socket).io.engine.close();
  return gone;
}

for (const target of databaseTargets()) {
  describe(`calls across disconnects (${target.kind})`, { skip: target.skip }, () => {
    let server: TestApp;
    before(async () => {
      server = await startTestApp(target.kind, { CALL_RECONNECT_GRACE_MS: String(GRACE_MS), RATE_LIMIT_AUTH_PER_IP: '100000' });
    });
    after(async () => {
      closeAllSockets();
      await server.stop();
    });

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
    });

    test('a device that reconnects within the grace keeps the call, gets CALL_STATE and the signaling', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob');
      const accepted = await acceptedCall(alice, bob);
      const onBob = collect(device(bob), 'CALL_ENDED');
      await dropConnection(device(alice));

      const otherDevice = collect(device(alice, 1), 'CALL_STATE');
      const back = await connectSocket(server.baseUrl, alice.tokens[0]!);
      const state = await nextEvent<CallStateEvent>(back, 'CALL_STATE');
      assert.deepEqual(state, { call: accepted, peer: { id: bob.id, name: 'Bob' } });
      await sleep(GRACE_MS + 300);
      await Promise.all([roundTrip(device(bob)), roundTrip(device(alice, 1))]);
      assert.deepEqual(onBob.items, [], 'the call was kept');
      assert.deepEqual(otherDevice.items, [], 'only the device in the call resumes it');

      const candidate = nextEvent<IceCandidateEvent>(back, 'ICE_CANDIDATE');
      await emitAck(device(bob), 'ICE_CANDIDATE', { callId: accepted.id, candidate: CANDIDATE });
      assert.deepEqual(await candidate, { callId: accepted.id, candidate: CANDIDATE, from: bob.id });
      const ended = nextEvent<CallEndedEvent>(device(bob), 'CALL_ENDED');
      const call = await callEventOk(back, 'CALL_ENDED', { callId: accepted.id });
      assert.deepEqual([call.status, call.endReason], ['ended', 'hangup']);
      assert.deepEqual(await ended, { callId: accepted.id, reason: 'hangup' });
    });

    test('a recovered connection resumes the call and receives what was sent while it was away', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const accepted = await acceptedCall(alice, bob);
      const socket = device(bob);
      await dropConnection(socket);
      await emitAck(device(alice), 'ICE_CANDIDATE', { callId: accepted.id, candidate: CANDIDATE });

      const state = nextEvent<CallStateEvent>(socket, 'CALL_STATE');
      const missed = nextEvent<IceCandidateEvent>(socket, 'ICE_CANDIDATE');
      socket.connect();
      assert.deepEqual(await missed, { callId: accepted.id, candidate: CANDIDATE, from: alice.id });
      assert.deepEqual((await state).call, accepted);
      assert.equal((socket as unknown as Socket).recovered, true);
      await sleep(GRACE_MS + 300);
      const call = await callEventOk(device(alice), 'CALL_ENDED', { callId: accepted.id });
      assert.equal(call.endReason, 'hangup', 'the call outlived the grace');
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
      await dropConnection(device(bob));
      const back = await connectSocket(server.baseUrl, bob.tokens[0]!);
      await nextEvent(back, 'CALL_REQUEST');
      await sleep(GRACE_MS + 300);
      const call = await callEventOk(back, 'CALL_ACCEPT', { callId: id, answer: ANSWER });
      assert.equal(call.status, 'accepted');
      await callEventOk(back, 'CALL_ENDED', { callId: id });
    });
  });
}
