import { z } from 'zod';
import { idSchema, pageLimitSchema, pageQuerySchema, textSchema, TOO_LARGE_ISSUE, type Timestamp } from './common.js';
import type { PersonDto } from './people.js';

/** The contract's chat text limits, in characters (Unicode code points: an emoji is one). */
export const MESSAGE_TEXT_LENGTH = { min: 1, max: 4000 } as const;

const codePoints = (text: string) => [...text].length;

const messageText = textSchema
  // The UTF-16 length first, so a huge string is not spread: 4000 code points are at most 8000 units.
  .refine((text) => text.length <= MESSAGE_TEXT_LENGTH.max * 2 && codePoints(text) <= MESSAGE_TEXT_LENGTH.max, {
    message: `must be at most ${MESSAGE_TEXT_LENGTH.max} characters`,
    params: TOO_LARGE_ISSUE,
  })
  .refine((text) => text.trim().length >= MESSAGE_TEXT_LENGTH.min, 'must not be empty or blank');

/** A client's own id for a message, so a retry is recognised: UUIDs, nanoids and the like. */
export const clientMessageIdSchema = z.string().regex(/^[\w.:-]{1,100}$/, 'must be 1-100 letters, digits or . _ : -');

export const sendMessagePayload = z.object({
  to: idSchema,
  text: messageText,
  clientMessageId: clientMessageIdSchema.optional(),
});

export const typingPayload = z.object({ to: idSchema });

export const messageReadPayload = z.object({ messageId: idSchema });

export const messageDeliveredPayload = z.object({ messageId: idSchema });

export const historyParams = z.object({ userId: idSchema });

export const historyQuery = pageQuerySchema;

export const conversationsQuery = pageQuerySchema;

/** A position in a user's chat stream: a non-negative integer, sent as a query string. */
const streamPosition = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a stream position (a non-negative integer)')
  .transform(Number);

export const syncQuery = z.object({
  after: streamPosition.optional(),
  limit: pageLimitSchema,
});

export type SendMessagePayload = z.input<typeof sendMessagePayload>;
export type SendMessageInput = z.output<typeof sendMessagePayload>;
export type TypingPayload = z.input<typeof typingPayload>;
export type MessageReadPayload = z.input<typeof messageReadPayload>;
export type MessageDeliveredPayload = z.input<typeof messageDeliveredPayload>;

export interface MessageDto {
  id: string;
  from: string;
  to: string;
  text: string;
  /** The sender's own id for the message, or null when it sent none. */
  clientMessageId: string | null;
  createdAt: Timestamp;
  deliveredAt: Timestamp | null;
  readAt: Timestamp | null;
}

/**
 * `seq` is the change's position in the receiving user's chat stream. A client keeps the highest `seq`
 * it has processed and, on every (re)connect, asks `GET /api/chat/sync?after=<seq>` for what it missed.
 */
export interface ChatMessageEvent {
  message: MessageDto;
  seq: number;
}

export interface TypingEvent {
  from: string;
}

export interface MessageReadEvent {
  /** This message and every earlier one from the same sender to `readerId` are read. */
  messageId: string;
  readerId: string;
  readAt: Timestamp;
  seq: number;
}

export interface MessageDeliveredEvent {
  messageId: string;
  recipientId: string;
  deliveredAt: Timestamp;
  seq: number;
}

export interface HistoryResponse {
  messages: MessageDto[];
  nextCursor: string | null;
}

export interface ConversationDto {
  peer: PersonDto;
  lastMessage: MessageDto;
  /** Messages from the peer the caller has not read. */
  unreadCount: number;
}

export interface ConversationsResponse {
  conversations: ConversationDto[];
  nextCursor: string | null;
}

export interface SyncResponse {
  /** New messages and messages whose receipts changed, oldest change first, each in its latest state. */
  messages: MessageDto[];
  /** Where this page ends: pass it as `after` next time. */
  seq: number;
  hasMore: boolean;
}
