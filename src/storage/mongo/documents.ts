import type { Binary } from 'mongodb';
import type { CallEndReason, CallStatus, CallType } from '../../calls/call-state-machine.js';
import type { CallTopologyKind } from '../../protocol/calls.js';
import type { EncryptedContent } from '../../protocol/encrypted.js';
import type { KeyAlgorithm } from '../../protocol/keys.js';
import type { MediaKind } from '../../protocol/media.js';
import type { AbuseReason } from '../../protocol/safety.js';
import type { AttachmentRecord } from '../../media/media-store.js';
import type { AuditEntryRecord } from '../../audit/audit-store.js';
import type { QualityRecord } from '../../call-quality/quality-store.js';
import type { PushContent, PushKind } from '../../push/push-store.js';
import type { ConversationType, MemberRole, UserRole, UserStatus } from '../ports.js';

/**
 * Document shapes, one collection per PostgreSQL table (named the same), with the app's UUIDv7 ids as
 * `_id`. Link tables (members, blocks, hides, prekeys) have a composite string `_id` ("a:b"), so an
 * insert of the same link is a duplicate key, never a second document. Rows PostgreSQL keeps in a
 * child table that is only ever read with its parent are embedded: a message's reactions, a group call's
 * members. `changePos` is the document's place in the chat changes (change-positions.ts).
 */
export interface UserDoc {
  _id: string;
  email: string;
  name: string;
  /** lower(name): search matches and orders on it. */
  nameLower: string;
  /** The lower-cased words of the name: a search's words match their prefixes. */
  nameWords: string[];
  passwordHash: string;
  role: UserRole;
  status: UserStatus;
  createdAt: Date;
  lastSeenAt: Date | null;
}

export interface SessionDoc {
  _id: string;
  userId: string;
  deviceName: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  /** When the session ended: its revocation or its expiry, whichever came first (what the cleanup reads). */
  endedAt: Date;
  /**
   * Written by the transactions that add to a live session (a push token, an E2EE device), so that they
   * conflict with a revocation of the session running at the same time: one of them is retried after
   * the other, and a revoked session gets nothing added.
   */
  guardedAt?: Date;
}

export interface RefreshTokenDoc {
  /** The token's hash. */
  _id: string;
  sessionId: string;
  createdAt: Date;
  usedAt: Date | null;
}

export interface PushTokenDoc {
  /** The Expo token. */
  _id: string;
  userId: string;
  sessionId: string | null;
  deviceId: string | null;
  updatedAt: Date;
}

export interface PushOutboxDoc {
  _id: string;
  token: string;
  userId: string;
  kind: PushKind;
  content: PushContent;
  coalesceKey: string | null;
  /** The coalesce key while the push is unsent (absent otherwise): the unique index on (token, coalesceSlot). */
  coalesceSlot?: string;
  dueAt: Date;
  expiresAt: Date;
  attempts: number;
  leaseUntil: Date | null;
  /** Which claim holds the lease: the claim reads back what its update leased by it. */
  leaseId?: string;
  revision: number;
  leasedRevision: number;
  ticketId: string | null;
  sentAt: Date | null;
  receiptAt: Date | null;
  createdAt: Date;
}

export interface ReactionDoc {
  userId: string;
  emoji: string;
  createdAt: Date;
}

export interface MessageDoc {
  _id: string;
  conversationId: string;
  senderId: string;
  recipientId: string | null;
  text: string;
  encrypted: EncryptedContent | null;
  attachments: AttachmentRecord[] | null;
  clientMessageId: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  readAt: Date | null;
  editedAt: Date | null;
  deletedAt: Date | null;
  deletedBy: string | null;
  replyToId: string | null;
  /** In the order they were made. */
  reactions: ReactionDoc[];
  revision: number;
  changePos: number;
}

export interface MessageHideDoc {
  /** `${userId}:${messageId}` */
  _id: string;
  userId: string;
  messageId: string;
  conversationId: string;
  hiddenAt: Date;
  changePos: number;
}

export interface UserBlockDoc {
  /** `${blockerId}:${blockedId}` */
  _id: string;
  blockerId: string;
  blockedId: string;
  createdAt: Date;
}

export interface AbuseReportDoc {
  _id: string;
  reporterId: string;
  reportedUserId: string;
  messageId: string | null;
  reason: AbuseReason;
  details: string | null;
  createdAt: Date;
}

export interface ConversationDoc {
  _id: string;
  type: ConversationType;
  title: string | null;
  /** Direct conversations only: their two users, the lower id first (unique together). */
  directLowUserId: string | null;
  directHighUserId: string | null;
  createdAt: Date;
  memberCount: number;
  changePos: number;
}

export interface MemberDoc {
  /** `${conversationId}:${userId}` */
  _id: string;
  conversationId: string;
  userId: string;
  role: MemberRole;
  joinedAt: Date;
  leftAt: Date | null;
  lastReadMessageId: string | null;
  lastReadAt: Date | null;
  hasWritten: boolean;
  changePos: number;
}

export interface CallProgressFields {
  status: CallStatus;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  endReason: CallEndReason | null;
}

export interface CallDoc extends CallProgressFields {
  _id: string;
  callerId: string;
  calleeId: string;
  type: CallType;
  createdAt: Date;
  /** The process that runs the call (see process-liveness.ts). */
  ownerId: string;
}

export interface GroupCallMemberDoc {
  userId: string;
  joinedAt: Date | null;
  leftAt: Date | null;
  inCallSince: Date | null;
  msInCall: number;
  declinedAt: Date | null;
}

export interface GroupCallDoc extends CallProgressFields {
  _id: string;
  conversationId: string;
  startedBy: string;
  type: CallType;
  topology: CallTopologyKind;
  createdAt: Date;
  revision: number;
  ownerId: string;
  /** In the order they were added. */
  members: GroupCallMemberDoc[];
}

export interface AccountEventDoc {
  /** A UUIDv7; the event's seq is the same number in decimal. */
  _id: string;
  userId: string;
  kind: 'sessions_revoked' | 'account_changed';
  sessionIds: string[] | null;
  status: UserStatus | null;
  /** The database's clock when it was recorded. */
  createdAt: Date;
}

export interface PreKeyDoc {
  keyId: number;
  publicKey: Binary;
  signature: Binary;
}

export interface DeviceDoc {
  /** The session's id. */
  _id: string;
  userId: string;
  deviceId: string;
  registrationId: number | null;
  identityAlgorithm: KeyAlgorithm;
  identityKey: Binary;
  signedPreKey: PreKeyDoc;
  kyberPreKey: PreKeyDoc | null;
  lastResortPreKey: PreKeyDoc | null;
  createdAt: Date;
  updatedAt: Date;
  /** Counts changes of its one-time prekeys: writing it puts them in a line, so the cap holds. */
  preKeyWrites?: number;
}

export interface OneTimePreKeyDoc {
  /** `${sessionId}:${keyId}` */
  _id: string;
  sessionId: string;
  keyId: number;
  publicKey: Binary;
  signature: Binary | null;
}

export interface ToDeviceMessageDoc {
  _id: string;
  sessionId: string;
  senderId: string;
  senderDeviceId: string;
  type: number;
  body: string;
  createdAt: Date;
}

export interface MediaDoc {
  _id: string;
  ownerId: string;
  status: 'uploading' | 'ready';
  kind: MediaKind;
  contentType: string;
  size: number;
  fileName: string | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  thumbnail: { width: number; height: number } | null;
  encrypted: boolean;
  messageId: string | null;
  createdAt: Date;
  attachedAt: Date | null;
  discardedAt: Date | null;
}

/** One document per name: the chat changes' position counter (change-positions.ts). */
export interface CounterDoc {
  _id: string;
  value: number;
}

/** A running process's heartbeat (process-liveness.ts). */
export interface ProcessDoc {
  _id: string;
  beatAt: Date;
  /** The TTL index removes the document after this. */
  expiresAt: Date;
}

/** One per media owner: a transaction that counts an owner's uploads writes it first, so those run one at a time. */
export interface MediaBudgetDoc {
  _id: string;
  uploads: number;
}

export interface AuditEntryDoc {
  _id: string;
  at: Date;
  type: AuditEntryRecord['type'];
  actorId: string | null;
  targetUserId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: AuditEntryRecord['details'];
}

/** One device's quality summary of a call; `_id` is `${callId}:${userId}:${deviceKey}`. */
export interface CallQualityDoc extends QualityRecord {
  _id: string;
}

export interface Collections {
  users: UserDoc;
  sessions: SessionDoc;
  refresh_tokens: RefreshTokenDoc;
  push_tokens: PushTokenDoc;
  push_outbox: PushOutboxDoc;
  messages: MessageDoc;
  message_hides: MessageHideDoc;
  user_blocks: UserBlockDoc;
  abuse_reports: AbuseReportDoc;
  conversations: ConversationDoc;
  conversation_members: MemberDoc;
  calls: CallDoc;
  group_calls: GroupCallDoc;
  account_events: AccountEventDoc;
  e2ee_devices: DeviceDoc;
  e2ee_one_time_prekeys: OneTimePreKeyDoc;
  e2ee_to_device_messages: ToDeviceMessageDoc;
  media: MediaDoc;
  counters: CounterDoc;
  processes: ProcessDoc;
  media_budgets: MediaBudgetDoc;
  audit_log: AuditEntryDoc;
  call_quality: CallQualityDoc;
}

export type CollectionName = keyof Collections;

/** The `_id` of a link document. */
export const linkId = (a: string, b: string | number) => `${a}:${b}`;

/** A call-quality summary's `_id`. */
export const qualityId = (callId: string, userId: string, deviceKey: string) => `${callId}:${userId}:${deviceKey}`;
