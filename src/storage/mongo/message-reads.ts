import type { ClientSession, Filter } from 'mongodb';
import type { MessageRecord } from '../ports.js';
import type { MessageDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { toMessage } from './records.js';

/** Message records of these documents, in their order: the messages they reply to are read in one query. */
export async function toMessages(mongo: MongoDatabase, docs: readonly MessageDoc[], session?: ClientSession): Promise<MessageRecord[]> {
  const replyIds = [...new Set(docs.flatMap((doc) => (doc.replyToId ? [doc.replyToId] : [])))];
  const replies = replyIds.length > 0 ? await mongo.collection('messages').find({ _id: among(replyIds) }, { session }).toArray() : [];
  const replyOf = new Map(replies.map((reply) => [reply._id, reply]));
  return docs.map((doc) => toMessage(doc, doc.replyToId ? (replyOf.get(doc.replyToId) ?? null) : null));
}

/** Those of `messageIds` that `userId` hid. */
export async function hiddenAmong(mongo: MongoDatabase, userId: string, messageIds: readonly string[], session?: ClientSession): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const hides = await mongo
    .collection('message_hides')
    .find({ ...by({ userId }), messageId: among(messageIds) }, { projection: { messageId: 1 }, session })
    .toArray();
  return new Set(hides.map((hide) => hide.messageId));
}

/**
 * Up to `limit` messages `filter` selects, newest first, leaving out those `hiddenFor` hid: read in
 * pages of the history index, each page's hides probed in one query.
 */
export async function newestVisible(mongo: MongoDatabase, filter: Filter<MessageDoc>, limit: number, hiddenFor: string | undefined): Promise<MessageDoc[]> {
  const messages = mongo.collection('messages');
  if (!hiddenFor) return messages.find(filter).sort({ _id: -1 }).limit(limit).toArray();
  const found: MessageDoc[] = [];
  // Pages of at least 50, so a run of hidden messages costs few round trips.
  const pageSize = Math.max(limit, 50);
  let before: string | undefined;
  for (;;) {
    const page = await messages
      .find(before ? { $and: [filter, { _id: { $lt: scalar(before) } }] } : filter)
      .sort({ _id: -1 })
      .limit(pageSize)
      .toArray();
    const hidden = await hiddenAmong(mongo, hiddenFor, page.map((doc) => doc._id));
    for (const doc of page) if (!hidden.has(doc._id) && found.length < limit) found.push(doc);
    if (found.length >= limit || page.length < pageSize) return found;
    before = page.at(-1)!._id;
  }
}

/** The messages from others after `member`'s read position. */
export function unreadCount(mongo: MongoDatabase, member: { conversationId: string; userId: string; lastReadMessageId: string | null }): Promise<number> {
  return mongo.collection('messages').countDocuments({
    ...by({ conversationId: member.conversationId }),
    ...(member.lastReadMessageId ? { _id: { $gt: scalar(member.lastReadMessageId) } } : {}),
    senderId: { $ne: scalar(member.userId) },
  });
}
