import type { Filter } from 'mongodb';
import type { ChatChanges, ChatChangesRepository, MessageRecord } from '../ports.js';
import { currentPosition } from './change-positions.js';
import { decodeCursor, encodeCursor, pageOf, type KindRead } from './chat-cursor.js';
import { loadMemberConversations } from './conversations-repository.js';
import type { Collections } from './documents.js';
import { among, by } from './filters.js';
import { hiddenAmong, toMessages } from './message-reads.js';
import type { MongoDatabase } from './mongo-database.js';

type Change =
  | { kind: 'message'; message: MessageRecord }
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'read'; read: ChatChanges['reads'][number] }
  | { kind: 'left'; left: ChatChanges['left'][number] }
  | { kind: 'hidden'; hidden: ChatChanges['hidden'][number] };

/**
 * Sync. Every document that changes takes a new position from the change counter in its writing
 * transaction (change-positions.ts), and positions are taken in commit order. A sync reads the counter
 * first (the head: every change up to it is committed) and returns the user's changes after the
 * cursor and up to the head, in position order: a change committed later gets a higher position than
 * the head, so it lands in a later sync; a document written again moves to its new position. Messages,
 * conversations and read positions are those of the conversations the user is a current member of (an
 * index range per kind: `(conversationId, changePos)`); left are the user's own member documents that
 * left, hidden the user's hides in conversations they belong to.
 */
export function createChatChangesRepository(mongo: MongoDatabase): ChatChangesRepository {
  /** At most `limit` + 1 documents `filter` selects after `after` and up to `head`, by position. */
  async function read<K extends 'messages' | 'conversations' | 'conversation_members' | 'message_hides'>(
    name: K,
    filter: Filter<Collections[K]>,
    after: number,
    head: number,
    limit: number,
  ): Promise<{ docs: Collections[K][]; frontier: number | null }> {
    const docs = (await mongo
      .collection(name)
      .find({ $and: [filter, { changePos: { $gt: after, $lte: head } }] } as Filter<Collections[K]>)
      .sort({ changePos: 1 })
      .limit(limit + 1)
      .toArray()) as Collections[K][];
    return { docs, frontier: docs.length > limit ? (docs.at(-1) as { changePos: number }).changePos : null };
  }

  return {
    async head() {
      return encodeCursor(await currentPosition(mongo));
    },

    async after(userId, cursor, limit) {
      const after = decodeCursor(cursor);
      if (after === null) return null;
      const head = await currentPosition(mongo);
      const memberships = await mongo.collection('conversation_members').find({ ...by({ userId }), leftAt: null }, { projection: { conversationId: 1 } }).toArray();
      const ids = memberships.map((doc) => doc.conversationId);
      const inMine = { conversationId: among(ids) };

      const [messages, conversations, reads, left, hidden] = await Promise.all([
        read('messages', inMine, after, head, limit),
        read('conversations', { _id: among(ids) }, after, head, limit),
        read('conversation_members', { ...inMine, leftAt: null, lastReadMessageId: { $ne: null } }, after, head, limit),
        read('conversation_members', { ...by({ userId }), leftAt: { $ne: null } }, after, head, limit),
        read('message_hides', { ...by({ userId }), ...inMine }, after, head, limit),
      ]);
      const hiddenMessages = await hiddenAmong(mongo, userId, messages.docs.map((doc) => doc._id));
      const visibleMessages = messages.docs.filter((doc) => !hiddenMessages.has(doc._id));
      const records = await toMessages(mongo, visibleMessages);
      const kinds: KindRead<Change>[] = [
        { items: visibleMessages.map((doc, index) => ({ at: doc.changePos, change: { kind: 'message', message: records[index]! } })), frontier: messages.frontier },
        { items: conversations.docs.map((doc) => ({ at: doc.changePos, change: { kind: 'conversation', conversationId: doc._id } })), frontier: conversations.frontier },
        {
          items: reads.docs.map((doc) => ({
            at: doc.changePos,
            change: { kind: 'read', read: { conversationId: doc.conversationId, userId: doc.userId, lastReadMessageId: doc.lastReadMessageId!, readAt: doc.lastReadAt! } },
          })),
          frontier: reads.frontier,
        },
        { items: left.docs.map((doc) => ({ at: doc.changePos, change: { kind: 'left', left: { conversationId: doc.conversationId, leftAt: doc.leftAt! } } })), frontier: left.frontier },
        {
          items: hidden.docs.map((doc) => ({
            at: doc.changePos,
            change: { kind: 'hidden', hidden: { conversationId: doc.conversationId, messageId: doc.messageId, hiddenAt: doc.hiddenAt } },
          })),
          frontier: hidden.frontier,
        },
      ];
      const page = pageOf(kinds, head, limit);
      const result: ChatChanges = {
        messages: [],
        conversations: await loadMemberConversations(mongo, userId, page.changes.flatMap((change) => (change.kind === 'conversation' ? [change.conversationId] : []))),
        reads: [],
        left: [],
        hidden: [],
        cursor: encodeCursor(page.cursor),
        hasMore: page.hasMore,
      };
      for (const change of page.changes) {
        if (change.kind === 'message') result.messages.push(change.message);
        if (change.kind === 'read') result.reads.push(change.read);
        if (change.kind === 'left') result.left.push(change.left);
        if (change.kind === 'hidden') result.hidden.push(change.hidden);
      }
      return result;
    },
  };
}
