import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallAcceptedEvent, CallEndedEvent, CallIdEvent, IceCandidateEvent, IncomingCallEvent } from '../../src/protocol/call-events.js';
import {
  acceptedCall,
  ANSWER,
  callEvent,
  callEventOk,
  callHistory,
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
} from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { collect, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

// Long enough that no test's ringing call times out on a loaded machine, short enough to wait for.
const RING_TIMEOUT_MS = 2_000;

for (const target of databaseTargets()) {
  describe(`call signaling (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CALL_RING_TIMEOUT_MS: String(RING_TIMEOUT_MS), RATE_LIMIT_AUTH_PER_IP: '100000' });

    test('a request rings every device of the callee with the offer, and nothing else', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const rings = bob.devices.map((socket) => nextEvent<IncomingCallEvent>(socket, 'CALL_REQUEST'));
      const onAliceOther = collect(device(alice, 1), 'CALL_REQUEST');

      const call = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'video', offer: OFFER });
      assert.equal(call.status, 'ringing');
      assert.equal(call.callerId, alice.id);
      assert.equal(call.calleeId, bob.id);
      assert.equal(call.type, 'video');
      assert.deepEqual([call.answeredAt, call.endedAt, call.durationSeconds, call.endReason], [null, null, null, null]);
      for (const ring of await Promise.all(rings)) {
        assert.deepEqual(ring, { call, from: { id: alice.id, name: 'Alice' }, offer: OFFER });
      }
      await roundTrip(device(alice, 1));
      assert.deepEqual(onAliceOther.items, [], "the caller's other devices are not told");
      assert.deepEqual(await storedCall(server.baseUrl, bob.tokens[0]!, call.id), call);
      await callEventOk(device(alice), 'CALL_ENDED', { callId: call.id });
    });

    test('accepting on one device answers the caller, stops the other devices ringing, and refuses a second accept', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 3);
      const { id } = await ringingCall(alice, bob);
      const answered = nextEvent<CallAcceptedEvent>(device(alice), 'CALL_ACCEPT');
      const stopped = [1, 2].map((index) => nextEvent<CallEndedEvent>(device(bob, index), 'CALL_ENDED'));
      const onAcceptingDevice = collect(device(bob, 0), 'CALL_ENDED');

      const call = await callEventOk(device(bob, 0), 'CALL_ACCEPT', { callId: id, answer: ANSWER });
      assert.equal(call.status, 'accepted');
      assert.ok(call.answeredAt);
      assert.deepEqual(await answered, { callId: id, answer: ANSWER });
      for (const ended of await Promise.all(stopped)) assert.deepEqual(ended, { callId: id, reason: 'answered_elsewhere' });

      assert.equal(await refusal(device(bob, 1), 'CALL_ACCEPT', { callId: id, answer: ANSWER }), 'INVALID_STATE');
      await roundTrip(device(bob, 0));
      assert.deepEqual(onAcceptingDevice.items, []);
      assert.deepEqual(await storedCall(server.baseUrl, alice.tokens[0]!, id), call);
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
    });

    test('concurrent accepts from two devices: exactly one wins', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const { id } = await ringingCall(alice, bob);
      const acks = await Promise.all(bob.devices.map((socket) => callEvent(socket, 'CALL_ACCEPT', { callId: id, answer: ANSWER })));
      assert.deepEqual(acks.map((ack) => ack.ok).sort(), [false, true]);
      const refused = acks.find((ack) => !ack.ok);
      assert.equal(refused && !refused.ok && refused.error.code, 'INVALID_STATE');
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
    });

    test('reject: the caller hears CALL_REJECT, the other callee devices stop ringing', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const { id } = await ringingCall(alice, bob);
      const rejected = nextEvent<CallIdEvent>(device(alice), 'CALL_REJECT');
      const stopped = nextEvent<CallEndedEvent>(device(bob, 1), 'CALL_ENDED');

      const call = await callEventOk(device(bob, 0), 'CALL_REJECT', { callId: id });
      assert.deepEqual([call.status, call.endReason, call.durationSeconds], ['rejected', 'rejected', null]);
      assert.ok(call.endedAt);
      assert.deepEqual(await rejected, { callId: id });
      assert.deepEqual(await stopped, { callId: id, reason: 'rejected' });
      assert.equal(await refusal(device(alice), 'CALL_ENDED', { callId: id }), 'INVALID_STATE');
    });

    test('the caller hanging up while it rings cancels; the callee hanging up while it rings declines', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const first = await ringingCall(alice, bob);
      const stopped = bob.devices.map((socket) => nextEvent<CallEndedEvent>(socket, 'CALL_ENDED'));
      const cancelled = await callEventOk(device(alice), 'CALL_ENDED', { callId: first.id });
      assert.deepEqual([cancelled.status, cancelled.endReason], ['cancelled', 'cancelled']);
      for (const ended of await Promise.all(stopped)) assert.deepEqual(ended, { callId: first.id, reason: 'cancelled' });

      const second = await ringingCall(alice, bob);
      const rejected = nextEvent<CallIdEvent>(device(alice), 'CALL_REJECT');
      const declined = await callEventOk(device(bob, 1), 'CALL_ENDED', { callId: second.id });
      assert.deepEqual([declined.status, declined.endReason], ['rejected', 'rejected']);
      assert.deepEqual(await rejected, { callId: second.id });
    });

    test('either party hangs up an accepted call: the other hears CALL_ENDED hangup, history has the duration', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      for (const [hangsUp, hears] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const { id } = await acceptedCall(alice, bob);
        if (hangsUp === alice) await sleep(1_050);
        const heard = nextEvent<CallEndedEvent>(device(hears), 'CALL_ENDED');
        const call = await callEventOk(device(hangsUp), 'CALL_ENDED', { callId: id });
        assert.deepEqual(await heard, { callId: id, reason: 'hangup' });
        assert.deepEqual([call.status, call.endReason], ['ended', 'hangup']);
        const answeredAt = Date.parse(call.answeredAt!);
        const endedAt = Date.parse(call.endedAt!);
        assert.equal(call.durationSeconds, Math.floor((endedAt - answeredAt) / 1000));
        assert.ok(call.durationSeconds! >= (hangsUp === alice ? 1 : 0));
        assert.deepEqual(await storedCall(server.baseUrl, hears.tokens[0]!, id), call);
      }
    });

    test('a callee device declares busy: the caller hears CALL_BUSY, the other devices stop ringing', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const { id } = await ringingCall(alice, bob);
      const busy = nextEvent<CallIdEvent>(device(alice), 'CALL_BUSY');
      const stopped = nextEvent<CallEndedEvent>(device(bob, 1), 'CALL_ENDED');
      const call = await callEventOk(device(bob, 0), 'CALL_BUSY', { callId: id });
      assert.deepEqual([call.status, call.endReason], ['busy', 'busy']);
      assert.deepEqual(await busy, { callId: id });
      assert.deepEqual(await stopped, { callId: id, reason: 'busy' });
    });

    test('calling someone who is ringing or in a call, or calling while in one, is busy at once and in history', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const carol = await callUser(server.baseUrl, 'Carol', 2);
      const dave = await callUser(server.baseUrl, 'Dave');
      const ringing = await ringingCall(alice, bob);
      const onBob = collect(device(bob), 'CALL_REQUEST');

      for (const [caller, callee] of [
        [carol, bob], // the callee is ringing
        [carol, alice], // the callee is calling someone
        [alice, dave], // the caller is in a call
      ] as const) {
        const heard = nextEvent<CallIdEvent>(device(caller), 'CALL_BUSY');
        const call = await callEventOk(device(caller), 'CALL_REQUEST', { to: callee.id, type: 'audio', offer: OFFER });
        assert.deepEqual([call.status, call.endReason, call.answeredAt, call.durationSeconds], ['busy', 'busy', null, null]);
        assert.deepEqual(await heard, { callId: call.id });
        assert.deepEqual(await storedCall(server.baseUrl, callee.tokens[0]!, call.id), call);
      }
      await roundTrip(device(bob));
      assert.deepEqual(onBob.items, [], 'a busy call never rings');

      await callEventOk(device(bob), 'CALL_ACCEPT', { callId: ringing.id, answer: ANSWER });
      const busy = await callEventOk(device(carol, 1), 'CALL_REQUEST', { to: bob.id, type: 'video' });
      assert.equal(busy.status, 'busy', 'the callee is in an accepted call');
      await callEventOk(device(bob), 'CALL_ENDED', { callId: ringing.id });
    });

    test('nobody answers: CALL_TIMEOUT reaches both parties exactly once, the call is missed', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const sockets = [device(alice), ...bob.devices];
      const timeouts = sockets.map((socket) => collect<CallIdEvent>(socket, 'CALL_TIMEOUT'));
      const { id } = await ringingCall(alice, bob);
      await nextEvent(device(alice), 'CALL_TIMEOUT', RING_TIMEOUT_MS * 3);
      await sleep(300);
      await Promise.all(sockets.map(roundTrip));
      for (const received of timeouts) assert.deepEqual(received.items, [{ callId: id }]);
      const call = await storedCall(server.baseUrl, alice.tokens[0]!, id);
      assert.deepEqual([call.status, call.endReason, call.answeredAt, call.durationSeconds], ['missed', 'timeout', null, null]);
      assert.equal(await refusal(device(bob), 'CALL_ACCEPT', { callId: id }), 'INVALID_STATE');
    });

    test('a callee who is offline is still called: a device that connects while it rings rings too, else it is missed', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const late = device(bob);
      late.disconnect();
      const first = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer: OFFER });
      assert.equal(first.status, 'ringing');
      const ring = await reconnect<IncomingCallEvent>(late, 'CALL_REQUEST');
      assert.deepEqual(ring, { call: first, from: { id: alice.id, name: 'Alice' }, offer: OFFER });
      await callEventOk(late, 'CALL_REJECT', { callId: first.id });

      late.disconnect();
      const timedOut = nextEvent<CallIdEvent>(device(alice), 'CALL_TIMEOUT', RING_TIMEOUT_MS * 4);
      const second = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'video' });
      assert.deepEqual(await timedOut, { callId: second.id });
      const missed = await callHistory(server.baseUrl, bob.tokens[0]!, '?status=missed&direction=incoming');
      assert.deepEqual(
        missed.calls.map((call) => [call.id, call.endReason]),
        [[second.id, 'timeout']],
      );
    });

    test('a callee device that connects while the call rings, and does not answer, still lets it time out', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const late = device(bob, 1);
      late.disconnect();
      const rings = nextEvent(device(bob, 0), 'CALL_REQUEST');
      const call = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer: OFFER });
      await rings;
      const timeouts = [device(alice), ...bob.devices].map((socket) => nextEvent<CallIdEvent>(socket, 'CALL_TIMEOUT', RING_TIMEOUT_MS * 3));

      const ring = await reconnect<IncomingCallEvent>(late, 'CALL_REQUEST');
      assert.deepEqual(ring, { call, from: { id: alice.id, name: 'Alice' }, offer: OFFER });
      for (const timeout of await Promise.all(timeouts)) assert.deepEqual(timeout, { callId: call.id });
      const stored = await storedCall(server.baseUrl, alice.tokens[0]!, call.id);
      assert.deepEqual([stored.status, stored.endReason], ['missed', 'timeout']);
    });

    test('ICE: the caller’s early candidates wait for the accepting device; after that both ways, only between the two', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const { id } = await ringingCall(alice, bob);
      const onBobOther = collect(device(bob, 1), 'ICE_CANDIDATE');
      const onAliceOther = collect(device(alice, 1), 'ICE_CANDIDATE');
      const toBob = collect<IceCandidateEvent>(device(bob, 0), 'ICE_CANDIDATE');
      const toAlice = collect<IceCandidateEvent>(device(alice, 0), 'ICE_CANDIDATE');

      assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(1) }), { ok: true });
      assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(2) }), { ok: true });
      // The callee's device trickles right after its answer, possibly before the accept went through.
      assert.deepEqual(await emitAck(device(bob, 0), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(3) }), { ok: true });
      await roundTrip(device(bob, 0));
      assert.deepEqual(toBob.items, [], 'held until the call is answered');
      assert.deepEqual(toAlice.items, []);

      await callEventOk(device(bob, 0), 'CALL_ACCEPT', { callId: id, answer: ANSWER });
      await emitAck(device(bob, 0), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(4) });
      await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(5) });
      await Promise.all([roundTrip(device(alice)), roundTrip(device(bob, 0))]);
      assert.deepEqual(toBob.items, [1, 2, 5].map((n) => ({ callId: id, candidate: CANDIDATE(n), from: alice.id })));
      assert.deepEqual(toAlice.items, [3, 4].map((n) => ({ callId: id, candidate: CANDIDATE(n), from: bob.id })));

      assert.equal(await refusal(device(bob, 1), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(6) }), 'INVALID_STATE');
      assert.equal(await refusal(device(alice, 1), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(7) }), 'INVALID_STATE');
      await Promise.all([roundTrip(device(alice, 1)), roundTrip(device(bob, 1))]);
      assert.deepEqual(onBobOther.items, []);
      assert.deepEqual(onAliceOther.items, []);
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
      assert.equal(await refusal(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(8) }), 'INVALID_STATE');
    });

    test('candidates a ringing device sent are dropped when another device accepts', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob', 2);
      const { id } = await ringingCall(alice, bob);
      const toAlice = collect<IceCandidateEvent>(device(alice), 'ICE_CANDIDATE');
      await emitAck(device(bob, 1), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(1) });
      await emitAck(device(bob, 0), 'ICE_CANDIDATE', { callId: id, candidate: CANDIDATE(2) });
      await callEventOk(device(bob, 0), 'CALL_ACCEPT', { callId: id, answer: ANSWER });
      await roundTrip(device(alice));
      assert.deepEqual(toAlice.items, [{ callId: id, candidate: CANDIDATE(2), from: bob.id }]);
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
    });

    test('glare: when both call each other at once, the first request rings and the second is busy', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const rings = [alice, bob].map((user) => collect<IncomingCallEvent>(device(user), 'CALL_REQUEST'));
      const [fromAlice, fromBob] = await Promise.all([
        callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer: OFFER }),
        callEventOk(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER }),
      ]);
      const statuses = [fromAlice.status, fromBob.status].sort();
      assert.deepEqual(statuses, ['busy', 'ringing']);
      const winner = fromAlice.status === 'ringing' ? fromAlice : fromBob;
      await Promise.all([roundTrip(device(alice)), roundTrip(device(bob))]);
      const rang = rings.flatMap((ring) => ring.items.map((item) => item.call.id));
      assert.deepEqual(rang, [winner.id], 'only the winning call rings, at its callee');
      await callEventOk(device(alice), 'CALL_ENDED', { callId: winner.id });
    });

    test('CALL_SIGNAL renegotiates an accepted call between the two devices, and is refused before the answer', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const ringing = await ringingCall(alice, bob);
      assert.equal(await refusal(device(alice), 'CALL_SIGNAL', { callId: ringing.id, description: OFFER }), 'INVALID_STATE');
      await callEventOk(device(bob), 'CALL_ACCEPT', { callId: ringing.id, answer: ANSWER });

      const toBob = nextEvent(device(bob), 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(device(alice), 'CALL_SIGNAL', { callId: ringing.id, description: OFFER }), { ok: true });
      assert.deepEqual(await toBob, { callId: ringing.id, description: OFFER, from: alice.id });
      const toAlice = nextEvent(device(alice), 'CALL_SIGNAL');
      assert.deepEqual(await emitAck(device(bob), 'CALL_SIGNAL', { callId: ringing.id, description: ANSWER }), { ok: true });
      assert.deepEqual(await toAlice, { callId: ringing.id, description: ANSWER, from: bob.id });
      await callEventOk(device(bob), 'CALL_ENDED', { callId: ringing.id });
    });
  });
}
