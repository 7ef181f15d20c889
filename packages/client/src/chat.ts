import type { Api } from './api.js';
import type { AuthSession } from './auth.js';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError, isRetryable } from './errors.js';
import { newClientMessageId } from './ids.js';
import type {
  ConversationDto,
  ConversationResponse,
  ConversationsResponse,
  ConversationUpdatedEvent,
  HistoryResponse,
  MemberDto,
  MemberRole,
  MembersResponse,
  MessageDto,
  MessageReadEvent,
  PeopleSearchResponse,
  PersonDto,
  SyncResponse,
} from './protocol.js';
import type { Realtime } from './realtime.js';
import type { ChatStore } from './store.js';

/** A direct conversation by the other user's id, or any conversation by its id. */
export type ChatTarget = { to: string } | { conversationId: string };

/** A message on its way: shown at once, replaced by the stored message when the ack comes. */
export interface PendingMessage {
  clientMessageId: string;
  target: ChatTarget;
  text: string;
  status: 'sending' | 'failed';
  error?: Error;
  createdAt: string;
}

type ChatEvents = {
  /** Something in the store changed: a conversation (its id) or the list (null). */
  change: (conversationId: string | null) => void;
  /** A new message from someone else arrived (live). */
  message: (message: MessageDto) => void;
  /** Who is typing in a conversation now. */
  typing: (conversationId: string, userIds: string[]) => void;
  pending: (pending: PendingMessage[]) => void;
};

export interface ChatOptions {
  /** Attempts for a send that got no answer or a retryable refusal, the first included. */
  sendAttempts?: number;
  backoff?: BackoffOptions;
}

/** A typing indicator nobody renewed disappears after this long. */
const TYPING_EXPIRES_MS = 5000;
/** CHAT_TYPING goes out at most this often while the user types; CHAT_STOP_TYPING after this long idle. */
const TYPING_RESEND_MS = 3000;

/**
 * Chat over the realtime connection and REST, kept in a ChatStore: sending with client message ids
 * (retried safely: the server stores a retry once), receipts, typing, groups, people, and catching up
 * after every (re)connection with the sync endpoint and its cursor.
 */
export class Chat extends Emitter<ChatEvents> {
  private readonly pendingSends = new Map<string, PendingMessage>();
  private readonly typers = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  private readonly ownTyping = new Map<string, { sentAt: number; stop: ReturnType<typeof setTimeout> }>();
  private syncing: Promise<void> | undefined;
  private readonly sendAttempts: number;
  private readonly backoff: BackoffOptions;

  constructor(
    private readonly api: Api,
    private readonly realtime: Realtime,
    private readonly auth: AuthSession,
    readonly store: ChatStore,
    options: ChatOptions = {},
  ) {
    super();
    this.sendAttempts = options.sendAttempts ?? 5;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.listen();
  }

  private get me(): string {
    return this.auth.user?.id ?? '';
  }

  // ---- conversations and messages ------------------------------------------------------------------

  conversations(): Promise<ConversationDto[]> {
    return this.store.listConversations();
  }

  messages(conversationId: string): Promise<MessageDto[]> {
    return this.store.listMessages(conversationId);
  }

  /** The direct conversation with a user, if there is one yet (it starts with the first message). */
  async directWith(userId: string): Promise<ConversationDto | undefined> {
    return (await this.store.listConversations()).find((c) => c.type === 'direct' && (c.peer?.id === userId || c.members.some((m) => m.userId === userId)));
  }

  /** Loads the first page of the conversation list from the server (counts included) into the store. */
  async loadConversations(): Promise<ConversationDto[]> {
    const { conversations } = await this.api.get<ConversationsResponse>('/api/chat/conversations', { limit: 100 });
    await this.store.upsertConversations(conversations);
    this.emit('change', null);
    return conversations;
  }

  /** Loads a page of older messages; resolves with the cursor of the next page (null: none). */
  async loadHistory(conversationId: string, before?: string): Promise<string | null> {
    const page = await this.api.get<HistoryResponse>(`/api/chat/conversations/${encodeURIComponent(conversationId)}/messages`, { before, limit: 50 });
    await this.applyMessages(page.messages);
    this.emit('change', conversationId);
    return page.nextCursor;
  }

  /** Messages not yet acknowledged by the server, and those that failed. */
  pending(conversationId?: string): PendingMessage[] {
    return [...this.pendingSends.values()].filter((p) => conversationId === undefined || ('conversationId' in p.target && p.target.conversationId === conversationId));
  }

  /**
   * Sends a text message. Without an answer (offline, a timeout) or with a retryable refusal it is sent
   * again with the same client message id, so it is stored once; a non-retryable refusal
   * (VALIDATION_FAILED, NOT_FOUND, FORBIDDEN...) rejects at once and leaves it `failed`.
   */
  async send(target: ChatTarget, text: string, options: { clientMessageId?: string; replyTo?: string } = {}): Promise<MessageDto> {
    const clientMessageId = options.clientMessageId ?? newClientMessageId();
    const pending: PendingMessage = { clientMessageId, target, text, status: 'sending', createdAt: new Date().toISOString() };
    this.pendingSends.set(clientMessageId, pending);
    this.emitPending();
    this.stopTyping(target);
    const payload = { ...target, text, clientMessageId, ...(options.replyTo ? { replyTo: options.replyTo } : {}) };
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.realtime.whenConnected();
        const { message } = await this.realtime.request('CHAT_MESSAGE', payload);
        this.pendingSends.delete(clientMessageId);
        this.emitPending();
        await this.applyMessages([message], { live: true });
        return message;
      } catch (error) {
        if (!isRetryable(error) || attempt + 1 >= this.sendAttempts) {
          this.pendingSends.set(clientMessageId, { ...pending, status: 'failed', error: error as Error });
          this.emitPending();
          throw error;
        }
        const retryAfterMs = error instanceof ApiError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : 0;
        await sleep(Math.max(retryAfterMs, backoffDelay(attempt, this.backoff)));
      }
    }
  }

  /** Sends a failed message again, with its client message id. */
  retry(clientMessageId: string): Promise<MessageDto> {
    const pending = this.pendingSends.get(clientMessageId);
    if (!pending) return Promise.reject(new Error(`No pending message ${clientMessageId}`));
    return this.send(pending.target, pending.text, { clientMessageId });
  }

  /** Gives up on a failed message. */
  discard(clientMessageId: string): void {
    if (this.pendingSends.delete(clientMessageId)) this.emitPending();
  }

  /** Marks everything shown in a conversation read (sends MESSAGE_READ for its newest message from someone else). */
  async markRead(conversationId: string): Promise<void> {
    const conversation = await this.store.getConversation(conversationId);
    const messages = await this.store.listMessages(conversationId);
    const newest = [...messages].reverse().find((m) => m.from !== this.me);
    if (!newest) return;
    const position = conversation?.members.find((m) => m.userId === this.me)?.lastReadMessageId ?? null;
    if (position !== null && position >= newest.id && !conversation?.unreadCount) return;
    await this.realtime.request('MESSAGE_READ', { messageId: newest.id });
    await this.readPositionMoved({ conversationId, readerId: this.me, messageId: newest.id, readAt: new Date().toISOString() });
  }

  /** Members who have read a message (groups: by read position; direct: the recipient once `readAt` is set). */
  readBy(conversation: ConversationDto, message: MessageDto): MemberDto[] {
    return conversation.members.filter(
      (member) =>
        member.userId !== message.from &&
        (message.readAt !== null || (member.lastReadMessageId !== null && member.lastReadMessageId >= message.id)),
    );
  }

  // ---- typing -----------------------------------------------------------------------------------------

  /** Call on every keystroke: CHAT_TYPING goes out at most every few seconds, CHAT_STOP_TYPING when the user pauses. */
  typing(target: ChatTarget): void {
    const key = targetKey(target);
    const own = this.ownTyping.get(key);
    const now = Date.now();
    if (own) clearTimeout(own.stop);
    if (!own || now - own.sentAt >= TYPING_RESEND_MS) this.realtime.send('CHAT_TYPING', target);
    this.ownTyping.set(key, { sentAt: own && now - own.sentAt < TYPING_RESEND_MS ? own.sentAt : now, stop: setTimeout(() => this.stopTyping(target), TYPING_RESEND_MS) });
  }

  stopTyping(target: ChatTarget): void {
    const key = targetKey(target);
    const own = this.ownTyping.get(key);
    if (!own) return;
    clearTimeout(own.stop);
    this.ownTyping.delete(key);
    this.realtime.send('CHAT_STOP_TYPING', target);
  }

  /** Who is typing in a conversation now (user ids). */
  typingIn(conversationId: string): string[] {
    return [...(this.typers.get(conversationId)?.keys() ?? [])];
  }

  // ---- groups and people --------------------------------------------------------------------------------

  async createGroup(title: string, memberIds: string[]): Promise<ConversationDto> {
    return this.keep(await this.api.post<ConversationResponse>('/api/chat/groups', { title, memberIds }));
  }

  async renameGroup(conversationId: string, title: string): Promise<ConversationDto> {
    return this.keep(await this.api.patch<ConversationResponse>(`/api/chat/groups/${conversationId}`, { title }));
  }

  async addMembers(conversationId: string, userIds: string[]): Promise<ConversationDto> {
    return this.keep(await this.api.post<ConversationResponse>(`/api/chat/groups/${conversationId}/members`, { userIds }));
  }

  async setRole(conversationId: string, userId: string, role: Exclude<MemberRole, 'owner'>): Promise<ConversationDto> {
    return this.keep(await this.api.patch<ConversationResponse>(`/api/chat/groups/${conversationId}/members/${userId}`, { role }));
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    const answer = await this.api.delete<ConversationResponse | undefined>(`/api/chat/groups/${conversationId}/members/${userId}`);
    if (answer?.conversation) await this.keep(answer);
    else await this.dropConversation(conversationId);
  }

  leaveGroup(conversationId: string): Promise<void> {
    return this.removeMember(conversationId, this.me);
  }

  /** Every member of a conversation, paging through them. */
  async members(conversationId: string): Promise<MemberDto[]> {
    const all: MemberDto[] = [];
    let after: string | undefined;
    do {
      const page = await this.api.get<MembersResponse>(`/api/chat/conversations/${conversationId}/members`, { after, limit: 100 });
      all.push(...page.members);
      after = page.nextCursor ?? undefined;
    } while (after);
    return all;
  }

  async searchPeople(query: string): Promise<PersonDto[]> {
    return (await this.api.get<PeopleSearchResponse>('/api/users', { query, limit: 20 })).users;
  }

  // ---- staying in sync ----------------------------------------------------------------------------------

  /**
   * Catches up from the stored cursor until nothing more is waiting, then reloads the conversation list
   * (unread counts). Runs after every (re)connection; concurrent calls share one run.
   */
  sync(): Promise<void> {
    this.syncing ??= this.runSync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async runSync(): Promise<void> {
    let cursor = await this.store.getCursor();
    for (;;) {
      let page: SyncResponse;
      try {
        page = await this.api.get<SyncResponse>('/api/chat/sync', { after: cursor ?? undefined, limit: 100 });
      } catch (error) {
        // A cursor the server no longer takes: start again from now (the list and history reload).
        if (cursor !== null && error instanceof ApiError && error.code === 'VALIDATION_FAILED') {
          cursor = null;
          continue;
        }
        throw error;
      }
      await this.store.upsertConversations(page.conversations);
      await this.applyMessages(page.messages);
      for (const read of page.reads) await this.readPositionMoved({ ...read, messageId: read.lastReadMessageId, readerId: read.userId });
      for (const left of page.left) await this.dropConversation(left.conversationId);
      for (const hidden of page.hidden) await this.store.removeMessage(hidden.messageId);
      cursor = page.cursor;
      await this.store.setCursor(cursor);
      if (!page.hasMore) break;
    }
    await this.loadConversations();
  }

  // ---- live events -----------------------------------------------------------------------------------------

  private listen(): void {
    const socket = this.realtime.socket;
    this.realtime.on('connected', () => {
      void this.sync().catch(() => undefined);
      // A pending send waiting for the connection goes out by itself (send() awaits whenConnected).
    });
    socket.on('CHAT_MESSAGE', ({ message }) => {
      void this.applyMessages([message], { live: true }).then(() => {
        if (message.from === this.me) return;
        this.clearTyper(message.conversationId, message.from);
        this.emit('message', message);
        this.realtime.send('MESSAGE_DELIVERED', { messageId: message.id });
      });
    });
    socket.on('MESSAGE_EDIT', ({ message }) => void this.applyMessages([message]));
    socket.on('MESSAGE_DELETE', (event) => {
      if (event.scope === 'everyone') void this.applyMessages([event.message]);
      else void this.store.removeMessage(event.messageId).then(() => this.emit('change', event.conversationId));
    });
    socket.on('MESSAGE_REACTION', async (event) => {
      const message = await this.store.getMessage(event.messageId);
      if (!message || message.revision >= event.revision) return;
      await this.store.upsertMessages([{ ...message, reactions: event.reactions, revision: event.revision }]);
      this.emit('change', event.conversationId);
    });
    socket.on('MESSAGE_DELIVERED', async (event) => {
      const message = await this.store.getMessage(event.messageId);
      if (!message || message.deliveredAt) return;
      await this.store.upsertMessages([{ ...message, deliveredAt: event.deliveredAt }]);
      this.emit('change', event.conversationId);
    });
    socket.on('MESSAGE_READ', (event) => void this.readPositionMoved(event));
    socket.on('CONVERSATION_UPDATED', (event) => void this.conversationUpdated(event));
    socket.on('CHAT_TYPING', ({ from, conversationId }) => void this.typer(from, conversationId, true));
    socket.on('CHAT_STOP_TYPING', ({ from, conversationId }) => void this.typer(from, conversationId, false));
  }

  /**
   * Upserts messages, keeping the highest revision of each; a new message moves its conversation's last
   * message, and one from someone else that arrives live counts as unread.
   */
  private async applyMessages(messages: MessageDto[], options: { live?: boolean } = {}): Promise<void> {
    const changed = new Set<string>();
    for (const message of messages) {
      const existing = await this.store.getMessage(message.id);
      if (existing && existing.revision > message.revision) continue;
      await this.store.upsertMessages([message]);
      changed.add(message.conversationId);
      let conversation = await this.store.getConversation(message.conversationId);
      if (!conversation) {
        // The first message of a new direct conversation, or of a group this device has not seen yet.
        conversation = (await this.api.get<ConversationResponse>(`/api/chat/conversations/${message.conversationId}`).catch(() => undefined))?.conversation;
        if (conversation) await this.store.upsertConversations([conversation]);
        continue;
      }
      const isNewer = !conversation.lastMessage || conversation.lastMessage.id <= message.id;
      const unread = options.live && !existing && message.from !== this.me ? 1 : 0;
      if (isNewer || unread) {
        await this.store.upsertConversations([{ ...conversation, lastMessage: isNewer ? message : conversation.lastMessage, unreadCount: conversation.unreadCount + unread }]);
      }
    }
    for (const id of changed) this.emit('change', id);
  }

  private async readPositionMoved(event: Omit<MessageReadEvent, 'conversationId'> & { conversationId: string }): Promise<void> {
    const conversation = await this.store.getConversation(event.conversationId);
    if (!conversation) return;
    const members = conversation.members.map((m) =>
      m.userId === event.readerId && (m.lastReadMessageId === null || m.lastReadMessageId < event.messageId) ? { ...m, lastReadMessageId: event.messageId } : m,
    );
    const messages = await this.store.listMessages(event.conversationId);
    if (conversation.type === 'direct' && event.readerId !== this.me) {
      // Every message from me up to that one is read.
      const read = messages.filter((m) => m.from === this.me && m.id <= event.messageId && m.readAt === null).map((m) => ({ ...m, readAt: event.readAt, deliveredAt: m.deliveredAt ?? event.readAt }));
      await this.store.upsertMessages(read);
    }
    const unreadCount = event.readerId === this.me ? messages.filter((m) => m.from !== this.me && m.id > event.messageId).length : conversation.unreadCount;
    await this.store.upsertConversations([{ ...conversation, members, unreadCount }]);
    this.emit('change', event.conversationId);
  }

  private async conversationUpdated({ conversation, change }: ConversationUpdatedEvent): Promise<void> {
    if (change.type === 'membersRemoved' && change.userIds.includes(this.me)) return this.dropConversation(conversation.id);
    const existing = await this.store.getConversation(conversation.id);
    await this.store.upsertConversations([{ ...conversation, unreadCount: existing?.unreadCount ?? 0, ...(existing?.peer ? { peer: existing.peer } : {}) }]);
    this.emit('change', conversation.id);
    this.emit('change', null);
  }

  private async dropConversation(conversationId: string): Promise<void> {
    await this.store.removeConversation(conversationId);
    this.emit('change', null);
  }

  private async keep({ conversation }: ConversationResponse): Promise<ConversationDto> {
    await this.store.upsertConversations([conversation]);
    this.emit('change', null);
    return conversation;
  }

  private async typer(userId: string, conversationId: string | undefined, typing: boolean): Promise<void> {
    // A direct typing event names the sender only: its conversation is the direct one with them.
    const id = conversationId ?? (await this.directWith(userId))?.id;
    if (!id) return;
    if (!typing) return this.clearTyper(id, userId);
    const typers = this.typers.get(id) ?? new Map<string, ReturnType<typeof setTimeout>>();
    this.typers.set(id, typers);
    clearTimeout(typers.get(userId));
    typers.set(userId, setTimeout(() => this.clearTyper(id, userId), TYPING_EXPIRES_MS));
    this.emit('typing', id, [...typers.keys()]);
  }

  private clearTyper(conversationId: string, userId: string): void {
    const typers = this.typers.get(conversationId);
    if (!typers?.has(userId)) return;
    clearTimeout(typers.get(userId));
    typers.delete(userId);
    this.emit('typing', conversationId, [...typers.keys()]);
  }

  private emitPending(): void {
    this.emit('pending', [...this.pendingSends.values()]);
  }
}

const targetKey = (target: ChatTarget) => ('to' in target ? `to:${target.to}` : `c:${target.conversationId}`);
