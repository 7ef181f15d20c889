import { sql, type Kysely, type Selectable } from 'kysely';
import type { CallQualityStore, QualityDayRecord, QualityRecord } from '../../call-quality/quality-store.js';
import type { CallQualityTable, Database } from './schema.js';

const toRecord = (row: Selectable<CallQualityTable>): QualityRecord => ({
  callId: row.call_id,
  userId: row.user_id,
  deviceKey: row.device_key,
  startedAt: row.started_at,
  reports: row.reports,
  mos: row.mos,
  band: row.band,
  rttMs: row.rtt_ms,
  maxRttMs: row.max_rtt_ms,
  jitterMs: row.jitter_ms,
  packetLossPct: row.packet_loss_pct,
  maxPacketLossPct: row.max_packet_loss_pct,
  bitrateInKbps: row.bitrate_in_kbps,
  bitrateOutKbps: row.bitrate_out_kbps,
  framesDecoded: row.frames_decoded,
  framesDropped: row.frames_dropped,
  codec: row.codec,
  relayed: row.relayed,
  localCandidateType: row.local_candidate_type,
  remoteCandidateType: row.remote_candidate_type,
  setupMs: row.setup_ms,
  updatedAt: row.updated_at,
});

interface DayRow {
  day: string;
  calls: number;
  reported_calls: number;
  setup_ms_p50: number | null;
  setup_ms_p95: number | null;
  poor_calls: number;
  relayed_calls: number;
  mos_avg: number | null;
}

export function createCallQualityRepository(db: Kysely<Database>): CallQualityStore {
  return {
    async record(report) {
      const { stats } = report;
      const figures = {
        mos: report.mos,
        band: report.band,
        rtt_ms: stats.rttMs ?? null,
        jitter_ms: stats.jitterMs ?? null,
        packet_loss_pct: stats.packetLossPct ?? null,
        bitrate_in_kbps: stats.bitrateInKbps ?? null,
        bitrate_out_kbps: stats.bitrateOutKbps ?? null,
        frames_decoded: stats.framesDecoded ?? null,
        frames_dropped: stats.framesDropped ?? null,
        codec: stats.codec ?? null,
        local_candidate_type: stats.localCandidateType ?? null,
        remote_candidate_type: stats.remoteCandidateType ?? null,
        updated_at: report.at,
      };
      const row = await db
        .insertInto('call_quality')
        .values({
          call_id: report.callId,
          user_id: report.userId,
          device_key: report.deviceKey,
          started_at: report.startedAt,
          reports: 1,
          ...figures,
          max_rtt_ms: figures.rtt_ms,
          max_packet_loss_pct: figures.packet_loss_pct,
          relayed: stats.relayed ?? false,
          setup_ms: report.setupMs,
        })
        .onConflict((conflict) =>
          conflict.columns(['call_id', 'user_id', 'device_key']).doUpdateSet((eb) => ({
            reports: sql<number>`call_quality.reports + 1`,
            ...Object.fromEntries(Object.keys(figures).map((column) => [column, eb.ref(`excluded.${column as keyof typeof figures}`)])),
            max_rtt_ms: sql<number | null>`greatest(call_quality.max_rtt_ms, excluded.max_rtt_ms)`,
            max_packet_loss_pct: sql<number | null>`greatest(call_quality.max_packet_loss_pct, excluded.max_packet_loss_pct)`,
            relayed: sql<boolean>`call_quality.relayed or excluded.relayed`,
            setup_ms: sql<number | null>`coalesce(excluded.setup_ms, call_quality.setup_ms)`,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecord(row);
    },

    async listForCall(callId) {
      const rows = await db.selectFrom('call_quality').selectAll().where('call_id', '=', callId).orderBy('updated_at').execute();
      return rows.map(toRecord);
    },

    async daily(from, to) {
      const { rows } = await sql<DayRow>`
        with started as (
          select created_at from calls where created_at >= ${from} and created_at < ${to}
          union all
          select created_at from group_calls where created_at >= ${from} and created_at < ${to}
        ),
        started_days as (
          select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as calls from started group by 1
        ),
        reported as (
          select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD') as day, call_id,
            bool_or(band = 'poor') as poor, bool_or(relayed) as relayed
          from call_quality where started_at >= ${from} and started_at < ${to}
          group by 1, 2
        ),
        reported_days as (
          select day, count(*)::int as reported_calls,
            (count(*) filter (where poor))::int as poor_calls, (count(*) filter (where relayed))::int as relayed_calls
          from reported group by day
        ),
        participant_days as (
          select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD') as day,
            percentile_cont(0.5) within group (order by setup_ms) as setup_ms_p50,
            percentile_cont(0.95) within group (order by setup_ms) as setup_ms_p95,
            avg(mos) as mos_avg
          from call_quality where started_at >= ${from} and started_at < ${to}
          group by 1
        )
        select coalesce(s.day, r.day) as day, coalesce(s.calls, 0) as calls, coalesce(r.reported_calls, 0) as reported_calls,
          p.setup_ms_p50, p.setup_ms_p95, coalesce(r.poor_calls, 0) as poor_calls, coalesce(r.relayed_calls, 0) as relayed_calls, p.mos_avg
        from started_days s
        full join reported_days r on r.day = s.day
        left join participant_days p on p.day = coalesce(s.day, r.day)
        order by 1`.execute(db);
      return rows.map(toDay);
    },
  };
}

function toDay(row: DayRow): QualityDayRecord {
  const share = (part: number) => (row.reported_calls > 0 ? part / row.reported_calls : null);
  const figure = (value: number | null) => (value === null ? null : Math.round(Number(value) * 100) / 100);
  return {
    day: row.day,
    calls: row.calls,
    reportedCalls: row.reported_calls,
    setupMsP50: figure(row.setup_ms_p50),
    setupMsP95: figure(row.setup_ms_p95),
    poorShare: share(row.poor_calls),
    relayShare: share(row.relayed_calls),
    mosAvg: figure(row.mos_avg),
  };
}
