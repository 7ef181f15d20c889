import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dailyFigures, percentile } from '../../src/call-quality/quality-days.js';
import type { QualityRecord } from '../../src/call-quality/quality-store.js';

const DAY = '2026-03-04';
const at = (time: string) => new Date(`${DAY}T${time}Z`);
const summary = (callId: string, overrides: Partial<QualityRecord>): QualityRecord => ({
  callId,
  userId: `${callId}-${Math.random()}`,
  deviceKey: 'device',
  startedAt: at('10:00:00'),
  reports: 1,
  mos: 4.4,
  band: 'good',
  rttMs: null,
  maxRttMs: null,
  jitterMs: null,
  packetLossPct: null,
  maxPacketLossPct: null,
  bitrateInKbps: null,
  bitrateOutKbps: null,
  framesDecoded: null,
  framesDropped: null,
  codec: null,
  relayed: false,
  localCandidateType: null,
  remoteCandidateType: null,
  setupMs: null,
  updatedAt: at('10:05:00'),
  ...overrides,
});

test("percentile interpolates like PostgreSQL's percentile_cont", () => {
  assert.equal(percentile([], 0.5), null);
  assert.equal(percentile([7], 0.95), 7);
  assert.equal(percentile([1000, 2000, 3000], 0.5), 2000);
  assert.equal(percentile([1000, 2000, 3000], 0.95), 2900);
});

test('dailyFigures: the figures the storage contract expects of PostgreSQL, from documents', () => {
  const rows = [
    summary('a', { mos: 3, band: 'poor', setupMs: 1000 }),
    summary('a', { mos: 4.2, setupMs: 2000, relayed: true }),
    summary('b', { mos: 4.4, setupMs: 3000 }),
    summary('c', { mos: 4, startedAt: new Date('2026-03-05T00:01:00Z') }),
  ];
  assert.deepEqual(dailyFigures([at('01:00:00'), at('23:59:59')], rows), [
    { day: DAY, calls: 2, reportedCalls: 2, setupMsP50: 2000, setupMsP95: 2900, poorShare: 0.5, relayShare: 0.5, mosAvg: 3.87 },
    { day: '2026-03-05', calls: 0, reportedCalls: 1, setupMsP50: null, setupMsP95: null, poorShare: 0, relayShare: 0, mosAvg: 4 },
  ]);
  assert.deepEqual(dailyFigures([at('12:00:00')], []), [{ day: DAY, calls: 1, reportedCalls: 0, setupMsP50: null, setupMsP95: null, poorShare: null, relayShare: null, mosAvg: null }]);
});
