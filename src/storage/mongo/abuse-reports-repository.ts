import type { AbuseReportsRepository } from '../ports.js';
import { scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { toAbuseReport } from './records.js';

export function createAbuseReportsRepository(mongo: MongoDatabase): AbuseReportsRepository {
  const reports = mongo.collection('abuse_reports');
  return {
    async create(report) {
      await reports.insertOne({
        _id: scalar(report.id),
        reporterId: scalar(report.reporterId),
        reportedUserId: scalar(report.reportedUserId),
        messageId: scalar(report.messageId),
        reason: scalar(report.reason),
        details: scalar(report.details),
        createdAt: scalar(report.createdAt),
      });
    },
    async list(page) {
      const docs = await reports.find(page.before ? { _id: { $lt: scalar(page.before) } } : {}).sort({ _id: -1 }).limit(page.limit).toArray();
      return docs.map(toAbuseReport);
    },
  };
}
