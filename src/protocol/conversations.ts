import { z } from 'zod';
import { hiddenMessageSchema, messageSchema } from './chat.js';
import { idSchema, nextCursorSchema, pageLimitSchema, pageQuerySchema, textSchema, timestampSchema, wireIdSchema } from './common.js';
import { personSchema } from './people.js';

/** Users one request may add to an existing group. */
export const MAX_MEMBERS_PER_REQUEST = 100;
/**
 * Users a group may be created with: the member limit (GROUP_MAX_MEMBERS) decides; this only bounds
 * the request, and is about what a 100 KiB body holds.
 */
const MAX_MEMBERS_AT_CREATION = 2000;
/** Members embedded in a conversation (in lists and events); the members endpoint pages through all. */
export const EMBEDDED_MEMBERS = 100;

const groupTitle = textSchema.trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const userIds = z
  .array(idSchema)
  .min(1, 'must name at least one user')
  .max(MAX_MEMBERS_PER_REQUEST, `at most ${MAX_MEMBERS_PER_REQUEST} users per request`);

export const createGroupBody = z.object({
  title: groupTitle,
  memberIds: z.array(idSchema).max(MAX_MEMBERS_AT_CREATION, `at most ${MAX_MEMBERS_AT_CREATION} users`),
});

export const renameGroupBody = z.object({ title: groupTitle });

export const addMembersBody = z.object({ userIds });

export const changeRoleBody = z.object({ role: z.enum(['admin', 'member']) });

export const conversationParams = z.object({ id: idSchema });

export const memberParams = z.object({ id: idSchema, userId: idSchema });

export const conversationMessagesQuery = pageQuerySchema;

/** Members by join time; `after` is the last member's userId from the previous page. */
export const membersQuery = z.object({ after: idSchema.optional(), limit: pageLimitSchema });

export type CreateGroupBody = z.output<typeof createGroupBody>;

export const CONVERSATION_TYPES = ['direct', 'group'] as const;
export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const;

export const memberSchema = z.object({
  userId: wireIdSchema,
  name: z.string(),
  role: z.enum(MEMBER_ROLES),
  joinedAt: timestampSchema,
  lastReadMessageId: wireIdSchema.nullable().meta({ description: 'How far this member has read; null before they read anything.' }),
});

/** A conversation as every member sees it: events leave out what differs per member (unreadCount, peer). */
export const sharedConversationSchema = z.object({
  id: wireIdSchema,
  type: z.enum(CONVERSATION_TYPES),
  title: z.string().nullable().meta({ description: "A group's title; null for a direct conversation." }),
  members: z.array(memberSchema).meta({ description: `The first ${EMBEDDED_MEMBERS} members by join time; page through all with the members endpoint.` }),
  memberCount: z.int().min(0),
  createdAt: timestampSchema,
  lastMessage: messageSchema.nullable(),
});

export const conversationSchema = sharedConversationSchema.extend({
  unreadCount: z.int().min(0).meta({ description: "Messages from others after the caller's read position." }),
  peer: personSchema.optional().meta({ description: 'In a direct conversation: the other member.' }),
});

export const conversationChangeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('created') }),
  z.object({ type: z.literal('titleChanged') }),
  z.object({ type: z.literal('membersAdded'), userIds: z.array(wireIdSchema) }),
  z.object({
    type: z.literal('membersRemoved'),
    userIds: z.array(wireIdSchema),
    newOwnerId: wireIdSchema.optional().meta({ description: 'When the owner left and ownership passed on.' }),
  }),
  z.object({ type: z.literal('roleChanged'), userId: wireIdSchema, role: z.enum(MEMBER_ROLES) }),
]);

export const conversationUpdatedEventSchema = z.object({ conversation: sharedConversationSchema, change: conversationChangeSchema });

export const conversationResponseSchema = z.object({ conversation: conversationSchema });

export const membersResponseSchema = z.object({ members: z.array(memberSchema), nextCursor: nextCursorSchema });

export const readPositionSchema = z.object({ conversationId: wireIdSchema, userId: wireIdSchema, lastReadMessageId: wireIdSchema, readAt: timestampSchema });

export const leftConversationSchema = z.object({ conversationId: wireIdSchema, leftAt: timestampSchema });

export const conversationsResponseSchema = z.object({
  conversations: z.array(conversationSchema).meta({ description: 'Newest activity first.' }),
  nextCursor: nextCursorSchema,
});

/**
 * What changed in the caller's conversations after a cursor, each thing once and in its latest state.
 * A client applies all five lists (upserting by id) and keeps `cursor` for the next sync.
 */
export const syncResponseSchema = z.object({
  messages: z.array(messageSchema).meta({ description: 'New messages, and messages whose receipts, content (edits, deletes) or reactions changed.' }),
  conversations: z.array(conversationSchema).meta({ description: 'Conversations that were created, renamed or whose members or roles changed.' }),
  reads: z.array(readPositionSchema).meta({ description: "Members' read positions that moved." }),
  left: z.array(leftConversationSchema).meta({ description: 'Conversations the caller was removed from or left: drop them and their messages.' }),
  hidden: z.array(hiddenMessageSchema).meta({ description: 'Messages the caller hid for themself: drop them.' }),
  cursor: z.string().meta({ description: 'Where this page ends: pass it as `after` next time.' }),
  hasMore: z.boolean(),
});

export type ConversationType = (typeof CONVERSATION_TYPES)[number];
export type MemberRole = (typeof MEMBER_ROLES)[number];
export type MemberDto = z.infer<typeof memberSchema>;
export type SharedConversationDto = z.infer<typeof sharedConversationSchema>;
export type ConversationDto = z.infer<typeof conversationSchema>;
export type ConversationChange = z.infer<typeof conversationChangeSchema>;
export type ConversationUpdatedEvent = z.infer<typeof conversationUpdatedEventSchema>;
export type ConversationResponse = z.infer<typeof conversationResponseSchema>;
export type MembersResponse = z.infer<typeof membersResponseSchema>;
export type ReadPositionDto = z.infer<typeof readPositionSchema>;
export type LeftConversationDto = z.infer<typeof leftConversationSchema>;
export type ConversationsResponse = z.infer<typeof conversationsResponseSchema>;
export type SyncResponse = z.infer<typeof syncResponseSchema>;
