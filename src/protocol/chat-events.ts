import type { ClientEvent } from './ack.js';
import type {
  ChatMessageEvent,
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

/** Chat events (CONTRACT.md "Chat events" and its v1.1 section, plus delivery receipts); documented in docs/api/chat.md. */
export interface ChatClientEvents {
  /** Acknowledged once the message is stored. */
  CHAT_MESSAGE: ClientEvent<SendMessagePayload, ChatMessageEvent>;
  CHAT_TYPING: ClientEvent<TypingPayload>;
  CHAT_STOP_TYPING: ClientEvent<TypingPayload>;
  MESSAGE_READ: ClientEvent<MessageReadPayload, { readAt: Timestamp }>;
  /** A recipient device confirms it has a message. */
  MESSAGE_DELIVERED: ClientEvent<MessageDeliveredPayload, { deliveredAt: Timestamp }>;
}

export interface ChatServerEvents {
  CHAT_MESSAGE: (payload: ChatMessageEvent) => void;
  CHAT_TYPING: (payload: TypingEvent) => void;
  CHAT_STOP_TYPING: (payload: TypingEvent) => void;
  MESSAGE_READ: (payload: MessageReadEvent) => void;
  MESSAGE_DELIVERED: (payload: MessageDeliveredEvent) => void;
  CONVERSATION_UPDATED: (payload: ConversationUpdatedEvent) => void;
}
