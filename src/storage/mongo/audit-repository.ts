import type { Filter } from 'mongodb';
import type { AuditFilter, AuditStore } from '../../audit/audit-store.js';
import type { AuditEntryDoc } from './documents.js';
import { among, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { auditEntryDoc, toAuditEntry } from './records.js';

/** The query of a filter (without its limit), every value checked. */
export function auditQueryOf(filter: Omit<AuditFilter, 'limit'>): Filter<AuditEntryDoc> {
  const query: Filter<AuditEntryDoc> = {};
  if (filter.userId !== undefined) query.$or = [{ actorId: scalar(filter.userId) }, { targetUserId: scalar(filter.userId) }];
  if (filter.types !== undefined) query.type = among(filter.types);
  if (filter.from !== undefined || filter.to !== undefined) {
    query.at = { ...(filter.from !== undefined ? { $gte: scalar(filter.from) } : {}), ...(filter.to !== undefined ? { $lt: scalar(filter.to) } : {}) };
  }
  if (filter.before !== undefined) query._id = { $lt: scalar(filter.before) };
  return query;
}

export function createAuditRepository(mongo: MongoDatabase): AuditStore {
  const entries = mongo.collection('audit_log');
  return {
    async append(entry) {
      await entries.insertOne(auditEntryDoc(entry));
    },
    async list(filter) {
      const docs = await entries.find(auditQueryOf(filter)).sort({ _id: -1 }).limit(scalar(filter.limit)).toArray();
      return docs.map(toAuditEntry);
    },
    async deleteOlderThan(before, limit) {
      const oldest = await entries.find({ at: { $lt: scalar(before) } }, { projection: { _id: 1 } }).sort({ at: 1 }).limit(scalar(limit)).toArray();
      if (oldest.length === 0) return 0;
      const { deletedCount } = await entries.deleteMany({ _id: among(oldest.map((doc) => doc._id)) });
      return deletedCount;
    },
  };
}
