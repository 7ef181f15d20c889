import type { Db, IndexDescription } from 'mongodb';
import type { CollectionName } from './documents.js';

type BsonType = 'string' | 'date' | 'int' | 'long' | 'double' | 'number' | 'bool' | 'object' | 'array' | 'binData' | 'null';
type FieldType = BsonType | BsonType[];

const nullable = (type: BsonType): FieldType => [type, 'null'];
const str = 'string';
const date = 'date';
const num = 'number';

/**
 * What each collection holds: the required fields with their BSON types, enforced by a $jsonSchema
 * validator (validationLevel strict, action error), so a document of the wrong shape is refused by the
 * server, and the indexes, each the equivalent of a PostgreSQL one (named after it where there is one).
 */
interface CollectionSpec {
  fields: Record<string, FieldType>;
  indexes: IndexDescription[];
}

const changePos = { changePos: num } as const;

export const COLLECTIONS: Record<CollectionName, CollectionSpec> = {
  users: {
    fields: { _id: str, email: str, name: str, nameLower: str, nameWords: 'array', passwordHash: str, role: str, status: str, createdAt: date, lastSeenAt: nullable(date) },
    indexes: [
      { key: { email: 1 }, unique: true, name: 'users_email_key' },
      { key: { status: 1, nameLower: 1, _id: 1 }, name: 'users_search_name_idx' },
      { key: { nameWords: 1 }, name: 'users_name_words_idx' },
    ],
  },
  sessions: {
    fields: { _id: str, userId: str, createdAt: date, lastUsedAt: date, expiresAt: date, revokedAt: nullable(date), endedAt: date },
    indexes: [
      { key: { userId: 1, lastUsedAt: -1 }, name: 'sessions_user_idx' },
      { key: { endedAt: 1 }, name: 'sessions_ended_idx' },
    ],
  },
  refresh_tokens: {
    fields: { _id: str, sessionId: str, createdAt: date, usedAt: nullable(date) },
    indexes: [{ key: { sessionId: 1 }, name: 'refresh_tokens_session_idx' }],
  },
  push_tokens: {
    fields: { _id: str, userId: str, sessionId: nullable(str), deviceId: nullable(str), updatedAt: date },
    indexes: [
      { key: { userId: 1, updatedAt: -1 }, name: 'push_tokens_user_idx' },
      // A session holds one token (unique, as in PostgreSQL); tokens stored before sessions have none.
      { key: { sessionId: 1 }, unique: true, partialFilterExpression: { sessionId: { $type: 'string' } }, name: 'push_tokens_session_idx' },
    ],
  },
  push_outbox: {
    fields: { _id: str, token: str, userId: str, kind: str, content: 'object', dueAt: date, expiresAt: date, attempts: num, revision: num, leasedRevision: num, createdAt: date },
    indexes: [
      { key: { token: 1, coalesceSlot: 1 }, unique: true, partialFilterExpression: { coalesceSlot: { $type: 'string' } }, name: 'push_outbox_coalesce_key' },
      { key: { ticketId: 1, dueAt: 1 }, name: 'push_outbox_due_idx' },
      { key: { ticketId: 1, receiptAt: 1 }, name: 'push_outbox_receipt_idx' },
      { key: { token: 1 }, name: 'push_outbox_token_idx' },
    ],
  },
  messages: {
    fields: { _id: str, conversationId: str, senderId: str, text: str, createdAt: date, reactions: 'array', revision: num, ...changePos },
    indexes: [
      { key: { conversationId: 1, _id: -1 }, name: 'messages_history_idx' },
      { key: { conversationId: 1, changePos: 1 }, name: 'messages_changes_idx' },
      { key: { senderId: 1, clientMessageId: 1 }, unique: true, partialFilterExpression: { clientMessageId: { $type: 'string' } }, name: 'messages_sender_client_message_key' },
      { key: { conversationId: 1, recipientId: 1, readAt: 1, _id: 1 }, name: 'messages_direct_unread_idx' },
      { key: { replyToId: 1 }, partialFilterExpression: { replyToId: { $type: 'string' } }, name: 'messages_reply_to_idx' },
    ],
  },
  message_hides: {
    fields: { _id: str, userId: str, messageId: str, conversationId: str, hiddenAt: date, ...changePos },
    indexes: [{ key: { userId: 1, changePos: 1 }, name: 'message_hides_changes_idx' }],
  },
  user_blocks: {
    fields: { _id: str, blockerId: str, blockedId: str, createdAt: date },
    indexes: [
      { key: { blockerId: 1, createdAt: -1, blockedId: -1 }, name: 'user_blocks_list_idx' },
      { key: { blockedId: 1, blockerId: 1 }, name: 'user_blocks_blocked_idx' },
    ],
  },
  abuse_reports: {
    fields: { _id: str, reporterId: str, reportedUserId: str, reason: str, createdAt: date },
    indexes: [],
  },
  conversations: {
    fields: { _id: str, type: str, createdAt: date, memberCount: num, ...changePos },
    indexes: [
      {
        key: { directLowUserId: 1, directHighUserId: 1 },
        unique: true,
        partialFilterExpression: { type: 'direct' },
        name: 'conversations_direct_pair_key',
      },
      { key: { _id: 1, changePos: 1 }, name: 'conversations_changes_idx' },
    ],
  },
  conversation_members: {
    fields: { _id: str, conversationId: str, userId: str, role: str, joinedAt: date, leftAt: nullable(date), hasWritten: 'bool', ...changePos },
    indexes: [
      { key: { conversationId: 1, leftAt: 1, joinedAt: 1, userId: 1 }, name: 'conversation_members_current_idx' },
      { key: { userId: 1, leftAt: 1 }, name: 'conversation_members_user_idx' },
      { key: { conversationId: 1, changePos: 1 }, name: 'conversation_members_changes_idx' },
      { key: { userId: 1, changePos: 1 }, name: 'conversation_members_user_changes_idx' },
    ],
  },
  calls: {
    fields: { _id: str, callerId: str, calleeId: str, type: str, status: str, createdAt: date, ownerId: str },
    indexes: [
      { key: { callerId: 1, _id: -1 }, name: 'calls_caller_idx' },
      { key: { calleeId: 1, _id: -1 }, name: 'calls_callee_idx' },
      { key: { status: 1, ownerId: 1 }, name: 'calls_unfinished_idx' },
      { key: { createdAt: 1 }, name: 'calls_created_at_idx' },
    ],
  },
  group_calls: {
    fields: { _id: str, conversationId: str, startedBy: str, type: str, topology: str, status: str, createdAt: date, revision: num, ownerId: str, members: 'array' },
    indexes: [
      { key: { 'members.userId': 1, _id: -1 }, name: 'group_call_members_user_idx' },
      { key: { status: 1, ownerId: 1 }, name: 'group_calls_unfinished_idx' },
      { key: { createdAt: 1 }, name: 'group_calls_created_at_idx' },
    ],
  },
  account_events: {
    fields: { _id: str, userId: str, kind: str, createdAt: date },
    indexes: [{ key: { createdAt: 1 }, name: 'account_events_created_idx' }],
  },
  e2ee_devices: {
    fields: { _id: str, userId: str, deviceId: str, identityAlgorithm: str, identityKey: 'binData', signedPreKey: 'object', createdAt: date, updatedAt: date },
    indexes: [{ key: { userId: 1, deviceId: 1 }, unique: true, name: 'e2ee_devices_user_id_device_id_key' }],
  },
  e2ee_one_time_prekeys: {
    fields: { _id: str, sessionId: str, keyId: num, publicKey: 'binData' },
    indexes: [{ key: { sessionId: 1, keyId: 1 }, name: 'e2ee_one_time_prekeys_pkey' }],
  },
  e2ee_to_device_messages: {
    fields: { _id: str, sessionId: str, senderId: str, senderDeviceId: str, type: num, body: str, createdAt: date },
    indexes: [{ key: { sessionId: 1, _id: 1 }, name: 'e2ee_to_device_messages_session_idx' }],
  },
  media: {
    fields: { _id: str, ownerId: str, status: str, kind: str, contentType: str, size: num, encrypted: 'bool', createdAt: date },
    indexes: [
      { key: { ownerId: 1, discardedAt: 1, createdAt: 1 }, name: 'media_owner_idx' },
      { key: { attachedAt: 1, discardedAt: 1, createdAt: 1 }, name: 'media_unattached_idx' },
      { key: { messageId: 1 }, name: 'media_message_idx' },
      { key: { discardedAt: 1 }, partialFilterExpression: { discardedAt: { $type: 'date' } }, name: 'media_discarded_idx' },
    ],
  },
  counters: { fields: { _id: str, value: num }, indexes: [] },
  processes: {
    fields: { _id: str, beatAt: date, expiresAt: date },
    indexes: [{ key: { expiresAt: 1 }, expireAfterSeconds: 0, name: 'processes_expiry_ttl' }],
  },
  media_budgets: { fields: { _id: str, uploads: num }, indexes: [] },
  audit_log: {
    fields: { _id: str, at: date, type: str, actorId: nullable(str), targetUserId: nullable(str), ip: nullable(str), userAgent: nullable(str), details: 'object' },
    indexes: [
      { key: { at: 1 }, name: 'audit_log_at_idx' },
      { key: { actorId: 1, _id: -1 }, name: 'audit_log_actor_idx' },
      { key: { targetUserId: 1, _id: -1 }, name: 'audit_log_target_idx' },
      { key: { type: 1, _id: -1 }, name: 'audit_log_type_idx' },
    ],
  },
  call_quality: {
    fields: {
      _id: str,
      callId: str,
      userId: str,
      deviceKey: str,
      startedAt: date,
      reports: num,
      mos: num,
      band: str,
      rttMs: nullable(num),
      maxRttMs: nullable(num),
      jitterMs: nullable(num),
      packetLossPct: nullable(num),
      maxPacketLossPct: nullable(num),
      bitrateInKbps: nullable(num),
      bitrateOutKbps: nullable(num),
      framesDecoded: nullable(num),
      framesDropped: nullable(num),
      codec: nullable(str),
      relayed: 'bool',
      localCandidateType: nullable(str),
      remoteCandidateType: nullable(str),
      setupMs: nullable(num),
      updatedAt: date,
    },
    indexes: [
      { key: { callId: 1 }, name: 'call_quality_call_idx' },
      { key: { startedAt: 1 }, name: 'call_quality_started_at_idx' },
    ],
  },
};

const NAMESPACE_EXISTS = 48;

/** The $jsonSchema validator of a collection from its spec. */
export function validatorOf(spec: CollectionSpec) {
  return {
    $jsonSchema: {
      bsonType: 'object',
      required: Object.keys(spec.fields),
      properties: Object.fromEntries(Object.entries(spec.fields).map(([field, type]) => [field, { bsonType: type }])),
    },
  };
}

/**
 * Creates every collection with its validator (or brings an existing one's validator up to date) and
 * its indexes. Idempotent, run at every start; index builds of an existing index are no-ops.
 */
export async function prepareCollections(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((info) => info.name));
  for (const [name, spec] of Object.entries(COLLECTIONS)) {
    const validation = { validator: validatorOf(spec), validationLevel: 'strict', validationAction: 'error' } as const;
    // Another process starting at the same time may create it first (NamespaceExists): then it is updated as an existing one.
    const created = existing.has(name)
      ? false
      : await db.createCollection(name, validation).then(
          () => true,
          (error: unknown) => {
            if ((error as { code?: number }).code === NAMESPACE_EXISTS) return false;
            throw error;
          },
        );
    if (!created) await db.command({ collMod: name, ...validation });
    if (spec.indexes.length > 0) await db.collection(name).createIndexes(spec.indexes);
  }
}
