/**
 * A mean opinion score estimated from network figures: the ITU-T G.107 E-model, simplified to the terms
 * a WebRTC client can measure (delay, jitter, loss). Pure; documented in docs/api/calls.md, "Call quality".
 *
 * - One-way delay d = rtt / 2 + 2 * jitter (a jitter buffer of twice the jitter) + 20 ms of codec and
 *   packetisation delay.
 * - Delay impairment Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), H the unit step.
 * - Loss impairment Ie_eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl), with Ppl the loss in percent. Assumed
 *   Opus-like codec figures: Ie = 0, Bpl = 10 (G.113 gives G.711 Ie = 0 and Bpl 4.3 without, 25.1 with
 *   packet-loss concealment; Opus's concealment is taken as between them).
 * - R = 93.2 - Id - Ie_eff (the default basic signal-to-noise ratio, no other impairments, no advantage).
 * - MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R) for 0 < R < 100; 1 below, 4.5 above (as G.107 says:
 *   the cubic is not monotonic outside that range), then clamped to [1, 4.5].
 */
import type { QualityBand, QualityEstimate } from '../protocol/call-quality.js';

export const CODEC_DELAY_MS = 20;
export const CODEC_IE = 0;
export const CODEC_BPL = 10;
export const GOOD_MOS = 4.0;
export const FAIR_MOS = 3.6;

export interface NetworkFigures {
  rttMs?: number | null | undefined;
  jitterMs?: number | null | undefined;
  packetLossPct?: number | null | undefined;
}

/** The R factor of the figures; an unknown figure counts as zero. */
export function rFactor({ rttMs, jitterMs, packetLossPct }: NetworkFigures): number {
  const delay = (rttMs ?? 0) / 2 + 2 * (jitterMs ?? 0) + CODEC_DELAY_MS;
  const delayImpairment = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0);
  const loss = packetLossPct ?? 0;
  const lossImpairment = CODEC_IE + ((95 - CODEC_IE) * loss) / (loss + CODEC_BPL);
  return 93.2 - delayImpairment - lossImpairment;
}

export function mosOf(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.min(4.5, Math.max(1, mos));
}

export function bandOf(mos: number): QualityBand {
  return mos >= GOOD_MOS ? 'good' : mos >= FAIR_MOS ? 'fair' : 'poor';
}

/** MOS (rounded to two decimals) and band of the figures. */
export function estimateQuality(figures: NetworkFigures): QualityEstimate {
  const mos = Math.round(mosOf(rFactor(figures)) * 100) / 100;
  return { mos, band: bandOf(mos) };
}
