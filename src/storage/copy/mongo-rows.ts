import { Binary } from 'mongodb';
import { linkId, qualityId } from '../mongo/documents.js';
import { endedAt, nameFields } from '../mongo/records.js';
import type { Row } from './tables.js';

/**
 * PostgreSQL rows <-> MongoDB documents, for the copy. Columns map to fields by name (snake_case to
 * camelCase), the key to `_id` (a link table's to "a:b"), bytea to binary data, bigint text to numbers;
 * the rest is per table: fields only MongoDB keeps (search words, a session's end, the coalesce slot)
 * are derived on the way in and dropped on the way out, prekeys nest, a thumbnail is one field.
 */
const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The column that is `_id` in each collection whose key is one column; link tables build theirs. */
const ID_COLUMN: Record<string, string> = {
  users: 'id',
  sessions: 'id',
  refresh_tokens: 'token_hash',
  push_tokens: 'token',
  push_outbox: 'id',
  conversations: 'id',
  messages: 'id',
  abuse_reports: 'id',
  calls: 'id',
  group_calls: 'id',
  e2ee_devices: 'session_id',
  e2ee_to_device_messages: 'id',
  media: 'id',
  audit_log: 'id',
};

const LINK_ID: Record<string, (row: Row) => string> = {
  conversation_members: (row) => linkId(String(row['conversation_id']), String(row['user_id'])),
  message_hides: (row) => linkId(String(row['user_id']), String(row['message_id'])),
  user_blocks: (row) => linkId(String(row['blocker_id']), String(row['blocked_id'])),
  e2ee_one_time_prekeys: (row) => linkId(String(row['session_id']), Number(row['key_id'])),
  call_quality: (row) => qualityId(String(row['call_id']), String(row['user_id']), String(row['device_key'])),
};

/** Fields only the MongoDB documents of a table have, dropped when they become rows. */
const MONGO_ONLY: Record<string, string[]> = {
  users: ['nameLower', 'nameWords'],
  sessions: ['endedAt', 'guardedAt'],
  push_outbox: ['coalesceSlot', 'leaseId'],
  messages: ['changePos', 'reactions'],
  message_hides: ['changePos'],
  conversations: ['changePos'],
  conversation_members: ['changePos'],
  group_calls: ['members'],
  e2ee_devices: ['preKeyWrites'],
};

const BIGINT_TEXT: Record<string, string[]> = { media: ['size'], group_call_members: ['ms_in_call'] };

/** A device's prekey columns (`<prefix>_id`, `<prefix>`, `<prefix>_signature`) and the field that nests them. */
const PREKEYS = { signed_prekey: 'signedPreKey', kyber_prekey: 'kyberPreKey', last_resort_prekey: 'lastResortPreKey' } as const;

const toBinaryValue = (value: unknown) => (Buffer.isBuffer(value) || value instanceof Uint8Array ? new Binary(Buffer.from(value)) : value);
const fromBinaryValue = (value: unknown) => (value instanceof Binary ? Buffer.from(value.value()) : value);

/** A PostgreSQL row of `table` as the MongoDB document of its collection (without a change position). */
export function rowToDoc(table: string, row: Row): Row {
  const source: Row = { ...row };
  for (const column of BIGINT_TEXT[table] ?? []) if (source[column] !== null && source[column] !== undefined) source[column] = Number(source[column]);
  const doc: Row = {};
  const idColumn = ID_COLUMN[table];
  for (const [column, value] of Object.entries(source)) {
    if (column === 'change_xid' || column === 'change_pos') continue;
    doc[column === idColumn ? '_id' : camel(column)] = toBinaryValue(value);
  }
  const link = LINK_ID[table];
  if (link) doc['_id'] = link(row);
  switch (table) {
    case 'users':
      Object.assign(doc, nameFields(String(row['name'])));
      break;
    case 'sessions':
      doc['endedAt'] = endedAt(row['expires_at'] as Date, (row['revoked_at'] as Date | null) ?? null);
      break;
    case 'push_outbox':
      if (row['ticket_id'] === null && row['coalesce_key'] !== null) doc['coalesceSlot'] = row['coalesce_key'];
      break;
    case 'messages':
      doc['reactions'] = [];
      break;
    case 'group_calls':
      doc['members'] = [];
      break;
    case 'e2ee_devices':
      for (const [prefix, field] of Object.entries(PREKEYS)) {
        const id = row[`${prefix}_id`];
        delete doc[camel(prefix)];
        delete doc[camel(`${prefix}_id`)];
        delete doc[camel(`${prefix}_signature`)];
        doc[field] = id === null || id === undefined ? null : { keyId: id, publicKey: toBinaryValue(row[prefix]), signature: toBinaryValue(row[`${prefix}_signature`]) };
      }
      break;
    case 'media':
      doc['thumbnail'] = row['thumbnail_width'] === null ? null : { width: row['thumbnail_width'], height: row['thumbnail_height'] };
      delete doc['thumbnailWidth'];
      delete doc['thumbnailHeight'];
      break;
  }
  return doc;
}

/** A MongoDB document of `table`'s collection as its PostgreSQL row. */
export function docToRow(table: string, doc: Row): Row {
  const row: Row = {};
  const idColumn = ID_COLUMN[table];
  const mongoOnly = new Set<string>([...(MONGO_ONLY[table] ?? []), ...(table === 'e2ee_devices' ? Object.values(PREKEYS) : [])]);
  for (const [field, value] of Object.entries(doc)) {
    if (mongoOnly.has(field)) continue;
    if (field === '_id') {
      if (idColumn) row[idColumn] = value;
      continue;
    }
    row[snake(field)] = fromBinaryValue(value);
  }
  switch (table) {
    case 'e2ee_devices':
      for (const [prefix, field] of Object.entries(PREKEYS)) {
        const key = doc[field] as { keyId: number; publicKey: Binary; signature: Binary } | null;
        row[`${prefix}_id`] = key?.keyId ?? null;
        row[prefix] = key ? fromBinaryValue(key.publicKey) : null;
        row[`${prefix}_signature`] = key ? fromBinaryValue(key.signature) : null;
      }
      break;
    case 'media': {
      const thumbnail = doc['thumbnail'] as { width: number; height: number } | null;
      delete row['thumbnail'];
      row['thumbnail_width'] = thumbnail?.width ?? null;
      row['thumbnail_height'] = thumbnail?.height ?? null;
      break;
    }
  }
  for (const column of BIGINT_TEXT[table] ?? []) if (typeof row[column] === 'number') row[column] = String(row[column]);
  return row;
}

/** A message's reactions as message_reactions rows. */
export const reactionRows = (doc: Row): Row[] =>
  (doc['reactions'] as { userId: string; emoji: string; createdAt: Date }[]).map((reaction) => ({
    message_id: doc['_id'],
    user_id: reaction.userId,
    emoji: reaction.emoji,
    created_at: reaction.createdAt,
  }));

/** A group call's members as group_call_members rows (position: their place in the call's list). */
export const groupCallMemberRows = (doc: Row): Row[] =>
  (doc['members'] as Row[]).map((member, position) => ({ ...docToRow('group_call_members', member), call_id: doc['_id'], position }));
