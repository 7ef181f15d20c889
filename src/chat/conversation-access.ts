import type { Delivery, ServerEvent, ServerEventPayload } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { BlocksRepository, ConversationsRepository, MemberRole, MessageRecord, MessagesRepository, UsersRepository } from '../storage/ports.js';

/** Who asks, and from which connection: that connection gets the answer, the user's others get the event. */
export interface Actor {
  userId: string;
  origin?: string | undefined;
}

/** Where a message or an event about it goes: a group, or the other member of a direct conversation. */
export type Target = { conversationId: string; recipientId: string | null };

export const noSuchConversation = () => new AppError('NOT_FOUND', 'No such conversation');
export const noSuchUser = () => new AppError('NOT_FOUND', 'No such user');

export interface ConversationAccessDeps {
  messages: Pick<MessagesRepository, 'findById'>;
  conversations: Pick<ConversationsRepository, 'membership'>;
  users: Pick<UsersRepository, 'findById'>;
  blocks: Pick<BlocksRepository, 'between'>;
  delivery: Delivery;
}

/**
 * Who may reach whom in chat, and how an event reaches a conversation's members. Only current members
 * act in a conversation; to anyone else it does not exist. Someone who blocks you does not exist for you
 * either: exactly as for an unknown user, `NOT_FOUND` "No such user".
 */
export class ConversationAccess {
  constructor(private readonly deps: ConversationAccessDeps) {}

  /** The recipient must be someone else with an active account, in no block with the actor. */
  async checkRecipient(actor: Actor, to: string): Promise<void> {
    if (to === actor.userId) throw new AppError('VALIDATION_FAILED', 'You cannot message yourself');
    const [recipient, blocks] = await Promise.all([this.deps.users.findById(to), this.deps.blocks.between(actor.userId, to)]);
    if (recipient?.status !== 'active' || blocks.blockedBy) throw noSuchUser();
    if (blocks.blocks) throw new AppError('FORBIDDEN', 'You have blocked this user: unblock them to write to them');
  }

  /** A conversation the actor is a current member of; in a direct one the other member must be reachable. */
  async memberTarget(actor: Actor, conversationId: string): Promise<Target> {
    const membership = await this.deps.conversations.membership(conversationId, actor.userId);
    if (!membership) throw noSuchConversation();
    if (membership.peerId) await this.checkRecipient(actor, membership.peerId);
    return { conversationId, recipientId: membership.peerId };
  }

  /** A message of a conversation the actor is a current member of, with the actor's role there. */
  async visibleMessage(actor: Actor, messageId: string): Promise<{ message: MessageRecord; target: Target; role: MemberRole }> {
    const message = await this.deps.messages.findById(messageId);
    const membership = message && (await this.deps.conversations.membership(message.conversationId, actor.userId));
    if (!message || !membership) throw new AppError('NOT_FOUND', 'No such message');
    return { message, target: { conversationId: message.conversationId, recipientId: membership.peerId }, role: membership.role };
  }

  /** To every device of the conversation's members but the actor's own connection. */
  toMembers<E extends ServerEvent>(actor: Actor, target: Target, event: E, payload: ServerEventPayload<E>): void {
    const { delivery } = this.deps;
    if (target.recipientId === null) {
      delivery.toConversation(target.conversationId, event, payload, { exceptSocketId: actor.origin });
      return;
    }
    // One emit to both users' rooms: the packet is encoded once.
    delivery.toUsers([target.recipientId, actor.userId], event, payload, { exceptSocketId: actor.origin });
  }

  /** To the actor's other devices. */
  toOwnDevices<E extends ServerEvent>(actor: Actor, event: E, payload: ServerEventPayload<E>): void {
    this.deps.delivery.toUsers([actor.userId], event, payload, { exceptSocketId: actor.origin });
  }
}
