import type { ClientEvent } from './ack.js';
import type {
  ChatMessageEvent,
  DeleteMessagePayload,
  EditMessagePayload,
  MessageDeleteEvent,
  MessageEditEvent,
  MessageReactionEvent,
  ReactionPayload,
  ReactionResult,
  MessageDeliveredEvent,
  MessageDeliveredPayload,
  MessageReadEvent,
  MessageReadPayload,
  SendMessagePayload,
  TypingEvent,
  TypingPayload,
} from './chat.js';
import type { Timestamp } from './common.js';
import type { ConversationUpdatedEvent } from './conversations.js';

/** Chat events (CONTRACT.md "Chat events" and its v1.1 section, plus delivery receipts and message actions); documented in docs/api/chat.md. */
export interface ChatClientEvents {
  /** Acknowledged once the message is stored. */
  CHAT_MESSAGE: ClientEvent<SendMessagePayload, ChatMessageEvent>;
  CHAT_TYPING: ClientEvent<TypingPayload>;
  CHAT_STOP_TYPING: ClientEvent<TypingPayload>;
  MESSAGE_READ: ClientEvent<MessageReadPayload, { readAt: Timestamp }>;
  /** A recipient device confirms it has a message. */
  MESSAGE_DELIVERED: ClientEvent<MessageDeliveredPayload, { deliveredAt: Timestamp }>;
  /** The sender replaces a message's content; acknowledged with the message once stored. */
  MESSAGE_EDIT: ClientEvent<EditMessagePayload, MessageEditEvent>;
  /** Deletes a message for everyone (ack with the tombstone) or hides it for the sender's devices (ack `{}`). */
  MESSAGE_DELETE: ClientEvent<DeleteMessagePayload, { message?: MessageEditEvent['message'] }>;
  /** Adds or removes one's reaction; acknowledged with the message's reactions once stored. */
  MESSAGE_REACTION: ClientEvent<ReactionPayload, ReactionResult>;
}

export interface ChatServerEvents {
  CHAT_MESSAGE: (payload: ChatMessageEvent) => void;
  CHAT_TYPING: (payload: TypingEvent) => void;
  CHAT_STOP_TYPING: (payload: TypingEvent) => void;
  MESSAGE_READ: (payload: MessageReadEvent) => void;
  MESSAGE_DELIVERED: (payload: MessageDeliveredEvent) => void;
  CONVERSATION_UPDATED: (payload: ConversationUpdatedEvent) => void;
  MESSAGE_EDIT: (payload: MessageEditEvent) => void;
  MESSAGE_DELETE: (payload: MessageDeleteEvent) => void;
  MESSAGE_REACTION: (payload: MessageReactionEvent) => void;
}
