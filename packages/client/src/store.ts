import type { ConversationDto, MessageDto } from './protocol.js';

/**
 * Where the app keeps its chat on the device: messages and conversations, each upserted by id, and
 * the sync cursor. The chat client decides what to write (the newest revision of a message, counts);
 * a store only keeps it. Back it with SQLite or AsyncStorage in an app; MemoryChatStore is the
 * reference implementation.
 */
export interface ChatStore {
  getCursor(): Promise<string | null>;
  setCursor(cursor: string | null): Promise<void>;
  /** Inserts or replaces each message by `id`. */
  upsertMessages(messages: MessageDto[]): Promise<void>;
  getMessage(id: string): Promise<MessageDto | undefined>;
  removeMessage(id: string): Promise<void>;
  /** A conversation's messages, oldest first: the last `limit` before message id `before` (all when left out). */
  listMessages(conversationId: string, options?: { before?: string; limit?: number }): Promise<MessageDto[]>;
  /** Inserts or replaces each conversation by `id`. */
  upsertConversations(conversations: ConversationDto[]): Promise<void>;
  getConversation(id: string): Promise<ConversationDto | undefined>;
  /** Newest activity first. */
  listConversations(): Promise<ConversationDto[]>;
  /** Drops a conversation and its messages. */
  removeConversation(id: string): Promise<void>;
  clear(): Promise<void>;
}

/** Ids are UUIDv7: as strings they sort by creation time. */
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Newest activity first: the last message's time, or the creation of a group with none. */
const activity = (conversation: ConversationDto) => conversation.lastMessage?.createdAt ?? conversation.createdAt;

export class MemoryChatStore implements ChatStore {
  private cursor: string | null = null;
  private readonly messages = new Map<string, MessageDto>();
  private readonly conversations = new Map<string, ConversationDto>();

  async getCursor() {
    return this.cursor;
  }

  async setCursor(cursor: string | null) {
    this.cursor = cursor;
  }

  async upsertMessages(messages: MessageDto[]) {
    for (const message of messages) this.messages.set(message.id, message);
  }

  async getMessage(id: string) {
    return this.messages.get(id);
  }

  async removeMessage(id: string) {
    this.messages.delete(id);
  }

  async listMessages(conversationId: string, options: { before?: string; limit?: number } = {}) {
    const { before, limit } = options;
    const list = [...this.messages.values()].filter((m) => m.conversationId === conversationId && (before === undefined || m.id < before)).sort(byId);
    return limit === undefined ? list : list.slice(-limit);
  }

  async upsertConversations(conversations: ConversationDto[]) {
    for (const conversation of conversations) this.conversations.set(conversation.id, conversation);
  }

  async getConversation(id: string) {
    return this.conversations.get(id);
  }

  async listConversations() {
    return [...this.conversations.values()].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
  }

  async removeConversation(id: string) {
    this.conversations.delete(id);
    for (const [messageId, message] of this.messages) if (message.conversationId === id) this.messages.delete(messageId);
  }

  async clear() {
    this.cursor = null;
    this.messages.clear();
    this.conversations.clear();
  }
}
