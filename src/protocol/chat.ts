import { z } from 'zod';
import { idSchema, pageLimitSchema, pageQuerySchema, textSchema, TOO_LARGE_ISSUE, type Timestamp } from './common.js';
import type { ConversationDto, LeftConversationDto, ReadPositionDto } from './conversations.js';
import { encryptedContentSchema, type EncryptedContent } from './encrypted.js';
import { attachmentIdsSchema, type AttachmentDto } from './media.js';

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

/** Who a chat event is for: a user (their direct conversation) or any conversation by id, never both. */
const targetFields = { to: idSchema.optional(), conversationId: idSchema.optional() };
const oneTarget: [(payload: { to?: string | undefined; conversationId?: string | undefined }) => boolean, { message: string; path: string[] }] = [
  (payload) => (payload.to === undefined) !== (payload.conversationId === undefined),
  { message: 'give exactly one of to and conversationId', path: ['conversationId'] },
];

/**
 * A message carries `text`, or `encrypted` instead (docs/api/e2ee.md), never both; either may come with
 * `attachments` (docs/api/media.md), which may also stand alone.
 */
export const sendMessagePayload = z
  .object({
    ...targetFields,
    text: messageText.optional(),
    encrypted: encryptedContentSchema.optional(),
    attachments: attachmentIdsSchema.optional(),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .refine(...oneTarget)
  .refine((payload) => payload.text === undefined || payload.encrypted === undefined, { message: 'give text or encrypted, not both', path: ['text'] })
  .refine((payload) => payload.text !== undefined || payload.encrypted !== undefined || payload.attachments !== undefined, {
    message: 'give text, encrypted or attachments',
    path: ['text'],
  });

export const typingPayload = z.object(targetFields).refine(...oneTarget);

export const messageReadPayload = z.object({ messageId: idSchema });

export const messageDeliveredPayload = z.object({ messageId: idSchema });

export const historyParams = z.object({ userId: idSchema });

export const historyQuery = pageQuerySchema;

export const conversationsQuery = pageQuerySchema;

/** A sync cursor as the server handed it out: opaque to clients (positions before v1.1 are numbers, refused). */
export const syncCursorSchema = z
  .string()
  .regex(/^[\w-]{1,8000}$/, 'must be a cursor from an earlier sync (positions before v1.1 are no longer accepted: sync without after)');

export const syncQuery = z.object({
  after: syncCursorSchema.optional(),
  limit: pageLimitSchema,
});

export type SendMessagePayload = z.input<typeof sendMessagePayload>;
export type SendMessageInput = z.output<typeof sendMessagePayload>;
export type TypingPayload = z.input<typeof typingPayload>;
export type MessageReadPayload = z.input<typeof messageReadPayload>;
export type MessageDeliveredPayload = z.input<typeof messageDeliveredPayload>;

export interface MessageDto {
  id: string;
  conversationId: string;
  from: string;
  /** The recipient of a direct message; null in a group. */
  to: string | null;
  /** Empty when the message is encrypted or has attachments only. */
  text: string;
  /** Only on end-to-end encrypted messages: the payload as the sender sent it. */
  encrypted?: EncryptedContent;
  /** Only on messages with attachments, in the order the sender gave them. */
  attachments?: AttachmentDto[];
  /** The sender's own id for the message, or null when it sent none. */
  clientMessageId: string | null;
  createdAt: Timestamp;
  deliveredAt: Timestamp | null;
  readAt: Timestamp | null;
}

export interface ChatMessageEvent {
  message: MessageDto;
}

export interface TypingEvent {
  from: string;
  /** Present when the typing was addressed by conversation (always in a group). */
  conversationId?: string;
}

export interface MessageReadEvent {
  /**
   * The reader's read position is now this message: in a direct conversation this message and every
   * earlier one from the other party are read.
   */
  messageId: string;
  readerId: string;
  readAt: Timestamp;
  conversationId: string;
}

export interface MessageDeliveredEvent {
  messageId: string;
  /** The member whose device confirmed first. */
  recipientId: string;
  deliveredAt: Timestamp;
  conversationId: string;
}

export interface HistoryResponse {
  messages: MessageDto[];
  nextCursor: string | null;
}

export interface ConversationsResponse {
  conversations: ConversationDto[];
  nextCursor: string | null;
}

/**
 * What changed in the caller's conversations after a cursor, each thing once and in its latest state.
 * A client applies all four lists (upserting by id) and keeps `cursor` for the next sync.
 */
export interface SyncResponse {
  /** New messages and messages whose receipts changed. */
  messages: MessageDto[];
  /** Conversations that were created, renamed or whose members or roles changed. */
  conversations: ConversationDto[];
  /** Members' read positions that moved. */
  reads: ReadPositionDto[];
  /** Conversations the caller was removed from or left: drop them and their messages. */
  left: LeftConversationDto[];
  /** Where this page ends: pass it as `after` next time. */
  cursor: string;
  hasMore: boolean;
}
