import type { Filter } from 'mongodb';
import type { CallProgress, CallStatus } from '../../calls/call-state-machine.js';
import type { CallHistoryFilter, CallsRepository } from '../ports.js';
import type { ProcessLiveness } from '../ports.js';
import type { CallDoc, CallProgressFields } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { toCall } from './records.js';

/** A call, 1:1 or group, still ringing or answered: what the process that runs it must finish. */
export const UNFINISHED_CALL_STATUSES: CallStatus[] = ['ringing', 'accepted'];

/** The fields a transition of a call, 1:1 or group, changes, checked. */
export function progressFields(call: CallProgress): CallProgressFields {
  return by({
    status: call.status,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    durationSeconds: call.durationSeconds,
    endReason: call.endReason,
  });
}

/** The filter parts of call history common to 1:1 and group calls. */
export function historyFilter(filter: CallHistoryFilter): Filter<{ _id: string; status: CallStatus }> {
  return {
    ...(filter.before ? { _id: { $lt: scalar(filter.before) } } : {}),
    ...(filter.statuses ? { status: among(filter.statuses) } : {}),
  };
}

export function createCallsRepository(mongo: MongoDatabase, process: ProcessLiveness): CallsRepository {
  const calls = mongo.collection('calls');
  return {
    async create(call) {
      await calls.insertOne({
        _id: scalar(call.id),
        callerId: scalar(call.callerId),
        calleeId: scalar(call.calleeId),
        type: scalar(call.type),
        createdAt: scalar(call.createdAt),
        ownerId: process.id,
        ...progressFields(call),
      });
    },
    async update(next, expected) {
      // Compare-and-set: one document update whose filter holds the expected status.
      const { modifiedCount } = await calls.updateOne({ ...by({ _id: next.id, status: expected }) }, { $set: progressFields(next) });
      return modifiedCount > 0;
    },
    async findById(id) {
      const doc = await calls.findOne(by({ _id: id }));
      return doc ? toCall(doc) : null;
    },
    async listForUser(userId, filter) {
      const roles: Filter<CallDoc>[] =
        filter.direction === 'incoming' ? [by({ calleeId: userId })] : filter.direction === 'outgoing' ? [by({ callerId: userId })] : [by({ callerId: userId }), by({ calleeId: userId })];
      const docs = await calls
        .find({ $or: roles, ...(historyFilter(filter) as Filter<CallDoc>) })
        .sort({ _id: -1 })
        .limit(filter.limit)
        .toArray();
      return docs.map(toCall);
    },
    async listOrphaned() {
      const owners = await calls.distinct('ownerId', { status: among(UNFINISHED_CALL_STATUSES) });
      const gone = await process.gone(owners);
      if (gone.length === 0) return [];
      const docs = await calls.find({ ownerId: among(gone), status: among(UNFINISHED_CALL_STATUSES) }).toArray();
      return docs.map(toCall);
    },
  };
}
