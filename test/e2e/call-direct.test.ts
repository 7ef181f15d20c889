import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallEndedEvent } from '../../src/protocol/call-events.js';
import { callThroughServer, type SignaledCall } from '../support/call-peers.js';
import { callEventOk, callUser, device, sleep, storedCall } from '../support/calls.js';
import { closeAllSockets, nextEvent } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { exchangeMessages } from '../support/webrtc-peer.js';

const CONNECT_TIMEOUT_MS = 15_000;

describe('a real WebRTC call set up through the signaling server', () => {
  let server: TestApp;
  let call: SignaledCall | undefined;
  before(async () => {
    server = await startTestApp('pglite');
  });
  after(async () => {
    await Promise.all([call?.caller.peer.close(), call?.callee.peer.close()]);
    closeAllSockets();
    await server.stop();
  });

  it('connects two peers by offer, answer and trickled candidates over CALL_* events, then hangs up with a duration', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    call = await callThroughServer(device(alice), device(bob), bob.id, { caller: {}, callee: {} });
    const { caller, callee } = call;
    await Promise.all([caller.peer.waitForConnected(CONNECT_TIMEOUT_MS), callee.peer.waitForConnected(CONNECT_TIMEOUT_MS)]);
    const { receivedByA, receivedByB } = await exchangeMessages(caller.peer, callee.peer, CONNECT_TIMEOUT_MS);
    assert.equal(receivedByA, 'hello from b');
    assert.equal(receivedByB, 'hello from a');
    assert.deepEqual([...caller.errors, ...callee.errors], []);
    assert.ok(caller.peer.localCandidates.length > 0 && callee.peer.localCandidates.length > 0, 'candidates were trickled');

    const answeredAt = Date.parse((await storedCall(server.baseUrl, alice.tokens[0]!, call.callId)).answeredAt!);
    await sleep(Math.max(0, answeredAt + 1_100 - Date.now()));
    const ended = nextEvent<CallEndedEvent>(device(bob), 'CALL_ENDED');
    await callEventOk(device(alice), 'CALL_ENDED', { callId: call.callId });
    assert.deepEqual(await ended, { callId: call.callId, reason: 'hangup' });
    const stored = await storedCall(server.baseUrl, bob.tokens[0]!, call.callId);
    assert.deepEqual([stored.status, stored.endReason, stored.type], ['ended', 'hangup', 'video']);
    assert.ok(stored.durationSeconds !== null && stored.durationSeconds >= 1, `duration ${stored.durationSeconds}`);
    assert.equal(stored.durationSeconds, Math.floor((Date.parse(stored.endedAt!) - Date.parse(stored.answeredAt!)) / 1000));
  });
});
