import type { ConversationDto, MemberDto, SharedConversationDto } from '../protocol/conversations.js';
import type { PersonDto } from '../protocol/people.js';
import type { ConversationRecord, MemberConversationRecord, MemberRecord } from '../storage/ports.js';
import { presentMessage } from './message-presenter.js';

export function presentMember(member: MemberRecord): MemberDto {
  return {
    userId: member.userId,
    name: member.name,
    role: member.role,
    joinedAt: member.joinedAt.toISOString(),
    lastReadMessageId: member.lastReadMessageId,
  };
}

export function presentSharedConversation(conversation: ConversationRecord): SharedConversationDto {
  return {
    id: conversation.id,
    type: conversation.type,
    title: conversation.title,
    members: conversation.members.map(presentMember),
    memberCount: conversation.memberCount,
    createdAt: conversation.createdAt.toISOString(),
    lastMessage: conversation.lastMessage ? presentMessage(conversation.lastMessage) : null,
  };
}

/** A conversation as one member sees it; a direct one with its other member as `peer`. */
export function presentConversation(conversation: MemberConversationRecord, peer: PersonDto | undefined): ConversationDto {
  return {
    ...presentSharedConversation(conversation),
    unreadCount: conversation.unreadCount,
    ...(peer ? { peer } : {}),
  };
}
