import { z } from 'zod';
import type { MessageDto } from './chat.js';
import { idSchema, pageLimitSchema, pageQuerySchema, textSchema, type Timestamp } from './common.js';
import type { PersonDto } from './people.js';

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

export type ConversationType = 'direct' | 'group';
export type MemberRole = 'owner' | 'admin' | 'member';

export interface MemberDto {
  userId: string;
  name: string;
  role: MemberRole;
  joinedAt: Timestamp;
  /** How far this member has read; null before they read anything. */
  lastReadMessageId: string | null;
}

export interface ConversationDto {
  id: string;
  type: ConversationType;
  /** A group's title; null for a direct conversation. */
  title: string | null;
  /** The first EMBEDDED_MEMBERS members by join time; page through all with the members endpoint. */
  members: MemberDto[];
  memberCount: number;
  createdAt: Timestamp;
  lastMessage: MessageDto | null;
  /** Messages from others after the caller's read position. */
  unreadCount: number;
  /** In a direct conversation: the other member. */
  peer?: PersonDto;
}

/** A conversation as every member sees it: events leave out what differs per member (unreadCount). */
export type SharedConversationDto = Omit<ConversationDto, 'unreadCount' | 'peer'>;

export type ConversationChange =
  | { type: 'created' }
  | { type: 'titleChanged' }
  | { type: 'membersAdded'; userIds: string[] }
  /** `newOwnerId` when the owner left and ownership passed on. */
  | { type: 'membersRemoved'; userIds: string[]; newOwnerId?: string }
  | { type: 'roleChanged'; userId: string; role: MemberRole };

export interface ConversationUpdatedEvent {
  conversation: SharedConversationDto;
  change: ConversationChange;
}

export interface ConversationResponse {
  conversation: ConversationDto;
}

export interface MembersResponse {
  members: MemberDto[];
  nextCursor: string | null;
}

export interface ReadPositionDto {
  conversationId: string;
  userId: string;
  lastReadMessageId: string;
  readAt: Timestamp;
}

export interface LeftConversationDto {
  conversationId: string;
  leftAt: Timestamp;
}
