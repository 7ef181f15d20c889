import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { newId } from '../../src/shared/ids.js';
import type { MemberRecord, MemberRole, MessageRecord, NewMessage, UserRecord } from '../../src/storage/ports.js';
import { storedAs } from '../support/chat.js';
import type { ContractContext } from './storage-contract.js';


/** Conversations and messages for the chat sections: users, direct conversations, groups, sends. */
export function chatFixtures(ctx: ContractContext) {
  /** New users, each with a name of their own. */
  const users = (count: number): Promise<UserRecord[]> =>
    Promise.all(Array.from({ length: count }, () => ctx.createUser({ name: `User ${randomUUID().slice(0, 8)}` })));
  const newMessage = (conversationId: string, senderId: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
    id: newId(),
    conversationId,
    senderId,
    text: `text ${randomUUID()}`,
    clientMessageId: randomUUID(),
    createdAt: new Date(),
    ...overrides,
  });
  /** Stores a message that must be new (to `recipientId` in a direct conversation), and returns it. */
  const send = async (conversationId: string, senderId: string, recipientId: string | null = null, overrides: Partial<NewMessage> = {}): Promise<MessageRecord> => {
    const { replyToId, ...message } = newMessage(conversationId, senderId, overrides);
    const result = await ctx.storage.messages.create({ ...message, replyToId });
    assert.ok(result.outcome === 'stored', `not stored: ${JSON.stringify(result)}`);
    const { replyTo, ...stored } = result.message;
    assert.equal(replyTo?.id ?? null, replyToId ?? null, 'the reply it answers');
    const { replyTo: _expected, ...expected } = storedAs(message, recipientId);
    assert.deepEqual({ ...result, message: stored }, { outcome: 'stored', created: true, message: expected });
    return result.message;
  };
  return {
    users,
    /** A member as the port shows them. */
    member: (user: UserRecord, role: MemberRole, joinedAt: Date, read: { id: string; at: Date } | null = null): MemberRecord => ({
      userId: user.id,
      name: user.name,
      role,
      joinedAt,
      lastReadMessageId: read?.id ?? null,
      lastReadAt: read?.at ?? null,
    }),
    /** Members in the port's order: by join time, then user id. */
    byJoin: (members: MemberRecord[]) =>
      [...members].sort((x, y) => x.joinedAt.getTime() - y.joinedAt.getTime() || (x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : 0)),
    newMessage,
    send,
    /** Two new users and their direct conversation. */
    async direct() {
      const [a, b] = (await users(2)) as [UserRecord, UserRecord];
      return { a, b, id: await ctx.storage.conversations.ensureDirect(a.id, b.id, new Date()) };
    },
    /** A new group of `owner` and `members`. */
    async group(owner: UserRecord, members: readonly UserRecord[], createdAt = new Date()) {
      const id = newId();
      await ctx.storage.conversations.createGroup({ id, title: `group ${randomUUID()}`, ownerId: owner.id, memberIds: members.map((m) => m.id), createdAt });
      return id;
    },
  };
}
