import type { CallStats, IceCandidateType } from '../protocol.js';

/** One entry of an RTCStatsReport: its `type` says which of the other fields it has. */
export type StatsEntry = { type: string; id: string } & Record<string, unknown>;

/** What getStats() resolves with (a Map-like RTCStatsReport), or its entries. */
export type StatsReportLike = { values(): Iterable<unknown> } | Iterable<unknown>;

/** An earlier report of the same connection and the milliseconds since it: bitrates need two. */
export interface PreviousStats {
  report: StatsReportLike;
  elapsedMs: number;
}

const CANDIDATE_TYPES: readonly string[] = ['host', 'srflx', 'prflx', 'relay'] satisfies IceCandidateType[];
const CODEC = /^[a-zA-Z0-9./-]{1,40}$/;

const entriesOf = (report: StatsReportLike): StatsEntry[] =>
  [...('values' in report && typeof report.values === 'function' ? report.values() : (report as Iterable<unknown>))].filter(
    (entry): entry is StatsEntry => typeof entry === 'object' && entry !== null && typeof (entry as { type?: unknown }).type === 'string',
  );
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const clamp = (value: number, max: number) => Math.min(max, Math.max(0, value));
const round = (value: number) => Math.round(value * 100) / 100;
const sum = (entries: readonly StatsEntry[], field: string) => entries.reduce((total, entry) => total + (num(entry[field]) ?? 0), 0);

/**
 * The CALL_STATS `stats` of a standard getStats() report: round trip of the selected (succeeded,
 * nominated) candidate pair and its candidates' types, jitter, loss, frames and codec of the received
 * streams; bitrates only with a `previous` report. Figures the report lacks are left out.
 */
export function statsFromReport(report: StatsReportLike, previous?: PreviousStats): CallStats {
  const entries = entriesOf(report);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const pairs = entries.filter((entry) => entry.type === 'candidate-pair' && entry['state'] === 'succeeded');
  const pair = pairs.find((entry) => entry['nominated'] === true) ?? pairs[0];
  const inbound = entries.filter((entry) => entry.type === 'inbound-rtp');
  const stats: CallStats = {};

  const rtt = num(pair?.['currentRoundTripTime']);
  if (rtt !== undefined) stats.rttMs = round(clamp(rtt * 1000, 10_000));
  const candidateType = (id: unknown) => {
    const type = typeof id === 'string' ? byId.get(id)?.['candidateType'] : undefined;
    return typeof type === 'string' && CANDIDATE_TYPES.includes(type) ? (type as IceCandidateType) : undefined;
  };
  const local = candidateType(pair?.['localCandidateId']);
  const remote = candidateType(pair?.['remoteCandidateId']);
  if (local) stats.localCandidateType = local;
  if (remote) stats.remoteCandidateType = remote;
  if (local || remote) stats.relayed = local === 'relay' || remote === 'relay';

  const jitters = inbound.flatMap((entry) => num(entry['jitter']) ?? []);
  if (jitters.length > 0) stats.jitterMs = round(clamp(Math.max(...jitters) * 1000, 10_000));
  // packetsLost goes negative when duplicates arrive: a stream counts no loss then.
  const lost = inbound.reduce((total, entry) => total + Math.max(0, num(entry['packetsLost']) ?? 0), 0);
  const received = sum(inbound, 'packetsReceived');
  if (inbound.some((entry) => num(entry['packetsReceived']) !== undefined) && lost + received > 0) stats.packetLossPct = round((lost / (lost + received)) * 100);
  const video = inbound.filter((entry) => num(entry['framesDecoded']) !== undefined);
  if (video.length > 0) {
    stats.framesDecoded = Math.round(sum(video, 'framesDecoded'));
    stats.framesDropped = Math.round(sum(video, 'framesDropped'));
  }
  const codecIds = [...inbound, ...entries.filter((entry) => entry.type === 'outbound-rtp')].map((entry) => entry['codecId']);
  const mimeType = [...codecIds.map((id) => (typeof id === 'string' ? byId.get(id) : undefined)), ...entries.filter((entry) => entry.type === 'codec')]
    .map((entry) => entry?.['mimeType'])
    .find((type): type is string => typeof type === 'string' && CODEC.test(type));
  if (mimeType) stats.codec = mimeType;

  if (previous && previous.elapsedMs > 0) {
    const before = entriesOf(previous.report);
    const kbps = (type: string, field: string) =>
      round(clamp(((sum(entries.filter((entry) => entry.type === type), field) - sum(before.filter((entry) => entry.type === type), field)) * 8) / previous.elapsedMs, 100_000));
    stats.bitrateInKbps = kbps('inbound-rtp', 'bytesReceived');
    stats.bitrateOutKbps = kbps('outbound-rtp', 'bytesSent');
  }
  return stats;
}
