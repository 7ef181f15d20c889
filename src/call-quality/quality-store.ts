/**
 * What the call-quality feature stores: one summary per (call, user, device), updated by each report of
 * that device. Adapters live in src/storage/ (PostgreSQL, MongoDB).
 */
import type { CallStats, IceCandidateType, QualityBand } from '../protocol/call-quality.js';

/** A device's report as the store takes it: the latest figures with their estimate. */
export interface QualityReport {
  callId: string;
  userId: string;
  /** The reporting session: one summary per signed-in device. */
  deviceKey: string;
  /** When the call started (its record's createdAt), kept so the daily figures need no other table. */
  startedAt: Date;
  stats: CallStats;
  setupMs: number | null;
  mos: number;
  band: QualityBand;
  at: Date;
}

export interface QualityRecord {
  callId: string;
  userId: string;
  deviceKey: string;
  startedAt: Date;
  /** Reports received from this device. */
  reports: number;
  mos: number;
  band: QualityBand;
  rttMs: number | null;
  maxRttMs: number | null;
  jitterMs: number | null;
  packetLossPct: number | null;
  maxPacketLossPct: number | null;
  bitrateInKbps: number | null;
  bitrateOutKbps: number | null;
  framesDecoded: number | null;
  framesDropped: number | null;
  codec: string | null;
  /** True once any report said the media was relayed. */
  relayed: boolean;
  localCandidateType: IceCandidateType | null;
  remoteCandidateType: IceCandidateType | null;
  /** The latest setup time reported (a report without one keeps it). */
  setupMs: number | null;
  updatedAt: Date;
}

/** One UTC day's figures, of the calls started that day. */
export interface QualityDayRecord {
  day: string;
  calls: number;
  reportedCalls: number;
  setupMsP50: number | null;
  setupMsP95: number | null;
  poorShare: number | null;
  relayShare: number | null;
  mosAvg: number | null;
}

export interface CallQualityStore {
  /**
   * Adds a report to its device's summary, atomically (concurrent reports all count): the latest report's
   * figures and estimate replace the stored ones (an absent figure is stored as null, so the estimate
   * always matches the figures), except the setup time, which a report without one keeps; the maxima and
   * `relayed` only grow. Returns the summary as stored.
   */
  record(report: QualityReport): Promise<QualityRecord>;
  /** Every device's summary of a call, oldest update first. */
  listForCall(callId: string): Promise<QualityRecord[]>;
  /**
   * The days from `from` to `to` (UTC midnights, `to` excluded) with calls or reports: `calls` counts the
   * 1:1 and group calls created that day, the rest comes from the summaries of calls started that day (a
   * call is poor when any summary's band is, relayed when any summary is; setup percentiles and the mean
   * MOS are over summaries with a figure). Oldest first.
   */
  daily(from: Date, to: Date): Promise<QualityDayRecord[]>;
}
