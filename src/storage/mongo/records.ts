import { Binary } from 'mongodb';
import type { CallRecord } from '../../calls/call-state-machine.js';
import type { GroupCallRecord } from '../../calls/group-call-state-machine.js';
import type { AuditEntryRecord } from '../../audit/audit-store.js';
import type { QualityRecord } from '../../call-quality/quality-store.js';
import type { AttachmentRecord, MediaRecord } from '../../media/media-store.js';
import { REACTION_USERS_LISTED, REPLY_PREVIEW_LENGTH } from '../../protocol/chat.js';
import type {
  AbuseReportRecord,
  DeviceKeysRecord,
  MessageRecord,
  PersonRecord,
  ReactionRecord,
  ReplyPreviewRecord,
  SessionRecord,
  SignedPreKeyRecord,
  UserRecord,
} from '../ports.js';
import { scalar, type Scalar } from './filters.js';
import type { AbuseReportDoc, AuditEntryDoc, CallDoc, CallQualityDoc, DeviceDoc, GroupCallDoc, MediaDoc, MessageDoc, PreKeyDoc, ReactionDoc, SessionDoc, UserDoc } from './documents.js';

/** Document <-> domain mapping: pure functions, one per collection that the port reads. */

/** What user search matches on: lower(name), and its words (split as PostgreSQL's 'simple' text search does). */
export function nameFields(name: string): Pick<UserDoc, 'nameLower' | 'nameWords'> {
  const nameLower = name.toLowerCase();
  return { nameLower, nameWords: [...new Set(words(nameLower))] };
}

/** The lower-cased words (letters, marks and digits) of a text. */
export const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{M}\p{N}]+/u).filter(Boolean);

export const toUser = (doc: UserDoc): UserRecord => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  passwordHash: doc.passwordHash,
  role: doc.role,
  status: doc.status,
  createdAt: doc.createdAt,
  lastSeenAt: doc.lastSeenAt,
});

export const toPerson = (doc: Pick<UserDoc, '_id' | 'name' | 'lastSeenAt'>): PersonRecord => ({ id: doc._id, name: doc.name, lastSeenAt: doc.lastSeenAt });

export const toSession = (doc: SessionDoc): SessionRecord => ({
  id: doc._id,
  userId: doc.userId,
  deviceName: doc.deviceName,
  userAgent: doc.userAgent,
  ip: doc.ip,
  createdAt: doc.createdAt,
  lastUsedAt: doc.lastUsedAt,
  expiresAt: doc.expiresAt,
  revokedAt: doc.revokedAt,
  revokedReason: doc.revokedReason,
});

/** When a session ended or will end: its revocation or its expiry, whichever comes first. */
export const endedAt = (expiresAt: Date, revokedAt: Date | null) => (revokedAt && revokedAt < expiresAt ? revokedAt : expiresAt);

/**
 * A message's reactions as the port shows them: grouped by emoji, the emoji first reacted with first
 * (then by emoji), each listing its first REACTION_USERS_LISTED users in the order they reacted.
 */
export function groupReactions(reactions: readonly ReactionDoc[]): ReactionRecord[] {
  const ordered = [...reactions].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareText(a.userId, b.userId));
  const groups = new Map<string, { first: number; userIds: string[] }>();
  for (const reaction of ordered) {
    const group = groups.get(reaction.emoji) ?? { first: reaction.createdAt.getTime(), userIds: [] };
    group.userIds.push(reaction.userId);
    groups.set(reaction.emoji, group);
  }
  return [...groups]
    .sort(([emojiA, a], [emojiB, b]) => a.first - b.first || compareText(emojiA, emojiB))
    .map(([emoji, group]) => ({ emoji, count: group.userIds.length, userIds: group.userIds.slice(0, REACTION_USERS_LISTED) }));
}

/** Byte order, as PostgreSQL's "C" collation and MongoDB's default comparison order strings. */
export const compareText = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The start of a text, in characters (code points), as PostgreSQL's left() counts them. */
export const preview = (text: string) => Array.from(text).slice(0, REPLY_PREVIEW_LENGTH).join('');

export const toReplyPreview = (doc: Pick<MessageDoc, '_id' | 'senderId' | 'text' | 'encrypted' | 'deletedAt'>): ReplyPreviewRecord => ({
  id: doc._id,
  senderId: doc.senderId,
  text: preview(doc.text),
  encrypted: doc.encrypted !== null,
  deleted: doc.deletedAt !== null,
});

/** A message record from its document and the document of the message it replies to (null when none or gone). */
export function toMessage(doc: MessageDoc, replyTo: MessageDoc | null): MessageRecord {
  return {
    id: doc._id,
    conversationId: doc.conversationId,
    senderId: doc.senderId,
    recipientId: doc.recipientId,
    text: doc.text,
    ...(doc.encrypted ? { encrypted: doc.encrypted } : {}),
    ...(doc.attachments ? { attachments: doc.attachments } : {}),
    clientMessageId: doc.clientMessageId,
    createdAt: doc.createdAt,
    deliveredAt: doc.deliveredAt,
    readAt: doc.readAt,
    editedAt: doc.editedAt,
    deletedAt: doc.deletedAt,
    deletedBy: doc.deletedBy,
    replyTo: replyTo ? toReplyPreview(replyTo) : null,
    reactions: groupReactions(doc.reactions),
    revision: doc.revision,
  };
}

export const toAbuseReport = (doc: AbuseReportDoc): AbuseReportRecord => ({
  id: doc._id,
  reporterId: doc.reporterId,
  reportedUserId: doc.reportedUserId,
  messageId: doc.messageId,
  reason: doc.reason,
  details: doc.details,
  createdAt: doc.createdAt,
});

export const toAuditEntry = (doc: AuditEntryDoc) =>
  ({
    id: doc._id,
    at: doc.at,
    type: doc.type,
    actorId: doc.actorId,
    targetUserId: doc.targetUserId,
    ip: doc.ip,
    userAgent: doc.userAgent,
    details: doc.details,
  }) as AuditEntryRecord;

/** An entry as its document; every detail must be a plain value (ids, states, counts). */
export function auditEntryDoc(entry: AuditEntryRecord): AuditEntryDoc {
  const details = Object.fromEntries(Object.entries(entry.details).map(([name, value]) => [name, scalar(value as Scalar)]));
  return {
    _id: scalar(entry.id),
    at: scalar(entry.at),
    type: scalar(entry.type),
    actorId: scalar(entry.actorId),
    targetUserId: scalar(entry.targetUserId),
    ip: scalar(entry.ip),
    userAgent: scalar(entry.userAgent),
    details: details as AuditEntryRecord['details'],
  };
}

export const toQualityRecord = ({ _id: _key, ...record }: CallQualityDoc): QualityRecord => record;

export const toCall = (doc: CallDoc): CallRecord => ({
  id: doc._id,
  callerId: doc.callerId,
  calleeId: doc.calleeId,
  type: doc.type,
  createdAt: doc.createdAt,
  status: doc.status,
  answeredAt: doc.answeredAt,
  endedAt: doc.endedAt,
  durationSeconds: doc.durationSeconds,
  endReason: doc.endReason,
});

export const toGroupCall = (doc: GroupCallDoc): GroupCallRecord => ({
  id: doc._id,
  conversationId: doc.conversationId,
  startedBy: doc.startedBy,
  type: doc.type,
  topology: doc.topology,
  createdAt: doc.createdAt,
  status: doc.status,
  answeredAt: doc.answeredAt,
  endedAt: doc.endedAt,
  durationSeconds: doc.durationSeconds,
  endReason: doc.endReason,
  revision: doc.revision,
  members: doc.members.map((member) => ({ ...member })),
});

/** Bytes as BSON binary data, and back (a copy the caller owns). */
export const toBinary = (bytes: Uint8Array) => new Binary(Buffer.from(bytes));
export const fromBinary = (binary: Binary) => new Uint8Array(binary.value());

export const preKeyDoc = (key: SignedPreKeyRecord): PreKeyDoc => ({ keyId: key.keyId, publicKey: toBinary(key.publicKey), signature: toBinary(key.signature) });
const fromPreKeyDoc = (key: PreKeyDoc): SignedPreKeyRecord => ({ keyId: key.keyId, publicKey: fromBinary(key.publicKey), signature: fromBinary(key.signature) });

export const toDevice = (doc: DeviceDoc): DeviceKeysRecord => ({
  userId: doc.userId,
  sessionId: doc._id,
  deviceId: doc.deviceId,
  registrationId: doc.registrationId,
  identityAlgorithm: doc.identityAlgorithm,
  identityKey: fromBinary(doc.identityKey),
  signedPreKey: fromPreKeyDoc(doc.signedPreKey),
  kyberPreKey: doc.kyberPreKey ? fromPreKeyDoc(doc.kyberPreKey) : null,
  lastResortPreKey: doc.lastResortPreKey ? fromPreKeyDoc(doc.lastResortPreKey) : null,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

export const toAttachment = (doc: MediaDoc): AttachmentRecord => ({
  id: doc._id,
  kind: doc.kind,
  contentType: doc.contentType,
  size: doc.size,
  fileName: doc.fileName,
  width: doc.width,
  height: doc.height,
  durationMs: doc.durationMs,
  encrypted: doc.encrypted,
  thumbnail: doc.thumbnail ? { width: doc.thumbnail.width, height: doc.thumbnail.height } : null,
});

export const toMedia = (doc: MediaDoc): MediaRecord => ({
  ...toAttachment(doc),
  ownerId: doc.ownerId,
  status: doc.status,
  messageId: doc.messageId,
  createdAt: doc.createdAt,
});
