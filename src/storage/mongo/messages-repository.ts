import type { AnyBulkWriteOperation, ClientSession } from 'mongodb';
import { firstIdAt } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import type { MessagesRepository } from '../ports.js';
import { takePositions } from './change-positions.js';
import { linkId, type MessageDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import { newestVisible, toMessages, unreadCount } from './message-reads.js';
import { createMessageWrites } from './message-writes.js';
import type { MongoDatabase } from './mongo-database.js';
import { groupReactions } from './records.js';

const pair = (a: string, b: string) => (a < b ? { low: a, high: b } : { low: b, high: a });

export function createMessagesRepository(mongo: MongoDatabase, options: { logger: Logger }): MessagesRepository & { drain(): Promise<void> } {
  const messages = mongo.collection('messages');
  const writes = createMessageWrites(mongo, options);

  const recordOf = async (doc: MessageDoc, session?: ClientSession) => (await toMessages(mongo, [doc], session))[0]!;

  /**
   * Writes `change` to the message `id` with a new change position, and moves the replies to it to new
   * positions too (their quotes show it as it is now, so sync hands them out again), in `session`'s
   * transaction.
   */
  async function changeWithReplies(session: ClientSession, id: string, change: Partial<MessageDoc>): Promise<void> {
    const replies = await messages.find(by({ replyToId: id }), { projection: { _id: 1 }, session }).toArray();
    const position = await takePositions(mongo, session, 1 + replies.length);
    await messages.updateOne({ _id: id }, { $set: { ...change, changePos: position() }, $inc: { revision: 1 } }, { session });
    if (replies.length > 0) {
      await messages.bulkWrite(
        replies.map((reply) => ({ updateOne: { filter: { _id: reply._id }, update: { $set: { changePos: position() } } } })),
        { session },
      );
    }
  }

  return {
    drain: writes.drain,
    create: writes.create,

    async findById(id) {
      const doc = await messages.findOne(by({ _id: id }));
      return doc ? recordOf(doc) : null;
    },

    edit({ messageId, senderId, text, encrypted, at, createdSince }) {
      // A plain message takes text, an encrypted one a new payload: an edit never changes which it is.
      return mongo.transaction(async (session) => {
        const doc = await messages.findOne(
          { ...by({ _id: messageId, senderId }), deletedAt: null, createdAt: { $gte: scalar(createdSince) }, encrypted: encrypted === null ? null : { $ne: null } },
          { session },
        );
        if (!doc) return null;
        const member = await mongo.collection('conversation_members').findOne({ _id: linkId(doc.conversationId, senderId), leftAt: null }, { session });
        if (!member) return null;
        await changeWithReplies(session, messageId, { text: scalar(text), encrypted, editedAt: scalar(at) });
        return recordOf((await messages.findOne({ _id: messageId }, { session }))!, session);
      });
    },

    deleteForEveryone({ messageId, deletedBy, at }) {
      return mongo.transaction(async (session) => {
        const doc = await messages.findOne({ ...by({ _id: messageId }), deletedAt: null }, { session });
        if (!doc) return null;
        await changeWithReplies(session, messageId, {
          text: '',
          encrypted: null,
          attachments: null,
          replyToId: null,
          deletedAt: scalar(at),
          deletedBy: scalar(deletedBy),
          reactions: [],
        });
        await mongo.collection('media').updateMany({ messageId: doc._id, discardedAt: null }, { $set: { discardedAt: scalar(at) } }, { session });
        return recordOf((await messages.findOne({ _id: messageId }, { session }))!, session);
      });
    },

    hide({ userId, messageId, conversationId, at }) {
      return mongo.transaction(async (session) => {
        const hides = mongo.collection('message_hides');
        const id = linkId(scalar(userId), scalar(messageId));
        if (await hides.findOne({ _id: id }, { session })) return false;
        const position = await takePositions(mongo, session, 1);
        await hides.insertOne({ _id: id, userId, messageId, conversationId: scalar(conversationId), hiddenAt: scalar(at), changePos: position() }, { session });
        return true;
      });
    },

    react({ messageId, userId, emoji, action, at, maxPerUser }) {
      // The update of the message document puts one message's reaction changes in a line: a concurrent
      // one conflicts and is retried, reading the reactions this one left, and takes the next revision.
      return mongo.transaction(async (session) => {
        const doc = await messages.findOne(by({ _id: messageId }), { session });
        if (!doc || doc.deletedAt) return { outcome: 'deleted' } as const;
        const mine = doc.reactions.filter((reaction) => reaction.userId === userId);
        const has = mine.some((reaction) => reaction.emoji === emoji);
        let reactions = doc.reactions;
        if (action === 'add') {
          if (!has && mine.length >= maxPerUser) return { outcome: 'tooMany' } as const;
          if (!has) reactions = [...reactions, { userId: scalar(userId), emoji: scalar(emoji), createdAt: scalar(at) }];
        } else if (has) {
          reactions = reactions.filter((reaction) => reaction.userId !== userId || reaction.emoji !== emoji);
        }
        const changed = reactions !== doc.reactions;
        if (!changed) return { outcome: 'done', changed, revision: doc.revision, reactions: groupReactions(doc.reactions) } as const;
        const position = await takePositions(mongo, session, 1);
        await messages.updateOne({ _id: doc._id }, { $set: { reactions, changePos: position() }, $inc: { revision: 1 } }, { session });
        return { outcome: 'done', changed, revision: doc.revision + 1, reactions: groupReactions(reactions) } as const;
      });
    },

    markRead({ readerId, conversationId, upToId, at }) {
      // The reader's unread messages up to upToId, and their read position, which moves to the newest of
      // them and never back (the update's filter compares it on the document).
      return mongo.transaction(async (session) => {
        const unread = await messages
          .find({ ...by({ conversationId, recipientId: readerId }), readAt: null, _id: { $lte: scalar(upToId) } }, { projection: { _id: 1, deliveredAt: 1 }, session })
          .toArray();
        if (unread.length === 0) return false;
        const position = await takePositions(mongo, session, unread.length + 1);
        const when = scalar(at);
        const updates: AnyBulkWriteOperation<MessageDoc>[] = unread.map((doc) => ({
          updateOne: { filter: { _id: doc._id }, update: { $set: { readAt: when, deliveredAt: doc.deliveredAt ?? when, changePos: position() } } },
        }));
        await messages.bulkWrite(updates, { session });
        const newest = unread.map((doc) => doc._id).sort().at(-1)!;
        await mongo.collection('conversation_members').updateOne(
          { _id: linkId(conversationId, readerId), $or: [{ lastReadMessageId: null }, { lastReadMessageId: { $lt: newest } }] },
          { $set: { lastReadMessageId: newest, lastReadAt: when, changePos: position() } },
          { session },
        );
        return true;
      });
    },

    markDelivered({ messageId, at }) {
      return mongo.transaction(async (session) => {
        const doc = await messages.findOne({ ...by({ _id: messageId }), deliveredAt: null }, { projection: { _id: 1 }, session });
        if (!doc) return false;
        const position = await takePositions(mongo, session, 1);
        await messages.updateOne({ _id: doc._id }, { $set: { deliveredAt: scalar(at), changePos: position() } }, { session });
        return true;
      });
    },

    async history(conversationId, page) {
      const docs = await newestVisible(mongo, { ...by({ conversationId }), ...(page.before ? { _id: { $lt: scalar(page.before) } } : {}) }, page.limit, page.hiddenFor);
      return toMessages(mongo, docs);
    },

    async contactsAmong(userId, otherIds) {
      if (otherIds.length === 0) return new Set();
      const others = [...new Set(otherIds)];
      const pairs = others.map((other) => pair(scalar(other), scalar(userId)));
      const conversations = await mongo
        .collection('conversations')
        .find({ type: 'direct', $or: pairs.map(({ low, high }) => ({ directLowUserId: low, directHighUserId: high })) }, { projection: { _id: 1, directLowUserId: 1, directHighUserId: 1 } })
        .toArray();
      const peerMemberIds = conversations.map((doc) => linkId(doc._id, doc.directLowUserId === userId ? doc.directHighUserId! : doc.directLowUserId!));
      const writers = await mongo.collection('conversation_members').find({ _id: among(peerMemberIds), hasWritten: true }, { projection: { userId: 1 } }).toArray();
      const blockIds = others.flatMap((other) => [linkId(other, userId), linkId(userId, other)]);
      const blocks = new Set((await mongo.collection('user_blocks').find({ _id: among(blockIds) }, { projection: { blockerId: 1, blockedId: 1 } }).toArray()).flatMap((doc) => [doc.blockerId, doc.blockedId]));
      return new Set(writers.map((doc) => doc.userId).filter((other) => !blocks.has(other)));
    },

    async unreadTotals(userIds) {
      const totals = new Map(userIds.map((userId) => [userId, 0]));
      const memberships = await mongo.collection('conversation_members').find({ userId: among(userIds), leftAt: null }).toArray();
      const counts = await Promise.all(memberships.map((member) => unreadCount(mongo, member)));
      memberships.forEach((member, index) => totals.set(member.userId, (totals.get(member.userId) ?? 0) + counts[index]!));
      return totals;
    },

    countCreated: ({ from, to }) => messages.countDocuments({ _id: { $gte: scalar(firstIdAt(from)), $lt: scalar(firstIdAt(to)) } }),
  };
}
