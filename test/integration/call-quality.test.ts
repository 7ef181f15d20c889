import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { CallQualityDto, CallQualityResponse, CallStatsResult } from '../../src/protocol/call-quality.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { acceptedCall, callEventOk, callUser, device, refusal, type CallUser } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { callGroup, ringingGroupCall } from '../support/group-calls.js';
import { registerUser, request } from '../support/http.js';
import { emitAck } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const STATS_PER_MINUTE = 10;
const GOOD = { rttMs: 40, jitterMs: 2, packetLossPct: 0, codec: 'audio/opus', relayed: false, localCandidateType: 'host', remoteCandidateType: 'srflx' } as const;
const LOSSY = { rttMs: 300, jitterMs: 30, packetLossPct: 8, codec: 'audio/opus', relayed: true, localCandidateType: 'relay', remoteCandidateType: 'host' } as const;

for (const target of databaseTargets()) {
  describe(`call quality (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CALL_STATS_PER_MINUTE: String(STATS_PER_MINUTE) });
    const users = <Names extends string[]>(...names: Names) =>
      Promise.all(names.map((name) => callUser(server.baseUrl, name))) as Promise<{ [Index in keyof Names]: CallUser }>;
    const report = async (user: CallUser, payload: unknown) => {
      const ack = await emitAck<AckResponse<CallStatsResult>>(device(user), 'CALL_STATS', payload);
      if (!ack.ok) throw new Error(`CALL_STATS refused: ${JSON.stringify(ack.error)}`);
      return ack.quality;
    };
    const quality = (user: CallUser, callId: string) => request<CallQualityDto>(server.baseUrl, 'GET', `/api/call/${callId}/quality`, { token: user.tokens[0]! });
    const postStats = (user: CallUser, callId: string, body: unknown) => request<CallStatsResult>(server.baseUrl, 'POST', `/api/call/${callId}/stats`, { token: user.tokens[0]!, body });

    test('both parties of a 1:1 call report; each has a summary with its MOS and band, repeated reports count, REST reports too', async () => {
      const [alice, bob] = await users('Alice', 'Bob');
      const call = await acceptedCall(alice, bob);
      assert.equal((await report(alice, { callId: call.id, setupMs: 850, stats: GOOD })).band, 'good');
      assert.equal((await report(bob, { callId: call.id, stats: LOSSY })).band, 'poor');
      const repeated = await report(alice, { callId: call.id, stats: { ...GOOD, rttMs: 60 } });
      const viaRest = await postStats(bob, call.id, { final: true, stats: { ...LOSSY, packetLossPct: 6 } });
      assert.equal(viaRest.status, 200);
      assert.equal(viaRest.body.quality.band, 'poor');

      const read = await quality(bob, call.id);
      assert.equal(read.status, 200);
      assert.equal(read.body.callId, call.id);
      const byUser = new Map(read.body.participants.map((participant) => [participant.userId, participant]));
      assert.deepEqual(byUser.get(alice.id), {
        userId: alice.id,
        reports: 2,
        mos: repeated.mos,
        band: 'good',
        rttMs: 60,
        maxRttMs: 60,
        jitterMs: 2,
        packetLossPct: 0,
        maxPacketLossPct: 0,
        bitrateInKbps: null,
        bitrateOutKbps: null,
        framesDecoded: null,
        framesDropped: null,
        codec: 'audio/opus',
        relayed: false,
        localCandidateType: 'host',
        remoteCandidateType: 'srflx',
        setupMs: 850,
        updatedAt: byUser.get(alice.id)!.updatedAt,
      });
      const bobs = byUser.get(bob.id)!;
      assert.deepEqual([bobs.reports, bobs.mos, bobs.band, bobs.relayed, bobs.packetLossPct, bobs.maxPacketLossPct], [2, viaRest.body.quality.mos, 'poor', true, 6, 8]);
      assert.deepEqual(await quality(alice, call.id).then((answer) => answer.body), read.body, 'both parties read the same');
    });

    test("a non-party's report and read get the NOT_FOUND of an unknown call; a report after the window is refused", async () => {
      const [alice, bob, eve] = await users('Alice', 'Bob', 'Eve');
      const call = await acceptedCall(alice, bob);
      assert.equal(await refusal(device(eve), 'CALL_STATS', { callId: call.id, stats: GOOD }), 'NOT_FOUND');
      assert.equal(await refusal(device(eve), 'CALL_STATS', { callId: newId(), stats: GOOD }), 'NOT_FOUND');
      assertError(await quality(eve, call.id), 404, 'NOT_FOUND');
      assertError(await quality(eve, newId()), 404, 'NOT_FOUND');
      assertError(await postStats(eve, call.id, { stats: GOOD }), 404, 'NOT_FOUND');

      const ended = await callEventOk(device(alice), 'CALL_ENDED', { callId: call.id });
      assert.equal(ended.status, 'ended');
      assert.ok((await report(alice, { callId: call.id, final: true, stats: GOOD })).mos > 4, 'a final report just after the end is taken');
      const stored = (await server.app.storage.calls.findById(call.id))!;
      await server.app.storage.calls.update({ ...stored, endedAt: new Date(Date.now() - 3 * 60_000) }, 'ended');
      assert.equal(await refusal(device(bob), 'CALL_STATS', { callId: call.id, stats: GOOD }), 'INVALID_STATE');
    });

    test('bad stats payloads are refused with VALIDATION_FAILED', async () => {
      const [mallory] = await users('Mallory');
      const callId = newId();
      const bad = [
        { callId, stats: { rttMs: 'NaN' } },
        { callId, stats: { jitterMs: -1 } },
        { callId, stats: { bitrateInKbps: 1e12 } },
        { callId, stats: { localCandidateType: 'tunnel' } },
        { callId, stats: GOOD, extra: true },
        { callId, stats: { codec: 'x'.repeat(41) } },
      ];
      for (const payload of bad) assert.equal(await refusal(device(mallory), 'CALL_STATS', payload), 'VALIDATION_FAILED', JSON.stringify(payload));
      assertValidationFailed(await postStats(mallory, callId, { stats: { framesDecoded: 1.5, codec: 'audio/<opus>' } }), 'body.stats.framesDecoded', 'body.stats.codec');
    });

    test('reports beyond CALL_STATS_PER_MINUTE are RATE_LIMITED, socket and REST together', async () => {
      const [flooder] = await users('Flooder');
      const callId = newId();
      for (let index = 0; index < STATS_PER_MINUTE - 1; index += 1) assert.equal(await refusal(device(flooder), 'CALL_STATS', { callId, stats: {} }), 'NOT_FOUND');
      assertError(await postStats(flooder, callId, { stats: {} }), 404, 'NOT_FOUND');
      assert.equal(await refusal(device(flooder), 'CALL_STATS', { callId, stats: {} }), 'RATE_LIMITED');
      assertError(await postStats(flooder, callId, { stats: {} }), 429, 'RATE_LIMITED');
    });

    test('a group call member reports and reads; another user cannot', async () => {
      const group = await callGroup(server.baseUrl, ['Gail', 'Gus']);
      const [gail, gus] = group.members as [CallUser, CallUser];
      const { call } = await ringingGroupCall(group);
      assert.equal((await report(gail, { callId: call.id, stats: GOOD })).band, 'good');
      const read = await quality(gus, call.id);
      assert.deepEqual(
        read.body.participants.map((participant) => participant.userId),
        [gail.id],
      );
      const [outsider] = await users('Outsider');
      assert.equal(await refusal(device(outsider), 'CALL_STATS', { callId: call.id, stats: GOOD }), 'NOT_FOUND');
    });

    test("admins read the daily figures, today's reported calls counted; others get FORBIDDEN; bad ranges are refused", async () => {
      const [alice, bob] = await users('Alice', 'Bob');
      const call = await acceptedCall(alice, bob);
      await report(alice, { callId: call.id, setupMs: 1200, stats: LOSSY });
      // Made an admin before its first request: sessions are cached from then on.
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const today = new Date().toISOString().slice(0, 10);
      const daily = (token: string, query = '') => request<CallQualityResponse>(server.baseUrl, 'GET', `/api/admin/call-quality${query}`, { token });

      const answer = await daily(admin.accessToken);
      assert.equal(answer.status, 200);
      const day = answer.body.days.find((entry) => entry.day === today);
      assert.ok(day, `today is among ${JSON.stringify(answer.body.days)}`);
      assert.ok(day.calls >= 1 && day.reportedCalls >= 1, JSON.stringify(day));
      assert.ok(day.poorShare! > 0 && day.relayShare! > 0 && day.setupMsP50 !== null && day.mosAvg !== null, JSON.stringify(day));
      assert.deepEqual((await daily(admin.accessToken, `?from=${today}&to=${today}`)).body.days.map((entry) => entry.day), [today]);

      assertError(await daily(alice.tokens[0]!), 403, 'FORBIDDEN');
      assertValidationFailed(await daily(admin.accessToken, '?from=2026-02-01&to=2026-01-01'), 'query.to');
      assertValidationFailed(await daily(admin.accessToken, '?from=2024-01-01&to=2026-01-01'), 'query.from');
      assertValidationFailed(await daily(admin.accessToken, '?from=yesterday'), 'query.from');
    });
  });
}
