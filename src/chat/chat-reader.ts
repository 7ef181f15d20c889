import type { ConversationsResponse, HistoryResponse, SyncResponse } from '../protocol/chat.js';
import type { ConversationDto, MembersResponse } from '../protocol/conversations.js';
import { AppError } from '../shared/app-error.js';
import { paginate } from '../shared/pagination.js';
import type { ChatChangesRepository, ConversationsRepository, MemberConversationRecord, MessagesRepository, UsersRepository } from '../storage/ports.js';
import type { PeopleService } from '../users/people-service.js';
import { presentConversation, presentMember } from './conversation-presenter.js';
import { presentMessage } from './message-presenter.js';

export interface ChatReaderDeps {
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  chatChanges: ChatChangesRepository;
  users: UsersRepository;
  people: PeopleService;
}

type Page = { before?: string | undefined; limit: number };

const noSuchConversation = () => new AppError('NOT_FOUND', 'No such conversation');

/** What a user may read of their conversations: lists, history, members and the changes since a sync. */
export class ChatReader {
  constructor(private readonly deps: ChatReaderDeps) {}

  /** Messages between the caller and `peerId`, newest first. */
  async history(userId: string, peerId: string, page: Page): Promise<HistoryResponse> {
    if (!(await this.deps.users.findById(peerId))) throw new AppError('NOT_FOUND', 'No such user');
    const conversationId = await this.deps.conversations.findDirect(userId, peerId);
    return conversationId ? this.messagePage(userId, conversationId, page) : { messages: [], nextCursor: null };
  }

  /** A conversation's messages, newest first, for its current members only. */
  async conversationMessages(userId: string, conversationId: string, page: Page): Promise<HistoryResponse> {
    if (!(await this.deps.conversations.membership(conversationId, userId))) throw noSuchConversation();
    return this.messagePage(userId, conversationId, page);
  }

  /** The caller's direct and group conversations, the latest activity first. */
  async conversations(userId: string, page: Page): Promise<ConversationsResponse> {
    const rows = await this.deps.conversations.listForMember(userId, { before: page.before, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (conversation) => conversation.lastMessage?.id ?? conversation.id);
    return { conversations: await this.present(userId, items), nextCursor };
  }

  async conversation(userId: string, conversationId: string): Promise<ConversationDto> {
    const record = await this.deps.conversations.findForMember(conversationId, userId);
    if (!record) throw noSuchConversation();
    const [conversation] = await this.present(userId, [record]);
    return conversation!;
  }

  async members(userId: string, conversationId: string, page: { after?: string | undefined; limit: number }): Promise<MembersResponse> {
    if (!(await this.deps.conversations.membership(conversationId, userId))) throw noSuchConversation();
    const rows = await this.deps.conversations.members(conversationId, { after: page.after, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (member) => member.userId);
    return { members: items.map(presentMember), nextCursor };
  }

  /**
   * What changed in the caller's conversations after the cursor `after`, oldest first. Without `after`,
   * nothing but the current cursor: where a new device starts.
   */
  async sync(userId: string, after: string | undefined, limit: number): Promise<SyncResponse> {
    const { chatChanges } = this.deps;
    if (after === undefined) return { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor: await chatChanges.head(), hasMore: false };
    const changes = await chatChanges.after(userId, after, limit);
    if (!changes) {
      throw new AppError('VALIDATION_FAILED', 'The request is not valid', {
        details: [{ path: 'query.after', message: 'must be a cursor from an earlier sync: sync without after to start again' }],
      });
    }
    return {
      messages: changes.messages.map(presentMessage),
      conversations: await this.present(userId, changes.conversations),
      reads: changes.reads.map((read) => ({ ...read, readAt: read.readAt.toISOString() })),
      left: changes.left.map((left) => ({ conversationId: left.conversationId, leftAt: left.leftAt.toISOString() })),
      hidden: changes.hidden.map((hidden) => ({ conversationId: hidden.conversationId, messageId: hidden.messageId, hiddenAt: hidden.hiddenAt.toISOString() })),
      cursor: changes.cursor,
      hasMore: changes.hasMore,
    };
  }

  /** The messages as `viewerId` sees them: without those they hid. */
  private async messagePage(viewerId: string, conversationId: string, page: Page): Promise<HistoryResponse> {
    const rows = await this.deps.messages.history(conversationId, { before: page.before, limit: page.limit + 1, hiddenFor: viewerId });
    const { items, nextCursor } = paginate(rows, page.limit, (message) => message.id);
    return { messages: items.map(presentMessage), nextCursor };
  }

  /**
   * Direct conversations show their other member as the caller may see them (presence for contacts
   * only); one whose account is no longer active keeps their name, with no presence.
   */
  private async present(userId: string, records: readonly MemberConversationRecord[]): Promise<ConversationDto[]> {
    const peerIds = records.flatMap((record) => (record.peerId ? [record.peerId] : []));
    const active = await this.deps.people.describe(userId, await this.deps.users.findPeople(peerIds));
    const peers = new Map(active.map((peer) => [peer.id, peer]));
    return records.map((record) => {
      if (!record.peerId) return presentConversation(record, undefined);
      const name = record.members.find((member) => member.userId === record.peerId)?.name ?? '';
      return presentConversation(record, peers.get(record.peerId) ?? { id: record.peerId, name, online: null, lastSeenAt: null });
    });
  }
}
