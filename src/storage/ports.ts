/**
 * The storage port: what the services need from a database, in domain terms. Adapters (PostgreSQL and
 * PGlite today, MongoDB later) implement it; nothing SQL-shaped crosses this line.
 */
import type { CallRecord, CallStatus } from '../calls/call-state-machine.js';
import type { PushStore } from '../push/push-store.js';

export type UserRole = 'user' | 'admin';
export type UserStatus = 'active' | 'banned' | 'deleted';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: UserRole;
  status: UserStatus;
  createdAt: Date;
  lastSeenAt: Date | null;
}

export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  createdAt: Date;
}

export interface UsersRepository {
  /** Returns null when the email is already taken. */
  create(user: NewUser): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  findByEmail(email: string): Promise<UserRecord | null>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /** Changes the role, recording an `accountChanged` account event in the same statement. */
  setRole(id: string, role: UserRole): Promise<UserRecord | null>;
  /** Changes the status, recording an `accountChanged` account event in the same statement. */
  setStatus(id: string, status: UserStatus): Promise<UserRecord | null>;
  setLastSeen(id: string, at: Date): Promise<void>;
  /**
   * Active users whose name starts with `query`, or has words starting with the words of `query`, or
   * whose email is exactly `query` (all case-insensitive; never an email prefix), by name then id,
   * after the user `after`, leaving out `excludeId`.
   */
  search(query: string, page: { after?: string | undefined; limit: number; excludeId: string }): Promise<PersonRecord[]>;
  /** The active users among `ids`. */
  findPeople(ids: readonly string[]): Promise<PersonRecord[]>;
}

/** What other users may know of a user. */
export type PersonRecord = Pick<UserRecord, 'id' | 'name' | 'lastSeenAt'>;

/** A session is one refresh-token family: one signed-in device. */
export interface SessionRecord {
  id: string;
  userId: string;
  deviceName: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  /** Absolute end of the session: rotation never extends it. */
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export type NewSession = Omit<SessionRecord, 'revokedAt' | 'revokedReason'>;

export type ConsumeResult =
  | { outcome: 'consumed'; session: SessionRecord }
  /** The token was valid once but has already been rotated: someone presents an old token. */
  | { outcome: 'reused'; session: SessionRecord }
  | { outcome: 'unknown' };

export interface SessionsRepository {
  create(session: NewSession, firstTokenHash: string): Promise<SessionRecord>;
  findById(id: string): Promise<SessionRecord | null>;
  listActiveByUser(userId: string, now: Date): Promise<SessionRecord[]>;
  /**
   * Atomically marks a refresh token used. Exactly one of any number of concurrent callers with the
   * same token gets `consumed`; the others get `reused`.
   */
  consumeToken(tokenHash: string, now: Date): Promise<ConsumeResult>;
  /** The session a refresh token (used or not) belongs to. */
  findByTokenHash(tokenHash: string): Promise<SessionRecord | null>;
  addToken(sessionId: string, tokenHash: string, now: Date): Promise<void>;
  /**
   * Revokes one session; returns false when it was not the user's or already revoked. Revocations record
   * a `sessionsRevoked` account event in the same statement.
   */
  revoke(sessionId: string, userId: string, reason: string, now: Date): Promise<boolean>;
  /** Revokes every session of a user except `keepSessionId`; returns the revoked ids. */
  revokeAllForUser(userId: string, reason: string, now: Date, keepSessionId?: string): Promise<string[]>;
  /**
   * Deletes up to `limit` sessions that ended (expired or were revoked) before `endedBefore`, with their
   * refresh tokens; returns how many it deleted.
   */
  deleteEnded(endedBefore: Date, limit: number): Promise<number>;
}

export interface PushTokenRecord {
  token: string;
  userId: string;
  /** The session (signed-in app) that registered it; null only for tokens stored before that was kept. */
  sessionId: string | null;
  deviceId: string | null;
  updatedAt: Date;
}

export interface PushTokensRepository {
  /**
   * Registers a token for a live session of the user, atomically: it replaces the session's previous
   * token and, with a deviceId, the user's other tokens for that device; a token another user or session
   * held moves here. False (and nothing changed) when the session is not the user's or has been revoked.
   */
  register(token: PushTokenRecord & { sessionId: string }): Promise<boolean>;
  /** The user's tokens, newest first, leaving out tokens of revoked sessions. */
  listByUser(userId: string): Promise<PushTokenRecord[]>;
  /** Removes a token only if it is the user's. */
  removeForUser(userId: string, token: string): Promise<void>;
}

export interface MessageRecord {
  id: string;
  senderId: string;
  recipientId: string;
  text: string;
  clientMessageId: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  readAt: Date | null;
}

export type NewMessage = Omit<MessageRecord, 'deliveredAt' | 'readAt'>;

/**
 * Every user has a chat stream: each change to a message that user hears about (a new message, a
 * receipt) gets the next position in it, in commit order, and the message row remembers its latest
 * position. Sync is "the stream after position n". Positions grow but may skip (a retried send).
 */
export interface StreamedMessage {
  message: MessageRecord;
  seq: number;
}

export interface CreateMessageResult {
  /**
   * False when a message with the same (senderId, clientMessageId) was stored before: `message` is that
   * one, whatever it holds (the caller decides whether the new one was a retry of it).
   */
  created: boolean;
  message: MessageRecord;
  /** The message's position in each party's stream. */
  senderSeq: number;
  recipientSeq: number;
}

export interface ConversationRecord {
  peer: PersonRecord;
  lastMessage: MessageRecord;
  unreadCount: number;
}

export interface MessagesRepository {
  /** Stores a message at most once per (senderId, clientMessageId), also under concurrent retries. */
  create(message: NewMessage): Promise<CreateMessageResult>;
  findById(id: string): Promise<MessageRecord | null>;
  /**
   * Marks read (and delivered, if not yet) every unread message from `senderId` to `readerId` up to
   * and including `upToId`. Null when there was none; otherwise both parties' new stream positions.
   */
  markRead(change: { readerId: string; senderId: string; upToId: string; at: Date }): Promise<{ readerSeq: number; senderSeq: number } | null>;
  /** Sets deliveredAt once. Null when it was already set; otherwise the sender's new stream position. */
  markDelivered(change: { messageId: string; senderId: string; at: Date }): Promise<{ senderSeq: number } | null>;
  /** Messages between two users, newest first, older than the message `before`. */
  history(userId: string, peerId: string, page: { before?: string | undefined; limit: number }): Promise<MessageRecord[]>;
  /** The user's conversations, most recent first, whose last message is older than `before`. */
  conversations(userId: string, page: { before?: string | undefined; limit: number }): Promise<ConversationRecord[]>;
  /** The user's stream after position `after`, oldest first. */
  streamAfter(userId: string, after: number, limit: number): Promise<StreamedMessage[]>;
  /** The user's latest stream position: 0 before anything happened. */
  streamHead(userId: string): Promise<number>;
  /**
   * `userId`'s contacts among `otherIds`: the users who have sent `userId` a message, so chose to be in
   * touch. A user sees the presence of their contacts only. Groups will add the members of a group both
   * belong to.
   */
  contactsAmong(userId: string, otherIds: readonly string[]): Promise<Set<string>>;
  /** How many messages to `userId` are unread, from everyone (the app's badge). */
  unreadTotal(userId: string): Promise<number>;
}

export interface CallHistoryFilter {
  /** Only calls older than this one. */
  before?: string | undefined;
  limit: number;
  /** Only calls in one of these statuses. */
  statuses?: readonly CallStatus[] | undefined;
  /** Only calls the user received (incoming) or placed (outgoing). */
  direction?: 'incoming' | 'outgoing' | undefined;
}

/**
 * Calls, each written by the process that runs it (its ring timer, its parties' devices). The adapter
 * remembers which process that is, so the calls of a process that died can be found and closed.
 */
export interface CallsRepository {
  /** Stores a new call: ringing, or already final when it never rang (busy). */
  create(call: CallRecord): Promise<void>;
  /**
   * Stores `next` only if the stored call is still in status `expected` (compare-and-set), so of two
   * racing transitions exactly one wins. False when another change came first.
   */
  update(next: CallRecord, expected: CallStatus): Promise<boolean>;
  findById(id: string): Promise<CallRecord | null>;
  /** Calls where `userId` is either party, newest first. */
  listForUser(userId: string, filter: CallHistoryFilter): Promise<CallRecord[]>;
  /** Calls still ringing or accepted whose process is no longer running (it crashed or was killed). */
  listOrphaned(): Promise<CallRecord[]>;
}

/** A fact about an account that every process must act on (evict caches, disconnect sockets). */
export type AccountEvent =
  | { kind: 'sessionsRevoked'; userId: string; sessionIds: string[] }
  | { kind: 'accountChanged'; userId: string; status: UserStatus };

/**
 * The account-events feed. The users and sessions repositories record every revocation and every change
 * of role or status in it, atomically with the change itself; every process reads it, so a ban made by
 * the CLI or by another process takes effect everywhere.
 */
export interface AccountEventsRepository {
  /**
   * The events recorded at or after `since` (the database's clock), oldest first, each with a unique
   * `seq`, and the database's time now (the next `since`, less a margin for late commits).
   */
  since(since: Date): Promise<{ events: (AccountEvent & { seq: string })[]; now: Date }>;
  /** Forgets the events recorded before `before`. */
  prune(before: Date): Promise<void>;
}

export interface Storage {
  users: UsersRepository;
  sessions: SessionsRepository;
  pushTokens: PushTokensRepository;
  pushOutbox: PushStore;
  messages: MessagesRepository;
  calls: CallsRepository;
  accountEvents: AccountEventsRepository;
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
