import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Binary } from 'mongodb';
import { docToRow, groupCallMemberRows, reactionRows, rowToDoc } from '../../src/storage/copy/mongo-rows.js';
import { COLLECTIONS } from '../../src/storage/mongo/collections-setup.js';

const at = new Date('2026-01-02T03:04:05.678Z');
const id = (n: number) => `0190f000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const buffer = (...values: number[]) => Buffer.from(values);

/** One row per table as node-postgres reads it (change positions left out, as the copy reads them). */
const ROWS: Record<string, Record<string, unknown>> = {
  users: { id: id(1), email: 'ann@example.com', name: 'Ann Lee', password_hash: 'h', role: 'user', status: 'active', created_at: at, last_seen_at: null },
  sessions: { id: id(2), user_id: id(1), device_name: 'phone', user_agent: null, ip: '192.0.2.1', created_at: at, last_used_at: at, expires_at: at, revoked_at: null, revoked_reason: null },
  refresh_tokens: { token_hash: 'abc', session_id: id(2), created_at: at, used_at: null },
  push_tokens: { token: 'ExponentPushToken[x]', user_id: id(1), session_id: id(2), device_id: null, updated_at: at },
  push_outbox: {
    id: id(3), token: 'ExponentPushToken[x]', user_id: id(1), kind: 'message', content: { data: { type: 'message' }, priority: 'high' }, coalesce_key: 'c',
    due_at: at, expires_at: at, attempts: 0, lease_until: null, revision: 0, leased_revision: 0, ticket_id: null, sent_at: null, receipt_at: null, created_at: at,
  },
  conversations: { id: id(4), type: 'direct', title: null, direct_low_user_id: id(1), direct_high_user_id: id(5), created_at: at, member_count: 2 },
  conversation_members: { conversation_id: id(4), user_id: id(1), role: 'member', joined_at: at, left_at: null, last_read_message_id: null, last_read_at: null, has_written: true },
  messages: {
    id: id(6), conversation_id: id(4), sender_id: id(1), recipient_id: id(5), text: 'hi', encrypted: null, attachments: [{ id: id(9), kind: 'image' }], client_message_id: 'k',
    created_at: at, delivered_at: null, read_at: null, edited_at: null, deleted_at: null, deleted_by: null, reply_to_id: null, revision: 1,
  },
  message_hides: { user_id: id(1), message_id: id(6), conversation_id: id(4), hidden_at: at },
  user_blocks: { blocker_id: id(1), blocked_id: id(5), created_at: at },
  abuse_reports: { id: id(7), reporter_id: id(1), reported_user_id: id(5), message_id: null, reason: 'spam', details: null, created_at: at },
  calls: { id: id(8), caller_id: id(1), callee_id: id(5), type: 'audio', status: 'ended', created_at: at, answered_at: at, ended_at: at, duration_seconds: 3, end_reason: 'hangup', owner_id: id(99) },
  group_calls: { id: id(10), conversation_id: id(4), started_by: id(1), type: 'video', topology: 'mesh', status: 'ringing', created_at: at, answered_at: null, ended_at: null, duration_seconds: null, end_reason: null, revision: 0, owner_id: id(99) },
  e2ee_devices: {
    session_id: id(2), user_id: id(1), device_id: 'd', registration_id: 5, identity_algorithm: 'ed25519', identity_key: buffer(1, 2),
    signed_prekey_id: 1, signed_prekey: buffer(3), signed_prekey_signature: buffer(4), kyber_prekey_id: null, kyber_prekey: null, kyber_prekey_signature: null,
    last_resort_prekey_id: 2, last_resort_prekey: buffer(5), last_resort_prekey_signature: buffer(6), created_at: at, updated_at: at,
  },
  e2ee_one_time_prekeys: { session_id: id(2), key_id: 12, public_key: buffer(7, 8), signature: null },
  e2ee_to_device_messages: { id: id(11), session_id: id(2), sender_id: id(5), sender_device_id: 'e', type: 1, body: 'b', created_at: at },
  media: {
    id: id(9), owner_id: id(1), status: 'ready', kind: 'image', content_type: 'image/webp', size: '1234', file_name: null, width: 1, height: 2, duration_ms: null,
    thumbnail_width: 3, thumbnail_height: 4, encrypted: false, message_id: id(6), created_at: at, attached_at: at, discarded_at: null,
  },
  audit_log: { id: id(12), at, type: 'user.status_changed', actor_id: id(5), target_user_id: id(1), ip: '192.0.2.1', user_agent: 'ua', details: { from: 'active', to: 'banned', sessionsRevoked: 2 } },
  call_quality: {
    call_id: id(10), user_id: id(1), device_key: id(2), started_at: at, reports: 3, mos: 4.3, band: 'good', rtt_ms: 42.5, max_rtt_ms: 80, jitter_ms: 3, packet_loss_pct: 0.5,
    max_packet_loss_pct: 1, bitrate_in_kbps: 32, bitrate_out_kbps: 31.5, frames_decoded: null, frames_dropped: null, codec: 'audio/opus', relayed: true,
    local_candidate_type: 'host', remote_candidate_type: 'relay', setup_ms: 850, updated_at: at,
  },
};

test('every copied row becomes a document its collection validator accepts, and comes back as the same row', () => {
  for (const [table, row] of Object.entries(ROWS)) {
    const doc = rowToDoc(table, row);
    assert.equal(typeof doc['_id'], 'string', table);
    const spec = COLLECTIONS[table as keyof typeof COLLECTIONS];
    for (const field of Object.keys(spec.fields)) if (field !== 'changePos') assert.ok(field in doc, `${table}.${field}`);
    assert.deepEqual(docToRow(table, doc), row, table);
  }
});

test('what only MongoDB keeps is derived on the way in', () => {
  assert.deepEqual(rowToDoc('users', ROWS['users']!)['nameWords'], ['ann', 'lee']);
  assert.deepEqual(rowToDoc('sessions', ROWS['sessions']!)['endedAt'], at);
  assert.equal(rowToDoc('push_outbox', ROWS['push_outbox']!)['coalesceSlot'], 'c');
  assert.equal(rowToDoc('push_outbox', { ...ROWS['push_outbox']!, ticket_id: 't' })['coalesceSlot'], undefined, 'a sent push holds no slot');
  assert.equal(rowToDoc('conversation_members', ROWS['conversation_members']!)['_id'], `${id(4)}:${id(1)}`);
  assert.deepEqual(rowToDoc('media', ROWS['media']!)['thumbnail'], { width: 3, height: 4 });
  assert.equal(rowToDoc('media', ROWS['media']!)['size'], 1234);
  const device = rowToDoc('e2ee_devices', ROWS['e2ee_devices']!);
  assert.ok(device['identityKey'] instanceof Binary);
  assert.equal(device['kyberPreKey'], null);
  assert.deepEqual((device['signedPreKey'] as { keyId: number }).keyId, 1);
});

test('embedded reactions and group call members come out as their PostgreSQL rows', () => {
  const message = { _id: id(6), reactions: [{ userId: id(1), emoji: '👍', createdAt: at }] };
  assert.deepEqual(reactionRows(message), [{ message_id: id(6), user_id: id(1), emoji: '👍', created_at: at }]);
  const call = { _id: id(10), members: [{ userId: id(1), joinedAt: at, leftAt: null, inCallSince: at, msInCall: 1500, declinedAt: null }] };
  assert.deepEqual(groupCallMemberRows(call), [
    { call_id: id(10), user_id: id(1), position: 0, joined_at: at, left_at: null, in_call_since: at, ms_in_call: '1500', declined_at: null },
  ]);
});
