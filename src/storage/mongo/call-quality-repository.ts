import type { CallQualityStore } from '../../call-quality/quality-store.js';
import { dailyFigures } from '../../call-quality/quality-days.js';
import { qualityId, type CallQualityDoc } from './documents.js';
import { by, literal, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { toQualityRecord } from './records.js';

export function createCallQualityRepository(mongo: MongoDatabase): CallQualityStore {
  const summaries = mongo.collection('call_quality');
  return {
    async record(report) {
      const { stats } = report;
      const value = <T extends string | number | boolean | null>(figure: T | undefined) => literal(figure ?? null);
      const rtt = value(stats.rttMs);
      const loss = value(stats.packetLossPct);
      // One pipeline update: the counts and maxima are computed from the stored document, so concurrent
      // reports of a device all count.
      const doc = await summaries.findOneAndUpdate(
        by({ _id: qualityId(report.callId, report.userId, report.deviceKey) }),
        [
          {
            $set: {
              callId: literal(report.callId),
              userId: literal(report.userId),
              deviceKey: literal(report.deviceKey),
              startedAt: { $ifNull: ['$startedAt', literal(report.startedAt)] },
              reports: { $add: [{ $ifNull: ['$reports', 0] }, 1] },
              mos: literal(report.mos),
              band: literal(report.band),
              rttMs: rtt,
              maxRttMs: { $ifNull: [{ $max: ['$maxRttMs', rtt] }, null] },
              jitterMs: value(stats.jitterMs),
              packetLossPct: loss,
              maxPacketLossPct: { $ifNull: [{ $max: ['$maxPacketLossPct', loss] }, null] },
              bitrateInKbps: value(stats.bitrateInKbps),
              bitrateOutKbps: value(stats.bitrateOutKbps),
              framesDecoded: value(stats.framesDecoded),
              framesDropped: value(stats.framesDropped),
              codec: value(stats.codec),
              relayed: { $or: [{ $ifNull: ['$relayed', false] }, value(stats.relayed ?? false)] },
              localCandidateType: value(stats.localCandidateType),
              remoteCandidateType: value(stats.remoteCandidateType),
              setupMs: { $ifNull: [value(report.setupMs), '$setupMs', null] },
              updatedAt: literal(report.at),
            },
          },
        ],
        { upsert: true, returnDocument: 'after' },
      );
      return toQualityRecord(doc as CallQualityDoc);
    },

    async listForCall(callId) {
      return (await summaries.find(by({ callId })).sort({ updatedAt: 1 }).toArray()).map(toQualityRecord);
    },

    async daily(from, to) {
      // The range is at most QUALITY_MAX_DAYS: its documents are read and the figures computed here.
      const range = { $gte: scalar(from), $lt: scalar(to) };
      const starts = await Promise.all(
        (['calls', 'group_calls'] as const).map(async (name) => (await mongo.collection(name).find({ createdAt: range }, { projection: { createdAt: 1 } }).toArray()).map((doc) => doc.createdAt)),
      );
      const rows = (await summaries.find({ startedAt: range }).toArray()).map(toQualityRecord);
      return dailyFigures(starts.flat(), rows);
    },
  };
}
