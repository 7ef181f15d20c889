import { z } from 'zod';
import { idSchema, nextCursorSchema, pageLimitSchema, pageQuerySchema, textSchema, timestampSchema, TOO_LARGE_ISSUE, wireIdSchema } from './common.js';
import { encryptedContentSchema } from './encrypted.js';
import { attachmentIdsSchema, attachmentSchema } from './media.js';

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
export const replyPreviewSchema = z.object({
  id: wireIdSchema,
  from: wireIdSchema,
  text: z.string().meta({ description: `Its first ${REPLY_PREVIEW_LENGTH} characters; "" when it is encrypted or deleted.` }),
  encrypted: z.boolean().meta({ description: 'Encrypted: the app quotes its own decrypted copy.' }),
  deleted: z.boolean(),
});

export const reactionSchema = z.object({
  emoji: z.string(),
  count: z.int().positive(),
  userIds: z.array(wireIdSchema).meta({ description: `The first ${REACTION_USERS_LISTED} users who reacted with it, in the order they did.` }),
});

export const messageSchema = z.object({
  id: wireIdSchema,
  conversationId: wireIdSchema,
  from: wireIdSchema,
  to: wireIdSchema.nullable().meta({ description: 'The recipient of a direct message; null in a group.' }),
  text: z.string().meta({ description: 'Empty when the message is encrypted or has attachments only.' }),
  encrypted: encryptedContentSchema.optional().meta({ description: 'Only on end-to-end encrypted messages: the payload as the sender sent it.' }),
  attachments: z.array(attachmentSchema).optional().meta({ description: 'Only on messages with attachments, in the order the sender gave them.' }),
  clientMessageId: z.string().nullable().meta({ description: "The sender's own id for the message, or null when it sent none." }),
  createdAt: timestampSchema,
  deliveredAt: timestampSchema.nullable(),
  readAt: timestampSchema.nullable(),
  editedAt: timestampSchema.nullable().meta({ description: 'When its content was last edited; null if never.' }),
  deletedAt: timestampSchema.nullable().meta({ description: 'Deleted for everyone: a tombstone with text "", no encrypted payload, reply or reactions.' }),
  deletedBy: wireIdSchema.nullable().meta({ description: 'Who deleted it: its sender, or an admin or the owner of its group.' }),
  replyTo: replyPreviewSchema.nullable(),
  reactions: z.array(reactionSchema).meta({ description: 'By emoji, the first reacted first.' }),
  revision: z.int().min(0).meta({ description: 'Grows with every edit, delete and reaction change: keep the state with the highest revision.' }),
});

export const chatMessageEventSchema = z.object({ message: messageSchema });

export const typingEventSchema = z.object({
  from: wireIdSchema,
  conversationId: wireIdSchema.optional().meta({ description: 'Present when the typing was addressed by conversation (always in a group).' }),
});

export const messageReadEventSchema = z.object({
  messageId: wireIdSchema.meta({
    description: "The reader's read position is now this message: in a direct conversation this message and every earlier one from the other party are read.",
  }),
  readerId: wireIdSchema,
  readAt: timestampSchema,
  conversationId: wireIdSchema,
});

export const messageDeliveredEventSchema = z.object({
  messageId: wireIdSchema,
  recipientId: wireIdSchema.meta({ description: 'The member whose device confirmed first.' }),
  deliveredAt: timestampSchema,
  conversationId: wireIdSchema,
});

/** MESSAGE_EDIT to the members' devices: the message as edited. */
export const messageEditEventSchema = z.object({ message: messageSchema });

/** MESSAGE_DELETE: for everyone (to every member's devices, with the tombstone) or for me (to the user's other devices). */
export const messageDeleteEventSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('everyone'), message: messageSchema }),
  z.object({ scope: z.literal('me'), messageId: wireIdSchema, conversationId: wireIdSchema }),
]);

export const reactionResultSchema = z.object({
  messageId: wireIdSchema,
  conversationId: wireIdSchema,
  revision: z.int().min(0).meta({ description: "The message's revision after this change: apply it only if it is higher than the one you hold." }),
  reactions: z.array(reactionSchema).meta({ description: "All of the message's reactions after this change." }),
});

export const messageReactionEventSchema = reactionResultSchema.extend({
  userId: wireIdSchema.meta({ description: 'Who added or removed the emoji.' }),
  emoji: z.string(),
  action: z.enum(['add', 'remove']),
});

export const messageReadResultSchema = z.object({ readAt: timestampSchema });
export const messageDeliveredResultSchema = z.object({ deliveredAt: timestampSchema });
/** MESSAGE_DELETE's ack: the tombstone for `everyone`, nothing for `me`. */
export const messageDeleteResultSchema = z.object({ message: messageSchema.optional() });

/** A message the caller hid for themself (from another device). */
export const hiddenMessageSchema = z.object({ conversationId: wireIdSchema, messageId: wireIdSchema, hiddenAt: timestampSchema });

export const historyResponseSchema = z.object({ messages: z.array(messageSchema).meta({ description: 'Newest first.' }), nextCursor: nextCursorSchema });

export type ReplyPreviewDto = z.infer<typeof replyPreviewSchema>;
export type ReactionDto = z.infer<typeof reactionSchema>;
export type MessageDto = z.infer<typeof messageSchema>;
export type ChatMessageEvent = z.infer<typeof chatMessageEventSchema>;
export type TypingEvent = z.infer<typeof typingEventSchema>;
export type MessageReadEvent = z.infer<typeof messageReadEventSchema>;
export type MessageDeliveredEvent = z.infer<typeof messageDeliveredEventSchema>;
export type MessageEditEvent = z.infer<typeof messageEditEventSchema>;
export type MessageDeleteEvent = z.infer<typeof messageDeleteEventSchema>;
export type MessageReactionEvent = z.infer<typeof messageReactionEventSchema>;
export type ReactionResult = z.infer<typeof reactionResultSchema>;
export type HiddenMessageDto = z.infer<typeof hiddenMessageSchema>;
export type HistoryResponse = z.infer<typeof historyResponseSchema>;
// Declared with the conversations, whose schemas embed messages.
export type { ConversationsResponse, SyncResponse } from './conversations.js';
