import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import type { QualityReport } from '../../../src/call-quality/quality-store.js';
import { createRingingCall } from '../../../src/calls/call-state-machine.js';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

const DAY = 86_400_000;

export function callQualityContract(ctx: ContractContext): void {
  const store = () => ctx.storage.callQuality;
  const report = (overrides: Partial<QualityReport>): QualityReport => ({
    callId: newId(),
    userId: newId(),
    deviceKey: newId(),
    // Calls of no day the daily test or other suites sharing the database look at.
    startedAt: new Date(Date.UTC(1970, 0, 2)),
    stats: {},
    setupMs: null,
    mos: 4.4,
    band: 'good',
    at: new Date(),
    ...overrides,
  });

  test('reports of a device add up: the latest figures replace, the maxima and relayed only grow, the setup time stays', async () => {
    const first = report({ stats: { rttMs: 80, jitterMs: 4, packetLossPct: 2, codec: 'audio/opus', relayed: true, localCandidateType: 'relay' }, setupMs: 900, mos: 4.1 });
    const stored = await store().record(first);
    assert.equal(stored.reports, 1);
    assert.equal(stored.maxRttMs, 80);
    const at = new Date(first.at.getTime() + 5000);
    const latest = await store().record({ ...first, stats: { rttMs: 40, packetLossPct: 1, relayed: false, remoteCandidateType: 'host', framesDecoded: 300 }, setupMs: null, mos: 4.3, at });
    assert.deepEqual(latest, {
      callId: first.callId,
      userId: first.userId,
      deviceKey: first.deviceKey,
      startedAt: first.startedAt,
      reports: 2,
      mos: 4.3,
      band: 'good',
      rttMs: 40,
      maxRttMs: 80,
      jitterMs: null,
      packetLossPct: 1,
      maxPacketLossPct: 2,
      bitrateInKbps: null,
      bitrateOutKbps: null,
      framesDecoded: 300,
      framesDropped: null,
      codec: null,
      relayed: true,
      localCandidateType: null,
      remoteCandidateType: 'host',
      setupMs: 900,
      updatedAt: at,
    });
    assert.deepEqual(await store().listForCall(first.callId), [latest]);
  });

  test('concurrent reports all count; each device of a call has its summary', async () => {
    const callId = newId();
    const userId = newId();
    const deviceKey = newId();
    await Promise.all(Array.from({ length: 5 }, () => store().record(report({ callId, userId, deviceKey, stats: { rttMs: 10 } }))));
    await store().record(report({ callId, userId, at: new Date(Date.now() + 1000) }));
    const summaries = await store().listForCall(callId);
    assert.deepEqual(
      summaries.map((summary) => summary.reports),
      [5, 1],
    );
    assert.deepEqual(await store().listForCall(newId()), []);
  });

  test('daily figures: calls started each day, reported calls, setup percentiles, poor and relayed shares, mean MOS', async () => {
    // A day of its own far in the past: the database may be shared with other tests and runs.
    const day = Date.UTC(1980, 0, 1) + randomInt(0, 20 * 365) * DAY;
    const [alice, bob] = await Promise.all([ctx.createUser(), ctx.createUser()]);
    const calls = [0, 1].map((index) => createRingingCall({ id: newId(), callerId: alice.id, calleeId: bob.id, type: 'audio', now: new Date(day + (index + 1) * 3_600_000) }));
    for (const call of calls) await ctx.storage.calls.create(call);
    const [first, second] = calls as [(typeof calls)[0], (typeof calls)[0]];
    await store().record(report({ callId: first.id, userId: alice.id, startedAt: first.createdAt, mos: 3, band: 'poor', setupMs: 1000 }));
    await store().record(report({ callId: first.id, userId: bob.id, startedAt: first.createdAt, mos: 4.2, setupMs: 2000, stats: { relayed: true } }));
    await store().record(report({ callId: second.id, userId: alice.id, startedAt: second.createdAt, mos: 4.4, setupMs: 3000 }));
    // A report of the next day's call whose record is not in the calls stores (it counts as reported only).
    await store().record(report({ startedAt: new Date(day + DAY + 60_000), mos: 4, setupMs: null }));

    assert.deepEqual(await store().daily(new Date(day - DAY), new Date(day + 3 * DAY)), [
      { day: new Date(day).toISOString().slice(0, 10), calls: 2, reportedCalls: 2, setupMsP50: 2000, setupMsP95: 2900, poorShare: 0.5, relayShare: 0.5, mosAvg: 3.87 },
      { day: new Date(day + DAY).toISOString().slice(0, 10), calls: 0, reportedCalls: 1, setupMsP50: null, setupMsP95: null, poorShare: 0, relayShare: 0, mosAvg: 4 },
    ]);
    assert.deepEqual(await store().daily(new Date(day + 2 * DAY), new Date(day + 3 * DAY)), [], 'the range ends the days');
  });
}
