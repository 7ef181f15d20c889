import type { Filter } from 'mongodb';
import type { GroupCallMember } from '../../calls/group-call-state-machine.js';
import type { GroupCallsRepository } from '../ports.js';
import type { ProcessLiveness } from '../ports.js';
import { historyFilter, progressFields, UNFINISHED_CALL_STATUSES } from './calls-repository.js';
import type { GroupCallDoc, GroupCallMemberDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { toGroupCall } from './records.js';

const memberDoc = (member: GroupCallMember): GroupCallMemberDoc =>
  by({
    userId: member.userId,
    joinedAt: member.joinedAt,
    leftAt: member.leftAt,
    inCallSince: member.inCallSince,
    msInCall: member.msInCall,
    declinedAt: member.declinedAt,
  });

/**
 * The members a transition stores: of `next`'s, those in `changed` as `next` has them, the others as
 * stored (PostgreSQL writes only the changed member rows).
 */
export function mergeMembers(stored: readonly GroupCallMemberDoc[], next: readonly GroupCallMember[], changed: readonly string[]): GroupCallMemberDoc[] {
  const changedIds = new Set(changed);
  const storedOf = new Map(stored.map((member) => [member.userId, member]));
  return next.flatMap((member) => {
    if (changedIds.has(member.userId)) return [memberDoc(member)];
    const kept = storedOf.get(member.userId);
    return kept ? [kept] : [];
  });
}

export function createGroupCallsRepository(mongo: MongoDatabase, process: ProcessLiveness): GroupCallsRepository {
  const calls = mongo.collection('group_calls');
  return {
    async create(call) {
      await calls.insertOne({
        _id: scalar(call.id),
        conversationId: scalar(call.conversationId),
        startedBy: scalar(call.startedBy),
        type: scalar(call.type),
        topology: scalar(call.topology),
        createdAt: scalar(call.createdAt),
        ...progressFields(call),
        revision: scalar(call.revision),
        ownerId: process.id,
        members: call.members.map(memberDoc),
      });
    },
    async update(next, expected) {
      // Compare-and-set on the revision: the members are read, merged and written back under the same
      // condition, so nothing written in between is lost (every change bumps the revision).
      const stored = await calls.findOne({ ...by({ _id: next.id, revision: expected.revision }) }, { projection: { members: 1 } });
      if (!stored) return false;
      const { modifiedCount } = await calls.updateOne(by({ _id: next.id, revision: expected.revision }), {
        $set: { ...progressFields(next), revision: scalar(next.revision), members: mergeMembers(stored.members, next.members, expected.changedMembers) },
      });
      return modifiedCount > 0;
    },
    async findById(id) {
      const doc = await calls.findOne(by({ _id: id }));
      return doc ? toGroupCall(doc) : null;
    },
    async listForMember(userId, filter) {
      const docs = await calls
        .find({
          'members.userId': scalar(userId),
          ...(historyFilter(filter) as Filter<GroupCallDoc>),
          ...(filter.direction === 'outgoing' ? by({ startedBy: userId }) : filter.direction === 'incoming' ? { startedBy: { $ne: scalar(userId) } } : {}),
        })
        .sort({ _id: -1 })
        .limit(filter.limit)
        .toArray();
      return docs.map(toGroupCall);
    },
    async listOrphaned() {
      const owners = await calls.distinct('ownerId', { status: among(UNFINISHED_CALL_STATUSES) });
      const gone = await process.gone(owners);
      if (gone.length === 0) return [];
      return (await calls.find({ ownerId: among(gone), status: among(UNFINISHED_CALL_STATUSES) }).toArray()).map(toGroupCall);
    },
  };
}
