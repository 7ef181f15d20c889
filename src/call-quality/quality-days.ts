import type { QualityDayRecord, QualityRecord } from './quality-store.js';

/** YYYY-MM-DD of an instant, in UTC. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** The continuous percentile (PostgreSQL's percentile_cont) of sorted values; null when there are none. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const position = fraction * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

const rounded = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);

/**
 * The daily figures (CallQualityStore.daily) from the start times of the calls and the summaries of a
 * range, for a store that cannot compute them where the data is.
 */
export function dailyFigures(callStarts: readonly Date[], summaries: readonly QualityRecord[]): QualityDayRecord[] {
  const days = new Map<string, { calls: number; summaries: QualityRecord[] }>();
  const dayOf = (day: string) => days.get(day) ?? days.set(day, { calls: 0, summaries: [] }).get(day)!;
  for (const start of callStarts) dayOf(utcDay(start)).calls += 1;
  for (const summary of summaries) dayOf(utcDay(summary.startedAt)).summaries.push(summary);
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, { calls, summaries: rows }]) => {
      const byCall = new Map<string, { poor: boolean; relayed: boolean }>();
      for (const row of rows) {
        const seen = byCall.get(row.callId);
        byCall.set(row.callId, { poor: (seen?.poor ?? false) || row.band === 'poor', relayed: (seen?.relayed ?? false) || row.relayed });
      }
      const reported = [...byCall.values()];
      const share = (count: number) => (reported.length > 0 ? count / reported.length : null);
      const setups = rows.flatMap((row) => (row.setupMs === null ? [] : [row.setupMs])).sort((a, b) => a - b);
      return {
        day,
        calls,
        reportedCalls: reported.length,
        setupMsP50: rounded(percentile(setups, 0.5)),
        setupMsP95: rounded(percentile(setups, 0.95)),
        poorShare: share(reported.filter((call) => call.poor).length),
        relayShare: share(reported.filter((call) => call.relayed).length),
        mosAvg: rounded(rows.length > 0 ? rows.reduce((sum, row) => sum + row.mos, 0) / rows.length : null),
      };
    });
}
