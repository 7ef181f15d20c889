import type { ClientSession } from 'mongodb';
import { EMBEDDED_MEMBERS } from '../../protocol/conversations.js';
import { newId } from '../../shared/ids.js';
import type { AddMembersResult, ConversationRecord, ConversationsRepository, MemberConversationRecord, MemberRecord } from '../ports.js';
import { takePositions } from './change-positions.js';
import { linkId, type ConversationDoc, type MemberDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import { newestVisible, toMessages, unreadCount } from './message-reads.js';
import { isDuplicateKey, type MongoDatabase } from './mongo-database.js';

/** What a change of a group's members did: `unchanged` when it wrote nothing. */
type GroupChange<T> = { result: T; memberCountBy: number } | { result: T; unchanged: true };

/** The two users of a direct conversation in the order stored. */
const pair = (a: string, b: string) => (a < b ? { low: a, high: b } : { low: b, high: a });

/** The other member of a direct conversation for `userId`; null in a group. */
const peerOf = (conversation: ConversationDoc, userId: string) =>
  conversation.type !== 'direct' ? null : conversation.directLowUserId === userId ? conversation.directHighUserId : conversation.directLowUserId;

/** Members with their names, in the order given. */
async function toMembers(mongo: MongoDatabase, docs: readonly MemberDoc[]): Promise<MemberRecord[]> {
  const names = new Map(
    (await mongo.collection('users').find({ _id: among([...new Set(docs.map((doc) => doc.userId))]) }, { projection: { name: 1 } }).toArray()).map((user) => [user._id, user.name]),
  );
  return docs.flatMap((doc) =>
    names.has(doc.userId)
      ? [{ userId: doc.userId, name: names.get(doc.userId)!, role: doc.role, joinedAt: doc.joinedAt, lastReadMessageId: doc.lastReadMessageId, lastReadAt: doc.lastReadAt }]
      : [],
  );
}

const currentMembersOrder = { joinedAt: 1, userId: 1 } as const;

/**
 * Conversations for the records the port returns, in the order of `ids`: as `viewerId` sees them when
 * given (only those the viewer is a current member of, with the unread count and peer), their last
 * messages (the viewer's hidden ones left out) and their first EMBEDDED_MEMBERS current members.
 */
async function loadConversations(mongo: MongoDatabase, ids: readonly string[], viewerId: string | null) {
  if (ids.length === 0) return [];
  const docs = await mongo.collection('conversations').find({ _id: among(ids) }).toArray();
  const viewerMembers = viewerId
    ? new Map(
        (await mongo.collection('conversation_members').find({ _id: among(ids.map((id) => linkId(id, viewerId))), leftAt: null }).toArray()).map((doc) => [
          doc.conversationId,
          doc,
        ]),
      )
    : null;
  const visible = docs.filter((doc) => !viewerMembers || viewerMembers.has(doc._id));
  const loaded = await Promise.all(
    visible.map(async (doc) => {
      const viewer = viewerMembers?.get(doc._id) ?? null;
      const [last, members, unread] = await Promise.all([
        newestVisible(mongo, { conversationId: doc._id }, 1, viewerId ?? undefined),
        mongo.collection('conversation_members').find({ conversationId: doc._id, leftAt: null }).sort(currentMembersOrder).limit(EMBEDDED_MEMBERS).toArray(),
        viewer ? unreadCount(mongo, viewer) : Promise.resolve(0),
      ]);
      const conversation: ConversationRecord = {
        id: doc._id,
        type: doc.type,
        title: doc.title,
        createdAt: doc.createdAt,
        memberCount: doc.memberCount,
        members: await toMembers(mongo, members),
        lastMessage: last[0] ? (await toMessages(mongo, last))[0]! : null,
      };
      return { conversation, unreadCount: unread, peerId: viewerId ? peerOf(doc, viewerId) : null };
    }),
  );
  const byId = new Map(loaded.map((entry) => [entry.conversation.id, entry]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** The conversations among `ids` that `viewerId` is a current member of, as the viewer sees them, in the order of `ids`. */
export async function loadMemberConversations(mongo: MongoDatabase, viewerId: string, ids: readonly string[]): Promise<MemberConversationRecord[]> {
  const loaded = await loadConversations(mongo, ids, viewerId);
  return loaded.map(({ conversation, unreadCount: count, peerId }) => ({ ...conversation, unreadCount: count, peerId }));
}

function memberDoc(conversationId: string, userId: string, role: MemberDoc['role'], at: Date, changePos: number): MemberDoc {
  return {
    _id: linkId(conversationId, userId),
    conversationId,
    userId,
    role,
    joinedAt: at,
    leftAt: null,
    lastReadMessageId: null,
    lastReadAt: null,
    hasWritten: false,
    changePos,
  };
}

export function createConversationsRepository(mongo: MongoDatabase): ConversationsRepository {
  const conversations = mongo.collection('conversations');
  const members = mongo.collection('conversation_members');

  const findDirect = async (userA: string, userB: string) => {
    const { low, high } = pair(scalar(userA), scalar(userB));
    const doc = await conversations.findOne({ type: 'direct', directLowUserId: low, directHighUserId: high }, { projection: { _id: 1 } });
    return doc?._id ?? null;
  };

  /**
   * A change of a group's members, in a transaction that first writes the group's document (its member
   * count and change position): changes of one group's members conflict there and so run one at a time,
   * and the member limit holds. Null when there is no such group.
   */
  const changeGroup = <T>(conversationId: string, change: (session: ClientSession, group: ConversationDoc) => Promise<GroupChange<T>>) =>
    mongo.transaction(async (session) => {
      const group = await conversations.findOne({ ...by({ _id: conversationId }), type: 'group' }, { session });
      if (!group) return null;
      const outcome = await change(session, group);
      if ('unchanged' in outcome) return outcome;
      const position = await takePositions(mongo, session, 1);
      await conversations.updateOne({ _id: group._id }, { $inc: { memberCount: outcome.memberCountBy }, $set: { changePos: position() } }, { session });
      return outcome;
    });

  return {
    async ensureDirect(userA, userB, at) {
      const { low, high } = pair(scalar(userA), scalar(userB));
      const existing = await findDirect(low, high);
      if (existing) return existing;
      // Racing calls: the pair's unique index lets one insert; the others fail on it and find that one.
      try {
        return await mongo.transaction(async (session) => {
          const id = newId();
          const position = await takePositions(mongo, session, 3);
          await conversations.insertOne(
            { _id: id, type: 'direct', title: null, directLowUserId: low, directHighUserId: high, createdAt: scalar(at), memberCount: 2, changePos: position() },
            { session },
          );
          await members.insertMany([memberDoc(id, low, 'member', at, position()), memberDoc(id, high, 'member', at, position())], { session });
          return id;
        });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const id = await findDirect(low, high);
      if (!id) throw new Error('the direct conversation was neither created nor found');
      return id;
    },

    findDirect,

    async createGroup(group) {
      const memberIds = [...new Set([group.ownerId, ...group.memberIds])].map(scalar);
      await mongo.transaction(async (session) => {
        const position = await takePositions(mongo, session, 1 + memberIds.length);
        await conversations.insertOne(
          { _id: scalar(group.id), type: 'group', title: scalar(group.title), directLowUserId: null, directHighUserId: null, createdAt: scalar(group.createdAt), memberCount: memberIds.length, changePos: position() },
          { session },
        );
        await members.insertMany(
          memberIds.map((userId) => memberDoc(group.id, userId, userId === group.ownerId ? 'owner' : 'member', group.createdAt, position())),
          { session },
        );
      });
    },

    async findForMember(conversationId, viewerId) {
      const [conversation] = await loadMemberConversations(mongo, scalar(viewerId), [conversationId]);
      return conversation ?? null;
    },

    async find(conversationId) {
      const [loaded] = await loadConversations(mongo, [conversationId], null);
      return loaded?.conversation ?? null;
    },

    async listForMember(userId, page) {
      // A conversation's activity is its last message's id (history index), else a group's own id: both
      // time-ordered. A direct conversation without a message is not listed.
      const activity = await members
        .aggregate<{ _id: string; activity: string | null }>([
          { $match: { userId: scalar(userId), leftAt: null } },
          { $lookup: { from: 'messages', localField: 'conversationId', foreignField: 'conversationId', pipeline: [{ $sort: { _id: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }], as: 'last' } },
          { $lookup: { from: 'conversations', localField: 'conversationId', foreignField: '_id', pipeline: [{ $project: { type: 1 } }], as: 'conversation' } },
          {
            $project: {
              _id: '$conversationId',
              activity: { $ifNull: [{ $first: '$last._id' }, { $cond: [{ $eq: [{ $first: '$conversation.type' }, 'group'] }, '$conversationId', null] }] },
            },
          },
          { $match: { activity: page.before ? { $ne: null, $lt: scalar(page.before) } : { $ne: null } } },
          { $sort: { activity: -1 } },
          { $limit: page.limit },
        ])
        .toArray();
      return loadMemberConversations(mongo, userId, activity.map((entry) => entry._id));
    },

    async membership(conversationId, userId) {
      const member = await members.findOne({ _id: linkId(scalar(conversationId), scalar(userId)), leftAt: null });
      const conversation = member ? await conversations.findOne({ _id: member.conversationId }) : null;
      return member && conversation ? { type: conversation.type, role: member.role, peerId: peerOf(conversation, userId) } : null;
    },

    async members(conversationId, page) {
      let after: MemberDoc | null = null;
      if (page.after) after = await members.findOne({ _id: linkId(scalar(conversationId), scalar(page.after)) });
      const docs = await members
        .find({
          ...by({ conversationId }),
          leftAt: null,
          ...(after ? { $or: [{ joinedAt: { $gt: after.joinedAt } }, { joinedAt: after.joinedAt, userId: { $gt: after.userId } }] } : {}),
        })
        .sort(currentMembersOrder)
        .limit(page.limit)
        .toArray();
      return toMembers(mongo, docs);
    },

    async memberIds(conversationId) {
      const docs = await members.find({ ...by({ conversationId }), leftAt: null }, { projection: { userId: 1 } }).toArray();
      return docs.map((doc) => doc.userId);
    },

    async groupIdsOf(userId) {
      const ids = (await members.find({ ...by({ userId }), leftAt: null }, { projection: { conversationId: 1 } }).toArray()).map((doc) => doc.conversationId);
      const groups = await conversations.find({ _id: among(ids), type: 'group' }, { projection: { _id: 1 } }).toArray();
      return groups.map((doc) => doc._id);
    },

    async addMembers(conversationId, userIds, at, maxMembers) {
      const asked = [...new Set(userIds)].map(scalar);
      const outcome = await changeGroup<AddMembersResult>(conversationId, async (session, group) => {
        const current = new Set(
          (await members.find({ _id: among(asked.map((id) => linkId(group._id, id))), leftAt: null }, { projection: { userId: 1 }, session }).toArray()).map((doc) => doc.userId),
        );
        const newcomers = asked.filter((userId) => !current.has(userId));
        if (newcomers.length === 0) return { result: { outcome: 'added', userIds: [] }, unchanged: true };
        if (group.memberCount + newcomers.length > maxMembers) return { result: { outcome: 'full', memberCount: group.memberCount }, unchanged: true };
        // Joining counts as having read what came before: a newcomer's unread count starts at 0. Former
        // members come back as members who joined now, their read position never moving back.
        const latest = await mongo.collection('messages').findOne({ conversationId: group._id }, { sort: { _id: -1 }, projection: { _id: 1 }, session });
        const readUpTo = latest?._id ?? null;
        const former = new Map(
          (await members.find({ _id: among(newcomers.map((id) => linkId(group._id, id))) }, { session }).toArray()).map((doc) => [doc.userId, doc]),
        );
        const position = await takePositions(mongo, session, newcomers.length);
        for (const userId of newcomers) {
          const before = former.get(userId);
          const keepsRead = before?.lastReadMessageId && (!readUpTo || before.lastReadMessageId >= readUpTo);
          const doc: MemberDoc = {
            ...memberDoc(group._id, userId, 'member', scalar(at), position()),
            lastReadMessageId: keepsRead ? before.lastReadMessageId : readUpTo,
            lastReadAt: keepsRead ? before.lastReadAt : readUpTo ? at : null,
            hasWritten: before?.hasWritten ?? false,
          };
          await members.replaceOne({ _id: doc._id }, doc, { upsert: true, session });
        }
        return { result: { outcome: 'added', userIds: newcomers }, memberCountBy: newcomers.length };
      });
      return outcome ? outcome.result : { outcome: 'notFound' };
    },

    async removeMember(conversationId, userId, at) {
      const outcome = await changeGroup(conversationId, async (session, group) => {
        const member = await members.findOne({ _id: linkId(group._id, scalar(userId)), leftAt: null }, { session });
        if (!member) return { result: { removed: false, newOwnerId: null }, unchanged: true as const };
        const heir =
          member.role === 'owner'
            ? ((await members.findOne({ conversationId: group._id, leftAt: null, userId: { $ne: member.userId }, role: 'admin' }, { sort: currentMembersOrder, session })) ??
              (await members.findOne({ conversationId: group._id, leftAt: null, userId: { $ne: member.userId } }, { sort: currentMembersOrder, session })))
            : null;
        const position = await takePositions(mongo, session, heir ? 2 : 1);
        // The left row is a plain member's: a group's only owner row is its current owner's.
        await members.updateOne({ _id: member._id }, { $set: { leftAt: scalar(at), role: 'member', changePos: position() } }, { session });
        if (heir) await members.updateOne({ _id: heir._id }, { $set: { role: 'owner', changePos: position() } }, { session });
        return { result: { removed: true, newOwnerId: heir?.userId ?? null }, memberCountBy: -1 };
      });
      return outcome ? outcome.result : { removed: false, newOwnerId: null };
    },

    async setRole(conversationId, userId, role) {
      const outcome = await changeGroup(conversationId, async (session, group) => {
        const member = await members.findOne({ _id: linkId(group._id, scalar(userId)), leftAt: null, role: { $ne: 'owner' } }, { session });
        if (!member) return { result: false, unchanged: true as const };
        const position = await takePositions(mongo, session, 1);
        await members.updateOne({ _id: member._id }, { $set: { role: scalar(role), changePos: position() } }, { session });
        return { result: true, memberCountBy: 0 };
      });
      return outcome?.result ?? false;
    },

    setTitle(conversationId, title) {
      return mongo.transaction(async (session) => {
        const group = await conversations.findOne({ ...by({ _id: conversationId }), type: 'group' }, { session });
        if (!group) return false;
        const position = await takePositions(mongo, session, 1);
        await conversations.updateOne({ _id: group._id }, { $set: { title: scalar(title), changePos: position() } }, { session });
        return true;
      });
    },

    moveReadPosition({ conversationId, userId, messageId, at }) {
      // Never back: the position moves only when the stored one is behind messageId.
      return mongo.transaction(async (session) => {
        const member = await members.findOne({ _id: linkId(scalar(conversationId), scalar(userId)), leftAt: null }, { session });
        if (!member) return { moved: false, readAt: null };
        if (member.lastReadMessageId !== null && member.lastReadMessageId >= messageId) return { moved: false, readAt: member.lastReadAt };
        const message = await mongo.collection('messages').findOne({ ...by({ _id: messageId, conversationId }) }, { projection: { _id: 1 }, session });
        if (!message) return { moved: false, readAt: null };
        const position = await takePositions(mongo, session, 1);
        await members.updateOne({ _id: member._id }, { $set: { lastReadMessageId: message._id, lastReadAt: scalar(at), changePos: position() } }, { session });
        return { moved: true, readAt: at };
      });
    },
  };
}
