import type { CallRecord } from '../calls/call-state-machine.js';
import type { GroupCallRecord } from '../calls/group-call-state-machine.js';
import {
  QUALITY_MAX_DAYS,
  type CallQualityDailyQuery,
  type CallQualityDto,
  type CallQualityResponse,
  type CallStatsBody,
  type CallStatsResult,
  type ParticipantQualityDto,
} from '../protocol/call-quality.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { CallsRepository, GroupCallsRepository } from '../storage/ports.js';
import { estimateQuality } from './mos.js';
import type { CallQualityStore, QualityRecord } from './quality-store.js';

/** Reports are taken while a call rings or runs, and this long after it ended (a last, `final` report). */
export const CALL_STATS_WINDOW_MS = 2 * 60_000;

const DAY_MS = 86_400_000;

/** Who reports: the user and the session (device) the report comes from. */
export interface Reporter {
  userId: string;
  sessionId: string;
}

type AnyCall = { kind: 'direct'; call: CallRecord } | { kind: 'group'; call: GroupCallRecord };

const partyOf = (found: AnyCall, userId: string) =>
  found.kind === 'direct' ? found.call.callerId === userId || found.call.calleeId === userId : found.call.members.some((member) => member.userId === userId);

/**
 * Quality reports of calls (WebRTC getStats() summaries) from their parties, each estimated (mos.ts) and
 * kept per device; the parties read a call's summaries, admins the daily figures.
 */
export class CallQualityService {
  constructor(
    private readonly deps: {
      store: CallQualityStore;
      calls: CallsRepository;
      groupCalls: GroupCallsRepository;
      events: DomainEvents;
    },
  ) {}

  async report(reporter: Reporter, callId: string, input: CallStatsBody, now = new Date()): Promise<CallStatsResult> {
    const found = await this.partyCall(reporter.userId, callId);
    const { endedAt } = found.call;
    if (endedAt && now.getTime() - endedAt.getTime() > CALL_STATS_WINDOW_MS) {
      throw new AppError('INVALID_STATE', `The call ended more than ${CALL_STATS_WINDOW_MS / 60_000} minutes ago`);
    }
    const { stats } = input;
    const quality = estimateQuality(stats);
    const stored = await this.deps.store.record({
      callId,
      userId: reporter.userId,
      deviceKey: reporter.sessionId,
      startedAt: found.call.createdAt,
      stats,
      setupMs: input.setupMs ?? null,
      ...quality,
      at: now,
    });
    this.deps.events.emit('callQualityReported', {
      callId,
      userId: reporter.userId,
      mos: stored.mos,
      band: stored.band,
      rttMs: stored.rttMs,
      jitterMs: stored.jitterMs,
      packetLossPct: stored.packetLossPct,
      relayed: stored.relayed,
    });
    return { quality: { mos: stored.mos, band: stored.band } };
  }

  /** Each participant's latest summary (their device that reported last), with their reports counted over devices. */
  async quality(userId: string, callId: string): Promise<CallQualityDto> {
    await this.partyCall(userId, callId);
    const byUser = new Map<string, { latest: QualityRecord; reports: number; relayed: boolean }>();
    for (const record of await this.deps.store.listForCall(callId)) {
      const seen = byUser.get(record.userId);
      byUser.set(record.userId, {
        latest: !seen || record.updatedAt >= seen.latest.updatedAt ? record : seen.latest,
        reports: (seen?.reports ?? 0) + record.reports,
        relayed: (seen?.relayed ?? false) || record.relayed,
      });
    }
    return { callId, participants: [...byUser.values()].map(({ latest, reports, relayed }) => toDto(latest, reports, relayed)) };
  }

  async daily(query: CallQualityDailyQuery, now = new Date()): Promise<CallQualityResponse> {
    const to = query.to ? Date.parse(query.to) : Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const from = query.from ? Date.parse(query.from) : to - 29 * DAY_MS;
    if ((to - from) / DAY_MS + 1 > QUALITY_MAX_DAYS) {
      throw new AppError('VALIDATION_FAILED', 'The request is not valid', { details: [{ path: 'query.from', message: `must be at most ${QUALITY_MAX_DAYS} days before to` }] });
    }
    return { days: await this.deps.store.daily(new Date(from), new Date(to + DAY_MS)) };
  }

  /** The call, if the user is one of its parties; anyone else gets the same NOT_FOUND as for an unknown id. */
  private async partyCall(userId: string, callId: string): Promise<AnyCall> {
    const direct = await this.deps.calls.findById(callId);
    const found: AnyCall | null = direct ? { kind: 'direct', call: direct } : await this.deps.groupCalls.findById(callId).then((call) => call && { kind: 'group' as const, call });
    if (!found || !partyOf(found, userId)) throw new AppError('NOT_FOUND', 'No such call');
    return found;
  }
}

function toDto(record: QualityRecord, reports: number, relayed: boolean): ParticipantQualityDto {
  const { callId: _callId, deviceKey: _deviceKey, startedAt: _startedAt, updatedAt, ...figures } = record;
  return { ...figures, reports, relayed, updatedAt: updatedAt.toISOString() };
}
