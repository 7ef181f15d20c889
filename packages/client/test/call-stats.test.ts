import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statsFromReport } from '../src/index.js';

/** A getStats() report as browsers give it: a Map of stats by id. */
const report = (bytes: { received: number; sent: number }) =>
  new Map(
    [
      { type: 'candidate-pair', id: 'old', state: 'failed', nominated: false, currentRoundTripTime: 9, localCandidateId: 'l2', remoteCandidateId: 'r1' },
      { type: 'candidate-pair', id: 'p1', state: 'succeeded', nominated: true, currentRoundTripTime: 0.0423, localCandidateId: 'l1', remoteCandidateId: 'r1' },
      { type: 'local-candidate', id: 'l1', candidateType: 'relay' },
      { type: 'local-candidate', id: 'l2', candidateType: 'host' },
      { type: 'remote-candidate', id: 'r1', candidateType: 'srflx' },
      { type: 'inbound-rtp', id: 'a', kind: 'audio', jitter: 0.004, packetsLost: 5, packetsReceived: 95, bytesReceived: bytes.received, codecId: 'c1' },
      { type: 'inbound-rtp', id: 'v', kind: 'video', jitter: 0.011, packetsLost: -1, packetsReceived: 100, framesDecoded: 300, framesDropped: 2, bytesReceived: 0 },
      { type: 'outbound-rtp', id: 'o', bytesSent: bytes.sent },
      { type: 'codec', id: 'c1', mimeType: 'audio/opus' },
    ].map((entry) => [entry.id, entry]),
  );

test('statsFromReport takes the selected pair, its candidates, the received streams and the codec', () => {
  assert.deepEqual(statsFromReport(report({ received: 0, sent: 0 })), {
    rttMs: 42.3,
    localCandidateType: 'relay',
    remoteCandidateType: 'srflx',
    relayed: true,
    jitterMs: 11,
    packetLossPct: 2.5,
    framesDecoded: 300,
    framesDropped: 2,
    codec: 'audio/opus',
  });
});

test('statsFromReport computes bitrates from an earlier report, and leaves out what a report lacks', () => {
  const stats = statsFromReport(report({ received: 25_000, sent: 50_000 }), { report: report({ received: 0, sent: 0 }), elapsedMs: 2000 });
  assert.deepEqual([stats.bitrateInKbps, stats.bitrateOutKbps], [100, 200]);
  assert.deepEqual(statsFromReport([]), {});
  assert.deepEqual(statsFromReport([{ type: 'codec', id: 'c', mimeType: 'audio/<opus>' }, { type: 'local-candidate', id: 'x', candidateType: 'tunnel' }, 'junk', null]), {});
});
