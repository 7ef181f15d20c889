/**
 * The storage port: what the services need from a database, in domain terms. Adapters (PostgreSQL and
 * PGlite, and MongoDB) implement it; nothing SQL-shaped crosses this line.
 */
import type { CallRecord, CallStatus } from '../calls/call-state-machine.js';
import type { GroupCallRecord } from '../calls/group-call-state-machine.js';
import type { EncryptedContent } from '../protocol/encrypted.js';
import type { AttachmentRecord, MediaStore } from '../media/media-store.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { CallQualityStore } from '../call-quality/quality-store.js';
import type { KeyAlgorithm } from '../protocol/keys.js';
import type { AbuseReportDto } from '../protocol/safety.js';
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
  /**
   * For admins: every account (any status, or only `status`) whose name or email starts with `query`
   * (case-insensitive; no query: all), newest first, after the user `after`.
   */
  list(filter: { query?: string | undefined; status?: UserStatus | undefined; after?: string | undefined; limit: number }): Promise<UserRecord[]>;
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

export interface SessionWithAccount {
  session: SessionRecord;
  role: UserRole;
  status: UserStatus;
}

export interface SessionsRepository {
  create(session: NewSession, firstTokenHash: string): Promise<SessionRecord>;
  /** A session with its account's role and status, read together: every handshake and request checks both. */
  findWithAccount(id: string): Promise<SessionWithAccount | null>;
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
  /** Removes a token only if it is the user's; returns what was removed (null: nothing). */
  removeForUser(userId: string, token: string): Promise<PushTokenRecord | null>;
}

/** What a reply shows of the message it answers, as that message is now. */
export interface ReplyPreviewRecord {
  id: string;
  senderId: string;
  /** The start of its text (REPLY_PREVIEW_LENGTH characters); empty when it is encrypted or deleted. */
  text: string;
  encrypted: boolean;
  deleted: boolean;
}

/** One emoji's reactions on a message. */
export interface ReactionRecord {
  emoji: string;
  count: number;
  /** The first REACTION_USERS_LISTED users who reacted with it, in the order they did. */
  userIds: string[];
}

export interface MessageRecord {
  id: string;
  conversationId: string;
  senderId: string;
  /** The other member of a direct conversation; null in a group. */
  recipientId: string | null;
  /** Empty when the message is encrypted, deleted or has attachments only. */
  text: string;
  /** An end-to-end encrypted message's payload, kept and relayed as it came; absent on plain text. */
  encrypted?: EncryptedContent | undefined;
  /** The media attached to it, in the sender's order; absent on a message without. */
  attachments?: AttachmentRecord[] | undefined;
  clientMessageId: string | null;
  createdAt: Date;
  /** When the first recipient device confirmed it. */
  deliveredAt: Date | null;
  /** Direct messages only: when the recipient read it (in groups, members' read positions say). */
  readAt: Date | null;
  /** When its content was last replaced. */
  editedAt: Date | null;
  /** Deleted for everyone: a tombstone whose content, reply and reactions are gone. */
  deletedAt: Date | null;
  deletedBy: string | null;
  replyTo: ReplyPreviewRecord | null;
  /** Grouped by emoji, the first reacted first. */
  reactions: ReactionRecord[];
  /** Counts the changes of its content and reactions: of two states of a message, the higher is the newer. */
  revision: number;
}

/**
 * The store sets the recipient: the other member of a direct conversation, none in a group. The
 * attachments are named by media id: the store attaches them in the same transaction as the insert.
 */
export type NewMessage = Pick<MessageRecord, 'id' | 'conversationId' | 'senderId' | 'text' | 'encrypted' | 'clientMessageId' | 'createdAt'> & {
  /** A message of the same conversation this one answers. */
  replyToId?: string | null | undefined;
  attachmentIds?: readonly string[] | undefined;
};

export type CreateMessageResult =
  /**
   * `created` false: a message with the same (senderId, clientMessageId) was stored before; `message` is
   * that one, whatever it holds (the caller decides whether the new one was a retry of it).
   */
  | { outcome: 'stored'; created: boolean; message: MessageRecord }
  /** The sender is not a member of the conversation (any more): nothing was stored. */
  | { outcome: 'notMember' }
  /**
   * The other member of a direct conversation has no active account (banned) or blocks the sender:
   * nothing was stored.
   */
  | { outcome: 'recipientUnavailable' }
  /** The sender blocks the other member of the direct conversation: nothing was stored. */
  | { outcome: 'recipientBlocked' }
  /** `replyToId` is no message of the conversation that the sender may see (deleted, or hidden by them): nothing was stored. */
  | { outcome: 'noSuchReply' }
  /**
   * An attachment is not the sender's ready, unattached media (or an encrypted message's attachment is
   * no encrypted blob, or the other way round): nothing was stored, nothing attached.
   */
  | { outcome: 'attachmentsUnavailable' };

export type ReactResult =
  /** `changed` false when the reaction was already there (add) or was not (remove). */
  | { outcome: 'done'; changed: boolean; revision: number; reactions: ReactionRecord[] }
  /** The user already has `maxPerUser` other reactions on the message: nothing was added. */
  | { outcome: 'tooMany' }
  /** The message is deleted, or does not exist. */
  | { outcome: 'deleted' };

export interface MessagesRepository {
  /**
   * Stores a message at most once per (senderId, clientMessageId), also under concurrent retries, and
   * only while the sender is a member of its conversation, a reply answers a message of the same
   * conversation, and, in a direct one, the recipient's account is active and neither blocks the other
   * (checked in the same statement). Its attachments are attached to it in the same transaction, each
   * to this message only. Resolves once the message is committed.
   */
  create(message: NewMessage): Promise<CreateMessageResult>;
  findById(id: string): Promise<MessageRecord | null>;
  /**
   * Replaces the content of a message: the text of a plain one, the encrypted payload of an encrypted one.
   * Only while it is `senderId`'s, not deleted, created at or after `createdSince`, and the sender is still
   * a member of its conversation; null otherwise (nothing changed).
   */
  edit(change: { messageId: string; senderId: string; text: string; encrypted: EncryptedContent | null; at: Date; createdSince: Date }): Promise<MessageRecord | null>;
  /**
   * Deletes a message for everyone: its text, encrypted payload, attachments, reply and reactions are
   * erased, the row stays as a tombstone (id, sender, time); its media is discarded in the same
   * transaction (nobody can fetch it from then on; MediaStore.listDiscarded hands it out for removal).
   * Null when it was deleted already (or does not exist).
   */
  deleteForEveryone(change: { messageId: string; deletedBy: string; at: Date }): Promise<MessageRecord | null>;
  /** Hides a message of the conversation from one user only; false when it was hidden already. */
  hide(change: { userId: string; messageId: string; conversationId: string; at: Date }): Promise<boolean>;
  /**
   * Adds or removes one user's reaction. Changes of one message's reactions run one at a time, and each
   * answers the reactions and revision as its change left them, so the highest revision is the latest.
   */
  react(change: { messageId: string; userId: string; emoji: string; action: 'add' | 'remove'; at: Date; maxPerUser: number }): Promise<ReactResult>;
  /**
   * Direct conversations: marks read (and delivered, if not yet) every unread message to `readerId` in
   * the conversation up to and including `upToId`; false when there was none.
   */
  markRead(change: { readerId: string; conversationId: string; upToId: string; at: Date }): Promise<boolean>;
  /** Sets deliveredAt once; false when it was already set. */
  markDelivered(change: { messageId: string; at: Date }): Promise<boolean>;
  /** A conversation's messages, newest first, older than the message `before`, leaving out those the user `hiddenFor` hid. */
  history(conversationId: string, page: { before?: string | undefined; limit: number; hiddenFor?: string | undefined }): Promise<MessageRecord[]>;
  /**
   * `userId`'s contacts among `otherIds`: the users who have sent `userId` a direct message, so chose to
   * be in touch, and are in no block with `userId` either way. A user sees the presence of their contacts only.
   */
  contactsAmong(userId: string, otherIds: readonly string[]): Promise<Set<string>>;
  /** For each user, how many messages from others are after their read positions, over all their conversations (the app's badge). */
  unreadTotals(userIds: readonly string[]): Promise<Map<string, number>>;
  /** How many messages were made from `from` up to (not including) `to`, by their time-ordered ids: a range of the id index. */
  countCreated(range: { from: Date; to: Date }): Promise<number>;
}

/** A user someone blocks. */
export interface BlockRecord {
  userId: string;
  name: string;
  blockedAt: Date;
}

/** Who blocks whom. A block is one way: the blocker decides, the blocked user is not told. */
export interface BlocksRepository {
  /** `created` false when the block existed; `blockedAt` is then when it was made. */
  block(blockerId: string, blockedId: string, at: Date): Promise<{ created: boolean; blockedAt: Date }>;
  /** False when there was no such block. */
  unblock(blockerId: string, blockedId: string): Promise<boolean>;
  /** The users `blockerId` blocks, the latest block first, after the blocked user `after`. */
  list(blockerId: string, page: { after?: string | undefined; limit: number }): Promise<BlockRecord[]>;
  /** Whether `userId` blocks `otherId`, and whether `otherId` blocks `userId`. */
  between(userId: string, otherId: string): Promise<{ blocks: boolean; blockedBy: boolean }>;
  /** The users among `userIds` who block `userId`. */
  blockersAmong(userId: string, userIds: readonly string[]): Promise<string[]>;
}

/** A report as admins read it (`messageId` null also once its conversation is gone). */
export type AbuseReportRecord = Omit<AbuseReportDto, 'createdAt'> & { createdAt: Date };

/** Reports of abuse, for admins. */
export interface AbuseReportsRepository {
  create(report: AbuseReportRecord): Promise<void>;
  /** Newest first, older than the report `before`. */
  list(page: { before?: string | undefined; limit: number }): Promise<AbuseReportRecord[]>;
}

export type ConversationType = 'direct' | 'group';
export type MemberRole = 'owner' | 'admin' | 'member';

export interface MemberRecord {
  userId: string;
  name: string;
  role: MemberRole;
  joinedAt: Date;
  lastReadMessageId: string | null;
  lastReadAt: Date | null;
}

export interface ConversationRecord {
  id: string;
  type: ConversationType;
  title: string | null;
  createdAt: Date;
  memberCount: number;
  /** The first `EMBEDDED_MEMBERS` current members by join time. */
  members: MemberRecord[];
  lastMessage: MessageRecord | null;
}

/** A conversation as one member sees it. */
export interface MemberConversationRecord extends ConversationRecord {
  /** Messages from others after the member's read position. */
  unreadCount: number;
  /** In a direct conversation: the other member. */
  peerId: string | null;
}

export type AddMembersResult = { outcome: 'added'; userIds: string[] } | { outcome: 'full'; memberCount: number } | { outcome: 'notFound' };

/**
 * Conversations and their members. A direct conversation has exactly its two users as members, comes
 * into being with its first message and never changes; a group has an owner, admins and members. A
 * member who leaves keeps a row with leftAt (so their devices learn it through sync) but reads nothing more.
 */
export interface ConversationsRepository {
  /** The direct conversation of two users, created (with both as members) if it does not exist yet. */
  ensureDirect(userA: string, userB: string, at: Date): Promise<string>;
  findDirect(userA: string, userB: string): Promise<string | null>;
  /** Creates a group with `ownerId` as owner and `memberIds` as members (all must exist). */
  createGroup(group: { id: string; title: string; ownerId: string; memberIds: readonly string[]; createdAt: Date }): Promise<void>;
  /** The conversation as `viewerId` sees it; null unless the viewer is a current member. */
  findForMember(conversationId: string, viewerId: string): Promise<MemberConversationRecord | null>;
  /** The conversation as every member sees it; null when it does not exist. */
  find(conversationId: string): Promise<ConversationRecord | null>;
  /** The user's conversations, the latest activity first (last message, else creation), older than `before`'s. */
  listForMember(userId: string, page: { before?: string | undefined; limit: number }): Promise<MemberConversationRecord[]>;
  /**
   * The user's membership of a conversation: null unless a current member. `peerId` is the other member
   * of a direct conversation (null in a group).
   */
  membership(conversationId: string, userId: string): Promise<{ type: ConversationType; role: MemberRole; peerId: string | null } | null>;
  /** Current members by join time, after the member `after`. */
  members(conversationId: string, page: { after?: string | undefined; limit: number }): Promise<MemberRecord[]>;
  /** Every current member's id. */
  memberIds(conversationId: string): Promise<string[]>;
  /** The groups the user is a current member of. */
  groupIdsOf(userId: string): Promise<string[]>;
  /**
   * Adds users (current members are skipped, former ones return), atomically against the member limit:
   * `full` when the group would exceed `maxMembers`.
   */
  addMembers(conversationId: string, userIds: readonly string[], at: Date, maxMembers: number): Promise<AddMembersResult>;
  /**
   * Removes a current member. When it was the owner, the longest-standing admin (else member) becomes
   * owner; `removed` false when the user was not a member.
   */
  removeMember(conversationId: string, userId: string, at: Date): Promise<{ removed: boolean; newOwnerId: string | null }>;
  /** False when the user is not a current member (or is the owner, whose role only passes on). */
  setRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<boolean>;
  setTitle(conversationId: string, title: string): Promise<boolean>;
  /**
   * Moves a current member's read position forward to `messageId` (a message of the conversation); never
   * back. `moved` false when it was already there or further (or the user is no member): `readAt` is then
   * when the member read that far (null if never).
   */
  moveReadPosition(change: { conversationId: string; userId: string; messageId: string; at: Date }): Promise<{ moved: boolean; readAt: Date | null }>;
}

/** A position in the chat changes: opaque to clients, comparable only by the adapter that made it. */
export type ChatCursor = string;

export interface ChatChanges {
  messages: MessageRecord[];
  /** The user's conversations that were created or whose title, members or roles changed, as the user sees them. */
  conversations: MemberConversationRecord[];
  reads: { conversationId: string; userId: string; lastReadMessageId: string; readAt: Date }[];
  left: { conversationId: string; leftAt: Date }[];
  /** Messages the user hid for themself (on another device). */
  hidden: { conversationId: string; messageId: string; hiddenAt: Date }[];
  cursor: ChatCursor;
  hasMore: boolean;
}

/**
 * Every change to a message, a conversation or a membership gets a position, without writing anything
 * per member; a user's changes are those of the conversations they belong to. Positions are handed out
 * so that a change committed later never gets a position before one already returned.
 */
export interface ChatChangesRepository {
  /** Where a new device starts: every change so far is before it. */
  head(): Promise<ChatCursor>;
  /** The user's changes after `after`, oldest first, at most `limit` in all; null when `after` is no cursor this adapter handed out. */
  after(userId: string, after: ChatCursor, limit: number): Promise<ChatChanges | null>;
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

/**
 * Group calls with their members (rung, joined, declined), each written by the process that runs it,
 * like CallsRepository.
 */
export interface GroupCallsRepository {
  /** Stores a new call with its members. */
  create(call: GroupCallRecord): Promise<void>;
  /**
   * Stores `next` only if the stored call is still at revision `expected.revision` (compare-and-set);
   * of its members, those in `expected.changedMembers` are written. False when another change came first.
   */
  update(next: GroupCallRecord, expected: { revision: number; changedMembers: readonly string[] }): Promise<boolean>;
  findById(id: string): Promise<GroupCallRecord | null>;
  /** Calls `userId` was rung for, started or joined, newest first; `outgoing` are those they started. */
  listForMember(userId: string, filter: CallHistoryFilter): Promise<GroupCallRecord[]>;
  /** Calls still ringing or accepted whose process is no longer running. */
  listOrphaned(): Promise<GroupCallRecord[]>;
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

/** A prekey as its device uploaded it: public bytes, and the identity key's signature over them where it has one. */
export interface PreKeyRecord {
  keyId: number;
  publicKey: Uint8Array;
  signature: Uint8Array | null;
}

export type SignedPreKeyRecord = PreKeyRecord & { signature: Uint8Array };

/** A session's E2EE device: public keys only. */
export interface DeviceKeysRecord {
  userId: string;
  sessionId: string;
  deviceId: string;
  registrationId: number | null;
  identityAlgorithm: KeyAlgorithm;
  identityKey: Uint8Array;
  signedPreKey: SignedPreKeyRecord;
  kyberPreKey: SignedPreKeyRecord | null;
  lastResortPreKey: SignedPreKeyRecord | null;
  createdAt: Date;
  updatedAt: Date;
}

export type RegisterDeviceResult =
  /** `previous`: the session's device before (null when it had none). */
  | { outcome: 'registered'; device: DeviceKeysRecord; previous: DeviceKeysRecord | null; oneTimePreKeyCount: number }
  /** The one-time prekeys would exceed `maxStored` (the device keeps `count`): nothing was stored. */
  | { outcome: 'full'; count: number }
  /** Another session of the user holds this device id. */
  | { outcome: 'deviceIdTaken' }
  /** The session was revoked or expired: nothing was stored. */
  | { outcome: 'sessionEnded' };

export type AddPreKeysResult = { outcome: 'added' | 'full'; count: number } | { outcome: 'noDevice' };

/** One device's prekey bundle as claimed: the one-time prekey (or last-resort key) is no longer handed to anyone else. */
export interface ClaimedBundle {
  device: DeviceKeysRecord;
  oneTimePreKey: (PreKeyRecord & { lastResort: boolean }) | null;
  /** One-time prekeys the device has left. */
  remaining: number;
}

/** A message for one device (a key share), queued until that device acknowledges it. */
export interface ToDeviceMessageRecord {
  id: string;
  senderId: string;
  senderDeviceId: string;
  type: number;
  body: string;
  createdAt: Date;
}

export type NewToDeviceMessage = ToDeviceMessageRecord & { userId: string; deviceId: string };

export type QueueToDeviceResult = { outcome: 'queued'; sessionId: string } | { outcome: 'noSuchDevice' | 'queueFull' };

/**
 * The E2EE key directory: one device per session, its one-time prekeys, and who hears of its changes.
 * Devices of revoked or expired sessions and of inactive accounts are never handed out.
 */
export interface DeviceKeysRepository {
  /**
   * Stores the session's device, replacing the one it had. The one-time prekeys go when the device id or
   * the identity key changes (they belong to the old identity); `oneTimePreKeys` are added (up to `maxStored`).
   */
  register(device: Omit<DeviceKeysRecord, 'createdAt'>, oneTimePreKeys: readonly PreKeyRecord[], maxStored: number): Promise<RegisterDeviceResult>;
  findBySession(sessionId: string): Promise<DeviceKeysRecord | null>;
  /** Replaces the prekeys given; null when the session has no device. */
  replacePreKeys(
    sessionId: string,
    change: { signedPreKey?: SignedPreKeyRecord | undefined; kyberPreKey?: SignedPreKeyRecord | undefined; lastResortPreKey?: SignedPreKeyRecord | undefined; at: Date },
  ): Promise<DeviceKeysRecord | null>;
  /**
   * Adds one-time prekeys (ids already stored are skipped), atomically against `maxStored`: `full`, with
   * nothing added, when the device would hold more.
   */
  addOneTimePreKeys(sessionId: string, keys: readonly PreKeyRecord[], maxStored: number): Promise<AddPreKeysResult>;
  countOneTimePreKeys(sessionId: string): Promise<number>;
  /** Removes the devices of these sessions with their prekeys; returns what was removed. */
  removeBySessions(sessionIds: readonly string[]): Promise<DeviceKeysRecord[]>;
  /** The user's devices (live sessions of an active account), oldest first. */
  listForUser(userId: string, now: Date): Promise<DeviceKeysRecord[]>;
  /**
   * A bundle for each of the user's devices (only those named, when `deviceIds` is given; never the
   * session `exceptSessionId`): each one-time prekey is handed out exactly once, even to concurrent
   * claims in other processes; a device with none left gives its last-resort key.
   */
  claim(userId: string, options: { deviceIds?: readonly string[] | undefined; exceptSessionId: string; now: Date }): Promise<ClaimedBundle[]>;
  /** The users who share a current conversation (direct or group) with `userId`: who hears of its device changes. */
  audienceOf(userId: string): Promise<string[]>;
  /**
   * Queues messages for devices (live sessions of active accounts), each device holding at most
   * `maxPending`; the results in the order given. Resolves once they are committed.
   */
  queueToDevice(messages: readonly NewToDeviceMessage[], maxPending: number, now: Date): Promise<QueueToDeviceResult[]>;
  /** The session's device's queued messages, oldest first. */
  pendingToDevice(sessionId: string, limit: number): Promise<ToDeviceMessageRecord[]>;
  /** Removes the session's queued messages among `ids`; returns how many it removed. */
  acknowledgeToDevice(sessionId: string, ids: readonly string[]): Promise<number>;
}

/**
 * This process's identity in the database, and whether the processes behind other identities still run.
 * Rows a process owns while it lives (live calls) carry its id; when it dies they are orphans.
 */
export interface ProcessLiveness {
  readonly id: string;
  /** Those of `ids` whose process is no longer running. */
  gone(ids: readonly string[]): Promise<string[]>;
}

export interface Storage {
  /** This process and the others sharing the database. */
  processes: ProcessLiveness;
  users: UsersRepository;
  sessions: SessionsRepository;
  pushTokens: PushTokensRepository;
  pushOutbox: PushStore;
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  blocks: BlocksRepository;
  abuseReports: AbuseReportsRepository;
  chatChanges: ChatChangesRepository;
  calls: CallsRepository;
  groupCalls: GroupCallsRepository;
  accountEvents: AccountEventsRepository;
  deviceKeys: DeviceKeysRepository;
  media: MediaStore;
  audit: AuditStore;
  callQuality: CallQualityStore;
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
