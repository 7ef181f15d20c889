import type { EditMessageInput, MessageDto, MessageEditEvent, ReactionResult } from '../protocol/chat.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { MessageRecord, MessagesRepository } from '../storage/ports.js';
import { sameContent } from './chat-service.js';
import type { Actor, ConversationAccess, Target } from './conversation-access.js';
import { presentMessage } from './message-presenter.js';

export interface MessageActionsDeps {
  messages: MessagesRepository;
  access: ConversationAccess;
  events: DomainEvents;
  /** How long after sending its sender may edit a message, and delete it for everyone. */
  editWindowSeconds: number;
  deleteWindowSeconds: number;
  /** Different emoji one user may have on one message. */
  reactionsPerUser: number;
  now?: () => Date;
}

const wasDeleted = () => new AppError('INVALID_STATE', 'This message was deleted');

/** "15 minutes", "2 days": a window as people say it. */
function spoken(seconds: number): string {
  const [amount, unit] =
    seconds % 86400 === 0 ? [seconds / 86400, 'day'] : seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

/**
 * What members do to messages once sent: edit (the sender, within the edit window), delete for everyone
 * (the sender within the delete window, a group's owner and admins any time), hide for themself, react.
 * Each is stored before anyone hears of it, tells nobody when it changes nothing (so retries are
 * harmless), and goes to every device of the conversation's members but the acting connection, which
 * gets the ack. In a direct conversation where one blocks the other, edits and reactions are refused as
 * sends are; deleting stays possible.
 */
export class MessageActions {
  private readonly now: () => Date;

  constructor(private readonly deps: MessageActionsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async edit(actor: Actor, input: EditMessageInput): Promise<MessageEditEvent> {
    const { message, target } = await this.deps.access.visibleMessage(actor, input.messageId);
    if (message.senderId !== actor.userId) throw new AppError('FORBIDDEN', 'Only the sender of a message can edit it');
    if (message.deletedAt) throw wasDeleted();
    if ((message.encrypted !== undefined) !== (input.encrypted !== undefined)) {
      const [path, wanted] = message.encrypted ? ['encrypted', 'an encrypted message is edited with a new encrypted payload'] : ['text', 'a plain message is edited with text'];
      throw new AppError('VALIDATION_FAILED', 'An edit keeps a message plain or encrypted', { details: [{ path, message: wanted }] });
    }
    const at = this.now();
    const createdSince = new Date(at.getTime() - this.deps.editWindowSeconds * 1000);
    if (message.createdAt < createdSince) {
      throw new AppError('FORBIDDEN', `A message can be edited for ${spoken(this.deps.editWindowSeconds)} after it was sent`);
    }
    await this.checkReachable(actor, target);
    if (sameContent(message, input)) return { message: presentMessage(message) };
    const edited = await this.deps.messages.edit({
      messageId: message.id,
      senderId: actor.userId,
      text: input.text ?? '',
      encrypted: input.encrypted ?? null,
      at,
      createdSince,
    });
    // Deleted, or the sender left, between the read and the write.
    if (!edited) throw (await this.deps.messages.findById(message.id))?.deletedAt ? wasDeleted() : new AppError('NOT_FOUND', 'No such message');
    const event = { message: presentMessage(edited) };
    this.deps.access.toMembers(actor, target, 'MESSAGE_EDIT', event);
    return event;
  }

  /** Erases the message's content for every member; the tombstone keeps its id, sender and time. */
  async deleteForEveryone(actor: Actor, messageId: string): Promise<{ message: MessageDto }> {
    const { message, target, role } = await this.deps.access.visibleMessage(actor, messageId);
    if (message.deletedAt) return { message: presentMessage(message) };
    const at = this.now();
    const manager = target.recipientId === null && (role === 'owner' || role === 'admin');
    if (!manager) {
      if (message.senderId !== actor.userId) throw new AppError('FORBIDDEN', 'Only its sender (or an admin of the group) can delete a message for everyone');
      if (message.createdAt.getTime() < at.getTime() - this.deps.deleteWindowSeconds * 1000) {
        throw new AppError('FORBIDDEN', `A message can be deleted for everyone for ${spoken(this.deps.deleteWindowSeconds)} after it was sent; delete it for yourself instead`);
      }
    }
    const deleted = await this.deps.messages.deleteForEveryone({ messageId, deletedBy: actor.userId, at });
    // A concurrent delete came first: it told everyone.
    if (!deleted) return { message: presentMessage(await this.stored(messageId)) };
    const tombstone = presentMessage(deleted);
    this.deps.access.toMembers(actor, target, 'MESSAGE_DELETE', { scope: 'everyone', message: tombstone });
    this.deps.events.emit('messagesDeleted', { conversationId: target.conversationId, messageIds: [messageId] });
    return { message: tombstone };
  }

  /** Hides the message from the actor's own devices; the other members keep it. */
  async deleteForMe(actor: Actor, messageId: string): Promise<void> {
    const { message } = await this.deps.access.visibleMessage(actor, messageId);
    const { conversationId } = message;
    if (!(await this.deps.messages.hide({ userId: actor.userId, messageId, conversationId, at: this.now() }))) return;
    this.deps.access.toOwnDevices(actor, 'MESSAGE_DELETE', { scope: 'me', messageId, conversationId });
  }

  async react(actor: Actor, input: { messageId: string; emoji: string; action: 'add' | 'remove' }): Promise<ReactionResult> {
    const { message, target } = await this.deps.access.visibleMessage(actor, input.messageId);
    if (message.deletedAt) throw wasDeleted();
    await this.checkReachable(actor, target);
    const result = await this.deps.messages.react({ ...input, userId: actor.userId, at: this.now(), maxPerUser: this.deps.reactionsPerUser });
    if (result.outcome === 'deleted') throw wasDeleted();
    if (result.outcome === 'tooMany') {
      throw new AppError('VALIDATION_FAILED', `At most ${this.deps.reactionsPerUser} different reactions per message`, {
        details: [{ path: 'emoji', message: 'remove one of your reactions to this message first' }],
      });
    }
    const state = { messageId: message.id, conversationId: message.conversationId, revision: result.revision, reactions: result.reactions };
    if (result.changed) this.deps.access.toMembers(actor, target, 'MESSAGE_REACTION', { ...state, userId: actor.userId, emoji: input.emoji, action: input.action });
    return state;
  }

  private async checkReachable(actor: Actor, target: Target): Promise<void> {
    if (target.recipientId !== null) await this.deps.access.checkRecipient(actor, target.recipientId);
  }

  private async stored(messageId: string): Promise<MessageRecord> {
    const message = await this.deps.messages.findById(messageId);
    if (!message) throw new Error(`message ${messageId} vanished after a delete`);
    return message;
  }
}
