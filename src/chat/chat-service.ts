import type {
  ChatMessageEvent,
  ConversationsResponse,
  HistoryResponse,
  SendMessageInput,
  SyncResponse,
} from '../protocol/chat.js';
import type { Timestamp } from '../protocol/common.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import { paginate } from '../shared/pagination.js';
import type { MessageRecord, MessagesRepository, UsersRepository } from '../storage/ports.js';
import type { PeopleService } from '../users/people-service.js';
import { presentMessage } from './message-presenter.js';

/**
 * A send that reuses a clientMessageId is a retry only if it says the same thing to the same conversation
 * (for a group message: the same conversationId); anything else would be lost if answered as a retry.
 */
function isRetryOf(stored: MessageRecord, input: SendMessageInput): boolean {
  return stored.recipientId === input.to && stored.text === input.text;
}

/** Who asks, and from which connection: that connection gets the answer, the user's others get the event. */
export interface Actor {
  userId: string;
  origin?: string | undefined;
}

export interface ChatServiceDeps {
  messages: MessagesRepository;
  users: UsersRepository;
  people: PeopleService;
  delivery: Delivery;
  events: DomainEvents;
  now?: () => Date;
}

type Page = { before?: string | undefined; limit: number };

/**
 * 1:1 chat: messages are stored before anyone hears of them, retries are recognised by the sender's
 * clientMessageId (and refused when it names another message), receipts are set once, and every change
 * reaches each party's chat stream for sync.
 */
export class ChatService {
  private readonly now: () => Date;

  constructor(private readonly deps: ChatServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async send(actor: Actor, input: SendMessageInput): Promise<ChatMessageEvent> {
    await this.checkRecipient(actor, input.to);
    const stored = await this.deps.messages.create({
      id: newId(),
      senderId: actor.userId,
      recipientId: input.to,
      text: input.text,
      clientMessageId: input.clientMessageId ?? null,
      createdAt: this.now(),
    });
    if (!stored.created && !isRetryOf(stored.message, input)) {
      throw new AppError('VALIDATION_FAILED', 'This clientMessageId was already used for another message', {
        details: [{ path: 'clientMessageId', message: 'already used for another message: give a new message a new clientMessageId' }],
      });
    }
    const message = presentMessage(stored.message);
    if (stored.created) {
      const { delivery } = this.deps;
      delivery.toUsers([message.to], 'CHAT_MESSAGE', { message, seq: stored.recipientSeq });
      delivery.toUsers([message.from], 'CHAT_MESSAGE', { message, seq: stored.senderSeq }, { exceptSocketId: actor.origin });
      const { id, senderId, recipientId, text, createdAt } = stored.message;
      this.deps.events.emit('messageStored', { messageId: id, senderId, recipientId, text, createdAt });
    }
    return { message, seq: stored.senderSeq };
  }

  /** Relays CHAT_TYPING or CHAT_STOP_TYPING to the recipient's devices; nothing is stored. */
  async typing(actor: Actor, to: string, event: 'CHAT_TYPING' | 'CHAT_STOP_TYPING'): Promise<void> {
    await this.checkRecipient(actor, to);
    this.deps.delivery.toUsers([to], event, { from: actor.userId });
  }

  /** Marks a message and every earlier unread one from the same sender read. Only its recipient may. */
  async markRead(actor: Actor, messageId: string): Promise<{ readAt: Timestamp }> {
    const message = await this.incomingMessage(actor, messageId);
    if (message.readAt) return { readAt: message.readAt.toISOString() };
    const at = this.now();
    const marked = await this.deps.messages.markRead({ readerId: actor.userId, senderId: message.senderId, upToId: messageId, at });
    if (!marked) return { readAt: await this.settled(messageId, 'readAt') };
    const readAt = at.toISOString();
    const event = { messageId, readerId: actor.userId, readAt };
    this.deps.delivery.toUsers([message.senderId], 'MESSAGE_READ', { ...event, seq: marked.senderSeq });
    this.deps.delivery.toUsers([actor.userId], 'MESSAGE_READ', { ...event, seq: marked.readerSeq }, { exceptSocketId: actor.origin });
    return { readAt };
  }

  /** A recipient device has the message: deliveredAt is set once and the sender's devices hear of it. */
  async markDelivered(actor: Actor, messageId: string): Promise<{ deliveredAt: Timestamp }> {
    const message = await this.incomingMessage(actor, messageId);
    if (message.deliveredAt) return { deliveredAt: message.deliveredAt.toISOString() };
    const at = this.now();
    const marked = await this.deps.messages.markDelivered({ messageId, senderId: message.senderId, at });
    if (!marked) return { deliveredAt: await this.settled(messageId, 'deliveredAt') };
    const deliveredAt = at.toISOString();
    this.deps.delivery.toUsers([message.senderId], 'MESSAGE_DELIVERED', {
      messageId,
      recipientId: actor.userId,
      deliveredAt,
      seq: marked.senderSeq,
    });
    return { deliveredAt };
  }

  /** Messages between the caller and `peerId`, newest first. */
  async history(userId: string, peerId: string, page: Page): Promise<HistoryResponse> {
    if (!(await this.deps.users.findById(peerId))) throw new AppError('NOT_FOUND', 'No such user');
    const rows = await this.deps.messages.history(userId, peerId, { before: page.before, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (message) => message.id);
    return { messages: items.map(presentMessage), nextCursor };
  }

  /** The caller's conversations, the one with the latest message first. */
  async conversations(userId: string, page: Page): Promise<ConversationsResponse> {
    const rows = await this.deps.messages.conversations(userId, { before: page.before, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (conversation) => conversation.lastMessage.id);
    const peers = await this.deps.people.describe(userId, items.map((conversation) => conversation.peer));
    return {
      conversations: items.map((conversation, index) => ({
        peer: peers[index]!,
        lastMessage: presentMessage(conversation.lastMessage),
        unreadCount: conversation.unreadCount,
      })),
      nextCursor,
    };
  }

  /**
   * What changed in the caller's chat stream after position `after`, oldest first. Without `after`,
   * nothing but the current position: where a new device starts.
   */
  async sync(userId: string, after: number | undefined, limit: number): Promise<SyncResponse> {
    if (after === undefined) return { messages: [], seq: await this.deps.messages.streamHead(userId), hasMore: false };
    const rows = await this.deps.messages.streamAfter(userId, after, limit + 1);
    const items = rows.slice(0, limit);
    return {
      messages: items.map((row) => presentMessage(row.message)),
      seq: items.at(-1)?.seq ?? after,
      hasMore: rows.length > limit,
    };
  }

  /** The recipient must be someone else with an active account. */
  private async checkRecipient(actor: Actor, to: string): Promise<void> {
    if (to === actor.userId) throw new AppError('VALIDATION_FAILED', 'You cannot message yourself');
    const recipient = await this.deps.users.findById(to);
    if (recipient?.status !== 'active') throw new AppError('NOT_FOUND', 'No such user');
  }

  private async incomingMessage(actor: Actor, messageId: string): Promise<MessageRecord> {
    const message = await this.deps.messages.findById(messageId);
    if (!message) throw new AppError('NOT_FOUND', 'No such message');
    if (message.recipientId !== actor.userId) throw new AppError('FORBIDDEN', 'Only the recipient of a message can acknowledge it');
    return message;
  }

  /** A receipt another request set a moment ago, between our read and our write. */
  private async settled(messageId: string, field: 'readAt' | 'deliveredAt'): Promise<Timestamp> {
    const at = (await this.deps.messages.findById(messageId))?.[field];
    if (!at) throw new Error(`message ${messageId} has no ${field} after a concurrent receipt`);
    return at.toISOString();
  }
}
