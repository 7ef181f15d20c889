import type { ClientSession } from 'mongodb';
import { GroupCommit } from '../../shared/group-commit.js';
import { InFlight } from '../../shared/in-flight.js';
import type { Logger } from '../../shared/logger.js';
import type { CreateMessageResult, NewMessage } from '../ports.js';
import { takePositions } from './change-positions.js';
import { linkId, type MessageDoc } from './documents.js';
import { among, scalar } from './filters.js';
import { hiddenAmong, toMessages } from './message-reads.js';
import { isDuplicateKey, type MongoDatabase } from './mongo-database.js';
import { toAttachment, toMessage } from './records.js';

const MAX_BATCH_SIZE = 500;

const retryKey = (message: Pick<NewMessage, 'senderId' | 'clientMessageId'>) => `${message.senderId} ${message.clientMessageId}`;

/**
 * Stores messages with group commit, as the PostgreSQL adapter does: sends that arrive while a batch is
 * in flight go together in the next one, one transaction (and one increment of the change counter) for
 * all of them. A message with attachments takes a transaction of its own.
 */
export function createMessageWrites(mongo: MongoDatabase, options: { logger: Logger }) {
  const writeOne = async (message: NewMessage): Promise<CreateMessageResult> => {
    try {
      return (await mongo.transaction((session) => insert(mongo, session, [message])))[0]!;
    } catch (error) {
      // A retry racing its first send past both snapshots: the next attempt reads the stored one.
      if (!isDuplicateKey(error)) throw error;
      return (await mongo.transaction((session) => insert(mongo, session, [message])))[0]!;
    }
  };
  const writes = new GroupCommit<NewMessage, CreateMessageResult>({
    // Batches write the one change counter, so two in flight would only conflict.
    concurrency: 1,
    maxBatchSize: MAX_BATCH_SIZE,
    writeOne,
    writeBatch: (messages) => mongo.transaction((session) => insert(mongo, session, messages)),
    onBatchFailed: (error, size) => options.logger.debug({ err: error, size }, 'message batch failed: writing its messages one by one'),
  });
  const attaching = new InFlight();
  return {
    create(message: NewMessage): Promise<CreateMessageResult> {
      if (!message.attachmentIds?.length) return writes.submit(message);
      const write = writeOne(message);
      attaching.track(write);
      return write;
    },
    async drain() {
      await writes.drain();
      await attaching.drain();
    },
  };
}

/**
 * One transaction for any number of messages, with the checks of the PostgreSQL statement: a message
 * whose (sender, clientMessageId) was stored before answers that one (the unique index makes a racing
 * retry conflict with the first, and the retried transaction then reads it); otherwise the sender must
 * be a current member, the other member of a direct conversation an active account in no block with the
 * sender either way, a reply must answer a message of the conversation the sender may see, and the
 * attachments must be the sender's ready, unattached media (they are attached in the same transaction:
 * a racing send of the same media conflicts on their documents and, retried, finds them taken).
 */
async function insert(mongo: MongoDatabase, session: ClientSession, messages: readonly NewMessage[]): Promise<CreateMessageResult[]> {
  const col = mongo.collection;
  const opts = { session };
  const retries = messages.filter((message) => message.clientMessageId !== null);
  const earlierDocs = retries.length
    ? await col('messages')
        .find({ $or: retries.map((message) => ({ senderId: scalar(message.senderId), clientMessageId: scalar(message.clientMessageId) })) }, opts)
        .toArray()
    : [];
  const earlier = new Map((await toMessages(mongo, earlierDocs, session)).map((record) => [retryKey(record), record]));

  const conversationIds = [...new Set(messages.map((message) => message.conversationId))];
  const conversations = new Map((await col('conversations').find({ _id: among(conversationIds) }, opts).toArray()).map((doc) => [doc._id, doc]));
  const memberIds = [...new Set(messages.map((message) => linkId(message.conversationId, message.senderId)))];
  const members = new Map((await col('conversation_members').find({ _id: among(memberIds), leftAt: null }, opts).toArray()).map((doc) => [doc._id, doc]));
  const peerOf = (message: NewMessage) => {
    const conversation = conversations.get(message.conversationId);
    if (conversation?.type !== 'direct') return null;
    return conversation.directLowUserId === message.senderId ? conversation.directHighUserId : conversation.directLowUserId;
  };
  const peers = [...new Set(messages.flatMap((message) => peerOf(message) ?? []))];
  const activePeers = new Set((await col('users').find({ _id: among(peers), status: 'active' }, { ...opts, projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
  const blockIds = messages.flatMap((message) => {
    const peer = peerOf(message);
    return peer ? [linkId(peer, message.senderId), linkId(message.senderId, peer)] : [];
  });
  const blocks = new Set((await col('user_blocks').find({ _id: among(blockIds) }, { ...opts, projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
  const replyIds = [...new Set(messages.flatMap((message) => message.replyToId ?? []))];
  const replies = new Map((await col('messages').find({ _id: among(replyIds), deletedAt: null }, opts).toArray()).map((doc) => [doc._id, doc]));

  const results: (CreateMessageResult | NewMessage)[] = [];
  const storedKeys = new Map<string, MessageDoc>();
  for (const message of messages) {
    const first = earlier.get(retryKey(message));
    if (message.clientMessageId !== null && first) {
      results.push({ outcome: 'stored', created: false, message: first });
      continue;
    }
    const conversation = conversations.get(message.conversationId);
    if (!conversation || !members.has(linkId(message.conversationId, message.senderId))) {
      results.push({ outcome: 'notMember' });
      continue;
    }
    const peer = peerOf(message);
    if (peer && (!activePeers.has(peer) || blocks.has(linkId(peer, message.senderId)))) {
      results.push({ outcome: 'recipientUnavailable' });
      continue;
    }
    if (peer && blocks.has(linkId(message.senderId, peer))) {
      results.push({ outcome: 'recipientBlocked' });
      continue;
    }
    if (message.replyToId) {
      const reply = replies.get(message.replyToId);
      const hidden = reply ? await hiddenAmong(mongo, message.senderId, [reply._id], session) : new Set<string>();
      if (!reply || reply.conversationId !== message.conversationId || hidden.has(reply._id)) {
        results.push({ outcome: 'noSuchReply' });
        continue;
      }
    }
    results.push(message);
  }

  // Attachments (a message with them is written alone).
  for (const [index, result] of results.entries()) {
    const ids = (result as NewMessage).attachmentIds;
    if (!('id' in result) || !ids?.length) continue;
    const media = await col('media')
      .find(
        { _id: among(ids), ownerId: scalar(result.senderId), status: 'ready', attachedAt: null, discardedAt: null, encrypted: result.encrypted !== undefined },
        opts,
      )
      .toArray();
    if (media.length !== ids.length) results[index] = { outcome: 'attachmentsUnavailable' };
  }

  const toInsert = results.filter((result): result is NewMessage => 'id' in result);
  const firstWriters = [...new Set(toInsert.map((message) => linkId(message.conversationId, message.senderId)))].filter((id) => !members.get(id)!.hasWritten);
  const position = await takePositions(mongo, session, toInsert.length + firstWriters.length);
  const docs: MessageDoc[] = [];
  const output: CreateMessageResult[] = [];
  for (const result of results) {
    if (!('id' in result)) {
      output.push(result);
      continue;
    }
    const repeated = result.clientMessageId !== null ? storedKeys.get(retryKey(result)) : undefined;
    if (repeated) {
      // The same clientMessageId twice in one batch: the second is a retry of the first.
      output.push({ outcome: 'stored', created: false, message: toMessage(repeated, repeated.replyToId ? (replies.get(repeated.replyToId) ?? null) : null) });
      position();
      continue;
    }
    const attachments = result.attachmentIds?.length
      ? await col('media').find({ _id: among(result.attachmentIds) }, opts).toArray()
      : [];
    const byId = new Map(attachments.map((doc) => [doc._id, toAttachment(doc)]));
    const doc: MessageDoc = {
      _id: scalar(result.id),
      conversationId: scalar(result.conversationId),
      senderId: scalar(result.senderId),
      recipientId: peerOf(result),
      text: scalar(result.text),
      encrypted: result.encrypted ?? null,
      attachments: result.attachmentIds?.length ? result.attachmentIds.map((id) => byId.get(id)!) : null,
      clientMessageId: scalar(result.clientMessageId),
      createdAt: scalar(result.createdAt),
      deliveredAt: null,
      readAt: null,
      editedAt: null,
      deletedAt: null,
      deletedBy: null,
      replyToId: scalar(result.replyToId ?? null),
      reactions: [],
      revision: 0,
      changePos: position(),
    };
    docs.push(doc);
    if (doc.clientMessageId !== null) storedKeys.set(retryKey(doc), doc);
    output.push({ outcome: 'stored', created: true, message: toMessage(doc, doc.replyToId ? (replies.get(doc.replyToId) ?? null) : null) });
  }
  if (docs.length > 0) await col('messages').insertMany(docs, opts);
  for (const doc of docs) {
    if (doc.attachments) {
      await col('media').updateMany({ _id: among(doc.attachments.map((attachment) => attachment.id)) }, { $set: { messageId: doc._id, attachedAt: doc.createdAt } }, opts);
    }
  }
  for (const id of firstWriters) await col('conversation_members').updateOne({ _id: id }, { $set: { hasWritten: true, changePos: position() } }, opts);
  return output;
}
