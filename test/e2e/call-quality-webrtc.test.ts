import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { statsFromReport } from '../../packages/client/src/calls/call-stats.js';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { CallQualityDto, CallStats, CallStatsResult } from '../../src/protocol/call-quality.js';
import { callThroughServer, type SignaledCall } from '../support/call-peers.js';
import { callUser, device, sleep } from '../support/calls.js';
import { request } from '../support/http.js';
import { closeAllSockets, emitAck } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const CONNECT_TIMEOUT_MS = 15_000;
const SAMPLE_GAP_MS = 500;

describe('quality reports of a real WebRTC call', () => {
  let server: TestApp;
  let call: SignaledCall | undefined;
  before(async () => {
    server = await startTestApp('pglite');
  });
  after(async () => {
    call?.caller.audio?.stop();
    call?.callee.audio?.stop();
    await Promise.all([call?.caller.peer.close(), call?.callee.peer.close()]);
    closeAllSockets();
    await server.stop();
  });

  it("maps each peer's getStats() with the SDK, reports it with CALL_STATS, and the call's summary holds what werift measured", async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    call = await callThroughServer(device(alice), device(bob), bob.id, { caller: {}, callee: {}, audio: true });
    const sides = [
      { user: alice, side: call.caller },
      { user: bob, side: call.callee },
    ];
    await Promise.all(sides.map(({ side }) => side.peer.waitForConnected(CONNECT_TIMEOUT_MS)));
    await Promise.all(sides.map(({ side }) => side.audio!.waitForRtp(10, CONNECT_TIMEOUT_MS)));

    const first = await Promise.all(sides.map(({ side }) => side.peer.connection.getStats()));
    await sleep(SAMPLE_GAP_MS);
    const reported: CallStats[] = [];
    for (const [index, { user, side }] of sides.entries()) {
      const stats = statsFromReport(await side.peer.connection.getStats(), { report: first[index]!, elapsedMs: SAMPLE_GAP_MS });
      reported.push(stats);
      const ack: AckResponse<CallStatsResult> = await emitAck(device(user), 'CALL_STATS', { callId: call.callId, stats });
      assert.ok(ack.ok, JSON.stringify(ack));
      assert.equal(ack.quality.band, 'good', `loopback is a good network: ${JSON.stringify({ stats, quality: ack.quality })}`);
    }
    for (const stats of reported) {
      assert.equal(stats.localCandidateType, 'host', JSON.stringify(stats));
      assert.equal(stats.remoteCandidateType, 'host');
      assert.equal(stats.relayed, false);
      // The codec werift negotiated for the audio section (it offers Opus and PCMU).
      assert.match(stats.codec ?? '', /^audio\/(opus|PCMU)$/i);
      assert.ok(stats.rttMs !== undefined && stats.rttMs < 1000, `rtt ${stats.rttMs}`);
      assert.ok(stats.jitterMs !== undefined && stats.packetLossPct !== undefined, JSON.stringify(stats));
      assert.ok(stats.bitrateOutKbps! > 0 && stats.bitrateInKbps! > 0, JSON.stringify(stats));
    }

    const read = await request<CallQualityDto>(server.baseUrl, 'GET', `/api/call/${call.callId}/quality`, { token: alice.tokens[0]! });
    assert.equal(read.status, 200);
    for (const [index, { user }] of sides.entries()) {
      const summary = read.body.participants.find((participant) => participant.userId === user.id);
      assert.ok(summary, `${user.name} has a summary`);
      assert.ok(summary.mos > 4, `mos ${summary.mos}`);
      assert.deepEqual(
        [summary.rttMs, summary.codec, summary.localCandidateType, summary.remoteCandidateType],
        [reported[index]!.rttMs, reported[index]!.codec, 'host', 'host'],
      );
    }
  });
});
