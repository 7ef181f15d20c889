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

/** Characters of a replied-to message's text that a reply quotes. */
export const REPLY_PREVIEW_LENGTH = 100;
/** Users listed per emoji in a message's reactions (`count` counts them all). */
export const REACTION_USERS_LISTED = 100;

/** A message's content: `text`, or `encrypted` instead (docs/api/e2ee.md), never both. */
const content = { text: messageText.optional(), encrypted: encryptedContentSchema.optional() };
const oneContent: [(payload: { text?: string | undefined; encrypted?: unknown }) => boolean, { message: string; path: string[] }] = [
  (payload) => (payload.text === undefined) !== (payload.encrypted === undefined),
  { message: 'give exactly one of text and encrypted', path: ['text'] },
];

/**
 * A message carries `text`, or `encrypted` instead, never both; either may come with `attachments`
 * (docs/api/media.md), which may also stand alone.
 */
export const sendMessagePayload = z
  .object({ ...targetFields, ...content, attachments: attachmentIdsSchema.optional(), clientMessageId: clientMessageIdSchema.optional(), replyTo: idSchema.optional() })
  .refine(...oneTarget)
  .refine((payload) => payload.text === undefined || payload.encrypted === undefined, { message: 'give text or encrypted, not both', path: ['text'] })
  .refine((payload) => payload.text !== undefined || payload.encrypted !== undefined || payload.attachments !== undefined, {
    message: 'give text, encrypted or attachments',
    path: ['text'],
  });

/** A new content for a message: text for a plain one, a new encrypted payload for an encrypted one. */
export const editMessagePayload = z.object({ messageId: idSchema, ...content }).refine(...oneContent);

export const deleteMessagePayload = z.object({ messageId: idSchema, scope: z.enum(['everyone', 'me']) });

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
/**
 * One emoji: a fully-qualified emoji sequence of Unicode's RGI set (flags, keycaps, skin tones and ZWJ
 * sequences included), or a single pictographic character (with or without its emoji selector), and one
 * grapheme as Intl.Segmenter counts them. The `v` flag's string property is built at run time: the
 * TypeScript target predates it.
 */
const singleEmoji = new RegExp(String.raw`^(?:\p{RGI_Emoji}|\p{Extended_Pictographic}\uFE0F?)$`, 'v');
export const emojiSchema = z
  .string()
  .max(32, 'must be one emoji')
  .refine((text) => singleEmoji.test(text) && [...graphemes.segment(text)].length === 1, 'must be one emoji');

export const reactionPayload = z.object({ messageId: idSchema, emoji: emojiSchema, action: z.enum(['add', 'remove']) });

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
export type EditMessagePayload = z.input<typeof editMessagePayload>;
export type EditMessageInput = z.output<typeof editMessagePayload>;
export type DeleteMessagePayload = z.input<typeof deleteMessagePayload>;
export type ReactionPayload = z.input<typeof reactionPayload>;

/** What a reply quotes of the message it answers, as that message is now (it follows edits and deletes). */
export interface ReplyPreviewDto {
  id: string;
  from: string;
  /** Its first REPLY_PREVIEW_LENGTH characters; "" when it is encrypted or deleted. */
  text: string;
  /** Encrypted: the app quotes its own decrypted copy. */
  encrypted: boolean;
  deleted: boolean;
}

export interface ReactionDto {
  emoji: string;
  count: number;
  /** The first REACTION_USERS_LISTED users who reacted with it, in the order they did. */
  userIds: string[];
}

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
  /** When its content was last edited; null if never. */
  editedAt: Timestamp | null;
  /** Deleted for everyone: a tombstone with text "", no encrypted payload, reply or reactions. */
  deletedAt: Timestamp | null;
  /** Who deleted it: its sender, or an admin or the owner of its group. */
  deletedBy: string | null;
  replyTo: ReplyPreviewDto | null;
  /** By emoji, the first reacted first. */
  reactions: ReactionDto[];
  /** Grows with every edit, delete and reaction change: keep the state with the highest revision. */
  revision: number;
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

/** MESSAGE_EDIT to the members' devices: the message as edited. */
export interface MessageEditEvent {
  message: MessageDto;
}

/** MESSAGE_DELETE: for everyone (to every member's devices, with the tombstone) or for me (to the user's other devices). */
export type MessageDeleteEvent = { scope: 'everyone'; message: MessageDto } | { scope: 'me'; messageId: string; conversationId: string };

export interface MessageReactionEvent {
  messageId: string;
  conversationId: string;
  /** The message's revision after this change: apply it only if it is higher than the one you hold. */
  revision: number;
  /** All of the message's reactions after this change. */
  reactions: ReactionDto[];
  /** The change: who added or removed which emoji. */
  userId: string;
  emoji: string;
  action: 'add' | 'remove';
}

export interface ReactionResult {
  messageId: string;
  conversationId: string;
  revision: number;
  reactions: ReactionDto[];
}

/** A message the caller hid for themself (from another device). */
export interface HiddenMessageDto {
  conversationId: string;
  messageId: string;
  hiddenAt: Timestamp;
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
  /** New messages, and messages whose receipts, content (edits, deletes) or reactions changed. */
  messages: MessageDto[];
  /** Conversations that were created, renamed or whose members or roles changed. */
  conversations: ConversationDto[];
  /** Members' read positions that moved. */
  reads: ReadPositionDto[];
  /** Conversations the caller was removed from or left: drop them and their messages. */
  left: LeftConversationDto[];
  /** Messages the caller hid for themself: drop them. */
  hidden: HiddenMessageDto[];
  /** Where this page ends: pass it as `after` next time. */
  cursor: string;
  hasMore: boolean;
}
