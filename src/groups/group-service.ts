import type { AuditLog } from '../audit/audit-log.js';
import type { ConversationChange, CreateGroupBody } from '../protocol/conversations.js';
import { presentSharedConversation } from '../chat/conversation-presenter.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { ClientContext } from '../shared/client-context.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { BlocksRepository, ConversationsRepository, MemberRole, UsersRepository } from '../storage/ports.js';
import type { MemberAddPolicy } from './member-add-policy.js';

export interface GroupServiceDeps {
  conversations: ConversationsRepository;
  users: UsersRepository;
  blocks: Pick<BlocksRepository, 'blockersAmong'>;
  delivery: Delivery;
  events: DomainEvents;
  audit: AuditLog;
  policy: MemberAddPolicy;
  /** Members a group may have, its owner included. */
  maxMembers: number;
  /** Groups one user may create, and users one user may add (creation included), per window. */
  creations: RateLimit;
  additions: RateLimit;
  now?: () => Date;
}

const noSuchGroup = () => new AppError('NOT_FOUND', 'No such group');

/**
 * Groups: created by an owner, managed by the owner and admins, left by anyone. Every change is stored
 * first, then the devices of whoever it concerns join or leave the group's room, then every member hears
 * of it in one CONVERSATION_UPDATED (a removed member once more, on their own devices).
 */
export class GroupService {
  private readonly now: () => Date;

  constructor(private readonly deps: GroupServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Creates a group with the creator as owner; returns its id. */
  async create(ownerId: string, input: CreateGroupBody): Promise<string> {
    const memberIds = [...new Set(input.memberIds)].filter((id) => id !== ownerId);
    if (memberIds.length + 1 > this.deps.maxMembers) {
      throw new AppError('VALIDATION_FAILED', `A group has at most ${this.deps.maxMembers} members`, {
        details: [{ path: 'body.memberIds', message: `at most ${this.deps.maxMembers - 1} users besides you` }],
      });
    }
    await this.deps.creations.consume(ownerId);
    await this.checkAddable(ownerId, memberIds, 'body.memberIds');
    const id = newId();
    await this.deps.conversations.createGroup({ id, title: input.title, ownerId, memberIds, createdAt: this.now() });
    this.joined(id, [ownerId, ...memberIds]);
    await this.announce(id, { type: 'created' });
    return id;
  }

  async rename(actorId: string, groupId: string, title: string): Promise<void> {
    await this.requireRole(actorId, groupId, ['owner', 'admin']);
    if (!(await this.deps.conversations.setTitle(groupId, title))) throw noSuchGroup();
    await this.announce(groupId, { type: 'titleChanged' });
  }

  async addMembers(actorId: string, groupId: string, userIds: readonly string[]): Promise<void> {
    await this.requireRole(actorId, groupId, ['owner', 'admin']);
    const candidates = [...new Set(userIds)].filter((id) => id !== actorId);
    await this.checkAddable(actorId, candidates, 'body.userIds');
    const result = await this.deps.conversations.addMembers(groupId, candidates, this.now(), this.deps.maxMembers);
    if (result.outcome === 'notFound') throw noSuchGroup();
    if (result.outcome === 'full') {
      throw new AppError('VALIDATION_FAILED', `A group has at most ${this.deps.maxMembers} members; this one has ${result.memberCount}`, {
        details: [{ path: 'body.userIds', message: `at most ${this.deps.maxMembers - result.memberCount} more users` }],
      });
    }
    if (result.userIds.length === 0) return;
    this.joined(groupId, result.userIds);
    await this.announce(groupId, { type: 'membersAdded', userIds: result.userIds });
  }

  /**
   * Removes `userId` from the group: a member leaving, or the owner or an admin removing someone (an
   * admin only members). The removed user's devices stop receiving the group's events at once.
   */
  async removeMember(actorId: string, groupId: string, userId: string, client: ClientContext): Promise<void> {
    const actorRole = await this.requireRole(actorId, groupId, ['owner', 'admin', 'member']);
    if (userId !== actorId) {
      if (actorRole === 'member') throw new AppError('FORBIDDEN', 'Only the owner and admins remove members');
      const target = await this.deps.conversations.membership(groupId, userId);
      if (!target) throw new AppError('NOT_FOUND', 'No such member');
      if (actorRole === 'admin' && target.role !== 'member') throw new AppError('FORBIDDEN', 'Only the owner removes admins');
    }
    const result = await this.deps.conversations.removeMember(groupId, userId, this.now());
    if (!result.removed) throw new AppError('NOT_FOUND', 'No such member');
    const change: ConversationChange = { type: 'membersRemoved', userIds: [userId], ...(result.newOwnerId ? { newOwnerId: result.newOwnerId } : {}) };
    const event = await this.updatedEvent(groupId, change);
    const { delivery, events } = this.deps;
    // The removed user's devices hear it once, on their own room, before they leave the group's.
    delivery.toUsers([userId], 'CONVERSATION_UPDATED', event);
    delivery.leaveConversation([userId], groupId);
    events.emit('groupMembersChanged', { conversationId: groupId, joinedIds: [], leftIds: [userId] });
    delivery.toConversation(groupId, 'CONVERSATION_UPDATED', event);
    if (result.newOwnerId) {
      await this.deps.audit.record('group.owner_changed', {
        actorId,
        targetUserId: result.newOwnerId,
        client,
        details: { conversationId: groupId, previousOwnerId: userId },
      });
    }
  }

  /** Stored members' devices join the group's room. */
  private joined(groupId: string, userIds: string[]): void {
    this.deps.delivery.joinConversation(userIds, groupId);
    this.deps.events.emit('groupMembersChanged', { conversationId: groupId, joinedIds: userIds, leftIds: [] });
  }

  /** The owner makes a member an admin or an admin a member; ownership passes only when the owner leaves. */
  async setRole(actorId: string, groupId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    await this.requireRole(actorId, groupId, ['owner']);
    if (userId === actorId) throw new AppError('VALIDATION_FAILED', 'The owner keeps their role until they leave the group');
    if (!(await this.deps.conversations.setRole(groupId, userId, role))) throw new AppError('NOT_FOUND', 'No such member');
    await this.announce(groupId, { type: 'roleChanged', userId, role });
  }

  /** The actor's role in the group: NOT_FOUND when not a member (or not a group), FORBIDDEN when not one of `allowed`. */
  private async requireRole(actorId: string, groupId: string, allowed: readonly MemberRole[]): Promise<MemberRole> {
    const membership = await this.deps.conversations.membership(groupId, actorId);
    if (!membership || membership.type !== 'group') throw noSuchGroup();
    if (!allowed.includes(membership.role)) {
      throw new AppError('FORBIDDEN', allowed.length === 1 ? 'Only the owner may do this' : 'Only the owner and admins may do this');
    }
    return membership.role;
  }

  /**
   * Users may be added when they have an active account, do not block the adder (to whom they then do
   * not exist: the same NOT_FOUND as an unknown user), and the add policy lets the adder add them.
   */
  private async checkAddable(adderId: string, userIds: readonly string[], field: 'body.memberIds' | 'body.userIds'): Promise<void> {
    if (userIds.length === 0) return;
    await this.deps.additions.consume(adderId, userIds.length);
    const [people, blockers] = await Promise.all([this.deps.users.findPeople(userIds), this.deps.blocks.blockersAmong(adderId, userIds)]);
    const reachable = new Set(people.map((person) => person.id));
    for (const blocker of blockers) reachable.delete(blocker);
    const unknown = userIds.filter((id) => !reachable.has(id));
    if (unknown.length > 0) {
      throw new AppError('NOT_FOUND', 'No such user', { details: unknown.map((id) => ({ path: field, message: `no such user: ${id}` })) });
    }
    const refused = await this.deps.policy.refused(adderId, userIds);
    if (refused.length > 0) {
      throw new AppError('FORBIDDEN', 'These users join only groups of people they have written to', {
        details: refused.map((id) => ({ path: field, message: `may not be added by you: ${id}` })),
      });
    }
  }

  private async updatedEvent(groupId: string, change: ConversationChange) {
    const conversation = await this.deps.conversations.find(groupId);
    if (!conversation) throw new Error(`group ${groupId} vanished after a change`);
    return { conversation: presentSharedConversation(conversation), change };
  }

  private async announce(groupId: string, change: ConversationChange): Promise<void> {
    this.deps.delivery.toConversation(groupId, 'CONVERSATION_UPDATED', await this.updatedEvent(groupId, change));
  }
}
