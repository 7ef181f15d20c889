import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SDP_MAX_BYTES, ICE_CANDIDATE_MAX_BYTES } from '../../src/protocol/call-events.js';
import { MAX_HELD_CANDIDATES } from '../../src/calls/call-service.js';
import { newId } from '../../src/shared/ids.js';
import { ANSWER, callEventOk, callUser, device, OFFER, refusal, ringingCall } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';
import { request } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const SIGNALING_BUDGET = 10;
const sdpOf = (bytes: number, filler = 'a') => `v=0\r\n${filler.repeat(bytes - 5)}`;
const candidateOf = (bytes: number) => ({ candidate: `candidate:${'1'.repeat(bytes - 10)}`, sdpMid: '0', sdpMLineIndex: 0 });

/** Every client event that names an existing call, with a valid payload for `callId`. */
const CALL_EVENTS = (callId: string): [string, unknown][] => [
  ['CALL_ACCEPT', { callId, answer: ANSWER }],
  ['CALL_REJECT', { callId }],
  ['CALL_BUSY', { callId }],
  ['CALL_ENDED', { callId }],
  ['ICE_CANDIDATE', { callId, candidate: candidateOf(100) }],
  ['CALL_SIGNAL', { callId, description: OFFER }],
];

for (const target of databaseTargets()) {
  describe(`call authorisation and bad input (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { RATE_LIMIT_AUTH_PER_IP: '100000' });

    /** The socket can still place a call (then cancelled): the connection is usable. */
    async function assertUsable(socket: ClientSocket): Promise<void> {
      assert.equal(socket.connected, true);
      const callee = await callUser(server.baseUrl, 'Someone');
      const call = await callEventOk(socket, 'CALL_REQUEST', { to: callee.id, type: 'audio' });
      await callEventOk(socket, 'CALL_ENDED', { callId: call.id });
    }

    test('only the two parties may act on a call: anyone else is FORBIDDEN, while it rings and after', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const mallory = await callUser(server.baseUrl, 'Mallory');
      const { id } = await ringingCall(alice, bob);
      for (const [event, payload] of CALL_EVENTS(id)) {
        assert.equal(await refusal(device(mallory), event, payload), 'FORBIDDEN', event);
      }
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
      for (const [event, payload] of CALL_EVENTS(id)) {
        assert.equal(await refusal(device(mallory), event, payload), 'FORBIDDEN', `${event} on a finished call`);
      }
      await assertUsable(device(mallory));
    });

    test('a party doing what is not theirs to do is FORBIDDEN; a call that is over is INVALID_STATE', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await ringingCall(alice, bob);
      for (const event of ['CALL_ACCEPT', 'CALL_REJECT', 'CALL_BUSY']) {
        assert.equal(await refusal(device(alice), event, { callId: id }), 'FORBIDDEN', `the caller cannot ${event}`);
      }
      assert.equal(await refusal(device(alice, 1), 'CALL_ENDED', { callId: id }), 'INVALID_STATE', 'not the calling device');
      await callEventOk(device(bob), 'CALL_REJECT', { callId: id });
      for (const [event, payload] of CALL_EVENTS(id)) {
        assert.equal(await refusal(device(bob), event, payload), 'INVALID_STATE', `${event} on a rejected call`);
      }
    });

    test('an unknown call is NOT_FOUND, a malformed one VALIDATION_FAILED, and the connection stays usable', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      for (const [event, payload] of CALL_EVENTS(newId())) {
        assert.equal(await refusal(device(alice), event, payload), 'NOT_FOUND', event);
      }
      for (const [event] of CALL_EVENTS('x')) {
        for (const payload of [{ callId: 'not-an-id' }, {}, null, 'text', 42, [], { callId: { $ne: null } }]) {
          assert.equal(await refusal(device(alice), event, payload), 'VALIDATION_FAILED', `${event} ${JSON.stringify(payload)}`);
        }
      }
      assert.equal(await refusal(device(alice), 'CALL_REQUEST', undefined), 'VALIDATION_FAILED');
      await assertUsable(device(alice));
    });

    test('calling yourself, an unknown, banned or deleted user, or with a bad type or offer is refused', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const banned = await callUser(server.baseUrl, 'Banned');
      const deleted = await callUser(server.baseUrl, 'Deleted');
      await server.app.storage.users.setStatus(banned.id, 'banned');
      await server.app.storage.users.setStatus(deleted.id, 'deleted');
      const bob = await callUser(server.baseUrl, 'Bob');

      assert.equal(await refusal(device(alice), 'CALL_REQUEST', { to: alice.id, type: 'audio' }), 'VALIDATION_FAILED');
      for (const to of [newId(), banned.id, deleted.id]) {
        assert.equal(await refusal(device(alice), 'CALL_REQUEST', { to, type: 'audio' }), 'NOT_FOUND');
      }
      for (const payload of [
        { to: bob.id, type: 'screen' },
        { to: bob.id },
        { to: bob.id, type: 'audio', offer: ANSWER },
        { to: bob.id, type: 'audio', offer: { type: 'offer' } },
        { to: bob.id, type: 'audio', offer: 'v=0' },
        { to: 'bob', type: 'audio' },
      ]) {
        assert.equal(await refusal(device(alice), 'CALL_REQUEST', payload), 'VALIDATION_FAILED', JSON.stringify(payload));
      }
      assert.deepEqual((await emitAck(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer: ANSWER })).error.details, [
        { path: 'offer.type', message: 'Invalid input: expected "offer"' },
      ]);
      await assertUsable(device(alice));
    });

    test('a user banned or deleted after being called, here or by another process, cannot be called any more', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const [banned, deleted] = [await callUser(server.baseUrl, 'Banned'), await callUser(server.baseUrl, 'Deleted')];
      for (const callee of [banned, deleted]) {
        const call = await callEventOk(device(alice), 'CALL_REQUEST', { to: callee.id, type: 'audio' });
        await callEventOk(device(alice), 'CALL_ENDED', { callId: call.id });
      }
      // Straight in the database, as another process or the CLI would: this process hears of it through
      // the account-events feed, and the sessions it ends say when it has.
      const heard = [banned, deleted].map((user) => nextEvent(device(user), 'SESSION_ENDED'));
      await server.app.storage.users.setStatus(banned.id, 'banned');
      await server.app.storage.users.setStatus(deleted.id, 'deleted');
      await Promise.all(heard);
      for (const callee of [banned, deleted]) {
        assert.equal(await refusal(device(alice), 'CALL_REQUEST', { to: callee.id, type: 'audio' }), 'NOT_FOUND', callee.name);
      }
    });

    test('an SDP over 64 KiB or a candidate over 2 KiB is PAYLOAD_TOO_LARGE; at the limit it passes', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const tooLarge = { type: 'offer', sdp: sdpOf(SDP_MAX_BYTES + 1) };
      // 'é' is two bytes in UTF-8: under the limit in characters, over it in bytes.
      const tooLargeInBytes = { type: 'offer', sdp: sdpOf(SDP_MAX_BYTES / 2 + 10, 'é') };
      for (const offer of [tooLarge, tooLargeInBytes]) {
        const ack = await emitAck(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer });
        assert.equal(ack.ok, false);
        assert.equal(ack.error.code, 'PAYLOAD_TOO_LARGE');
        assert.deepEqual(ack.error.details, [{ path: 'offer.sdp', message: `must be at most ${SDP_MAX_BYTES} bytes` }]);
      }
      const atLimit = { type: 'offer', sdp: sdpOf(SDP_MAX_BYTES) };
      const call = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'video', offer: atLimit });

      const bigAnswer = { type: 'answer', sdp: sdpOf(SDP_MAX_BYTES + 1) };
      assert.equal(await refusal(device(bob), 'CALL_ACCEPT', { callId: call.id, answer: bigAnswer }), 'PAYLOAD_TOO_LARGE');
      const bigCandidate = candidateOf(ICE_CANDIDATE_MAX_BYTES + 1);
      assert.equal(await refusal(device(alice), 'ICE_CANDIDATE', { callId: call.id, candidate: bigCandidate }), 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: call.id, candidate: candidateOf(ICE_CANDIDATE_MAX_BYTES) }), { ok: true });
      await callEventOk(device(bob), 'CALL_ACCEPT', { callId: call.id, answer: { type: 'answer', sdp: sdpOf(SDP_MAX_BYTES) } });
      const bigSignal = { type: 'offer', sdp: sdpOf(SDP_MAX_BYTES + 1) };
      assert.equal(await refusal(device(bob), 'CALL_SIGNAL', { callId: call.id, description: bigSignal }), 'PAYLOAD_TOO_LARGE');
      await callEventOk(device(bob), 'CALL_ENDED', { callId: call.id });
      await assertUsable(device(alice));
      await assertUsable(device(bob));
    });

    test('a device holds at most a bounded number of candidates before the answer', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await ringingCall(alice, bob);
      for (let n = 0; n < MAX_HELD_CANDIDATES; n += 1) {
        assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: candidateOf(80) }), { ok: true });
      }
      assert.equal(await refusal(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: candidateOf(80) }), 'PAYLOAD_TOO_LARGE');
      await callEventOk(device(alice), 'CALL_ENDED', { callId: id });
    });
  });
}

for (const target of databaseTargets()) {
  describe(`call event budgets (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CALL_REQUESTS_PER_MINUTE: '2', CALL_SIGNALING_PER_MINUTE: String(SIGNALING_BUDGET) });

    test('beyond the per-user budget CALL_REQUEST answers RATE_LIMITED, stores nothing, and the socket stays usable', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      for (let n = 0; n < 2; n += 1) {
        const call = await callEventOk(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' });
        await callEventOk(device(alice), 'CALL_ENDED', { callId: call.id });
      }
      const limited = await emitAck(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' });
      assert.equal(limited.ok, false);
      assert.equal(limited.error.code, 'RATE_LIMITED');
      assert.ok(limited.error.retryAfterSeconds >= 1);
      assert.equal(device(alice).connected, true);
      const history = await request(server.baseUrl, 'GET', '/api/call/history', { token: alice.tokens[0]! });
      assert.equal(history.body.calls.length, 2, 'the refused request left no call behind');
      // Bob has a budget of his own.
      const call = await callEventOk(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'video' });
      await callEventOk(device(bob), 'CALL_ENDED', { callId: call.id });
    });

    test('beyond the per-user signaling budget every other call event answers RATE_LIMITED, on all devices of the user', async () => {
      const alice = await callUser(server.baseUrl, 'Alice', 2);
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await ringingCall(alice, bob);
      for (let n = 0; n < SIGNALING_BUDGET; n += 1) {
        assert.deepEqual(await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: candidateOf(80) }), { ok: true });
      }
      const limited = await emitAck(device(alice), 'ICE_CANDIDATE', { callId: id, candidate: candidateOf(80) });
      assert.equal(limited.ok, false);
      assert.equal(limited.error.code, 'RATE_LIMITED');
      assert.ok(limited.error.retryAfterSeconds >= 1);
      assert.equal(await refusal(device(alice, 1), 'CALL_SIGNAL', { callId: id, description: OFFER }), 'RATE_LIMITED');
      assert.equal(await refusal(device(alice), 'CALL_ENDED', { callId: id }), 'RATE_LIMITED');
      assert.equal(device(alice).connected, true);
      // Bob has a budget of his own, and the refused hang-up changed nothing.
      const call = await callEventOk(device(bob), 'CALL_REJECT', { callId: id });
      assert.deepEqual([call.status, call.endReason], ['rejected', 'rejected']);
    });
  });
}
