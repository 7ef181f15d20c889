import { isDeepStrictEqual } from 'node:util';
import type { ChatMessageEvent, SendMessageInput, TypingPayload } from '../protocol/chat.js';
import type { Timestamp } from '../protocol/common.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { ConversationsRepository, MessageRecord, MessagesRepository } from '../storage/ports.js';
import { noSuchConversation, noSuchUser, type Actor, type ConversationAccess } from './conversation-access.js';
import { DirectConversations } from './direct-conversations.js';
import { presentMessage } from './message-presenter.js';

export interface ChatServiceDeps {
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  access: ConversationAccess;
  delivery: Delivery;
  events: DomainEvents;
  now?: () => Date;
}

type TypingTarget = Pick<TypingPayload, 'to' | 'conversationId'>;

/** Whether a stored message says what a send or an edit says: the same text, or the same encrypted payload (jsonb reorders keys). */
export const sameContent = (stored: MessageRecord, input: { text?: string | undefined; encrypted?: unknown }) =>
  stored.text === (input.text ?? '') && isDeepStrictEqual(stored.encrypted ?? null, input.encrypted ?? null);

/** Whether a stored message holds the attachments a send names, in its order. */
const sameAttachments = (stored: MessageRecord, input: SendMessageInput) =>
  isDeepStrictEqual(stored.attachments?.map((attachment) => attachment.id) ?? [], input.attachments ?? []);

/**
 * Chat in direct and group conversations: messages are stored before anyone hears of them, retries are
 * recognised by the sender's clientMessageId (and refused when it names another message), receipts are
 * set once and read positions only move forward. Only current members send, type or read; to anyone
 * else a conversation does not exist.
 */
export class ChatService {
  private readonly now: () => Date;
  private readonly directConversations: DirectConversations;

  constructor(private readonly deps: ChatServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.directConversations = new DirectConversations(deps.conversations);
  }

  async send(actor: Actor, input: SendMessageInput): Promise<ChatMessageEvent> {
    const conversationId = input.to ? await this.directConversationWith(actor, input.to) : input.conversationId!;
    // The store checks, in the statement that inserts, that the sender is a member and that a direct
    // conversation's other member is still active: nothing is looked up before.
    const stored = await this.deps.messages.create({
      id: newId(),
      conversationId,
      senderId: actor.userId,
      text: input.text ?? '',
      ...(input.encrypted ? { encrypted: input.encrypted } : {}),
      ...(input.attachments ? { attachmentIds: input.attachments } : {}),
      clientMessageId: input.clientMessageId ?? null,
      replyToId: input.replyTo ?? null,
      createdAt: this.now(),
    });
    if (stored.outcome === 'notMember') throw noSuchConversation();
    // A recipient who blocks the sender answers as an unknown user would: the block is not revealed.
    if (stored.outcome === 'recipientUnavailable') throw noSuchUser();
    if (stored.outcome === 'recipientBlocked') throw new AppError('FORBIDDEN', 'You have blocked this user: unblock them to write to them');
    if (stored.outcome === 'noSuchReply') {
      throw new AppError('VALIDATION_FAILED', 'replyTo must name a message of this conversation', {
        details: [{ path: 'replyTo', message: 'no such message in this conversation (or it was deleted)' }],
      });
    }
    if (stored.outcome === 'attachmentsUnavailable') {
      throw new AppError('NOT_FOUND', 'No such media', {
        details: [{ path: 'attachments', message: input.encrypted ? 'each must be an encrypted upload of yours, not yet attached' : 'each must be an upload of yours, ready and not yet attached' }],
      });
    }
    // A send that reuses a clientMessageId is a retry only if it says the same thing to the same
    // conversation; a message edited or deleted since answers as it is now.
    const { message: first } = stored;
    const changedSince = first.editedAt !== null || first.deletedAt !== null;
    if (!stored.created && (first.conversationId !== conversationId || !(changedSince || (sameContent(first, input) && sameAttachments(first, input))))) {
      throw new AppError('VALIDATION_FAILED', 'This clientMessageId was already used for another message', {
        details: [{ path: 'clientMessageId', message: 'already used for another message: give a new message a new clientMessageId' }],
      });
    }
    const message = presentMessage(stored.message);
    if (stored.created) {
      const { id, senderId, recipientId, text, createdAt } = stored.message;
      this.deps.access.toMembers(actor, { conversationId, recipientId }, 'CHAT_MESSAGE', { message });
      this.deps.events.emit('messageStored', { messageId: id, conversationId, senderId, recipientId, text, encrypted: input.encrypted !== undefined, createdAt });
    }
    return { message };
  }

  /** Relays CHAT_TYPING or CHAT_STOP_TYPING to the other members' devices; nothing is stored. */
  async typing(actor: Actor, input: TypingTarget, event: 'CHAT_TYPING' | 'CHAT_STOP_TYPING'): Promise<void> {
    if (input.to) {
      await this.deps.access.checkRecipient(actor, input.to);
      this.deps.delivery.toUsers([input.to], event, { from: actor.userId });
      return;
    }
    const target = await this.deps.access.memberTarget(actor, input.conversationId!);
    const payload = { from: actor.userId, conversationId: target.conversationId };
    if (target.recipientId) this.deps.delivery.toUsers([target.recipientId], event, payload);
    else this.deps.delivery.toConversation(target.conversationId, event, payload, { exceptUserId: actor.userId });
  }

  /**
   * Moves the reader's read position to a message. In a direct conversation that marks it and every
   * earlier message from the other party read (only its recipient may); in a group it is the member's
   * position alone, which the other members hear of.
   */
  async markRead(actor: Actor, messageId: string): Promise<{ readAt: Timestamp }> {
    const { message, target } = await this.deps.access.visibleMessage(actor, messageId);
    const at = this.now();
    const event = { messageId, readerId: actor.userId, readAt: at.toISOString(), conversationId: target.conversationId };
    if (target.recipientId === null) {
      const read = await this.deps.conversations.moveReadPosition({ conversationId: target.conversationId, userId: actor.userId, messageId, at });
      if (!read.moved) return { readAt: (read.readAt ?? at).toISOString() };
      this.deps.delivery.toConversation(target.conversationId, 'MESSAGE_READ', event, { exceptSocketId: actor.origin });
      return { readAt: event.readAt };
    }
    this.checkIncoming(actor, message);
    if (message.readAt) return { readAt: message.readAt.toISOString() };
    const marked = await this.deps.messages.markRead({ readerId: actor.userId, conversationId: target.conversationId, upToId: messageId, at });
    if (!marked) return { readAt: await this.settled(messageId, 'readAt') };
    this.deps.delivery.toUsers([message.senderId, actor.userId], 'MESSAGE_READ', event, { exceptSocketId: actor.origin });
    return { readAt: event.readAt };
  }

  /**
   * A recipient device has the message: deliveredAt is set once, by the first member's device that
   * confirms, and only then do the sender's devices hear of it (in a group: once, not once per member).
   */
  async markDelivered(actor: Actor, messageId: string): Promise<{ deliveredAt: Timestamp }> {
    const { message, target } = await this.deps.access.visibleMessage(actor, messageId);
    if (target.recipientId !== null) this.checkIncoming(actor, message);
    else if (message.senderId === actor.userId) throw new AppError('FORBIDDEN', 'Only the recipients of a message can acknowledge it');
    if (message.deliveredAt) return { deliveredAt: message.deliveredAt.toISOString() };
    const at = this.now();
    if (!(await this.deps.messages.markDelivered({ messageId, at }))) return { deliveredAt: await this.settled(messageId, 'deliveredAt') };
    const deliveredAt = at.toISOString();
    this.deps.delivery.toUsers([message.senderId], 'MESSAGE_DELIVERED', {
      messageId,
      recipientId: actor.userId,
      deliveredAt,
      conversationId: target.conversationId,
    });
    return { deliveredAt };
  }

  /** The conversation with `to`; the first message of a pair creates it, if `to` is an active user. */
  private async directConversationWith(actor: Actor, to: string): Promise<string> {
    // checkRecipient refuses yourself: a pair of one user is never cached, so it always runs for one.
    return this.directConversations.ensure(actor.userId, to, this.now(), () => this.deps.access.checkRecipient(actor, to));
  }

  private checkIncoming(actor: Actor, message: MessageRecord): void {
    if (message.recipientId !== actor.userId) throw new AppError('FORBIDDEN', 'Only the recipient of a message can acknowledge it');
  }

  /** A receipt another request set a moment ago, between our read and our write. */
  private async settled(messageId: string, field: 'readAt' | 'deliveredAt'): Promise<Timestamp> {
    const at = (await this.deps.messages.findById(messageId))?.[field];
    if (!at) throw new Error(`message ${messageId} has no ${field} after a concurrent receipt`);
    return at.toISOString();
  }
}
