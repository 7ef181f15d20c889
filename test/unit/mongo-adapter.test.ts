import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { REACTION_USERS_LISTED, REPLY_PREVIEW_LENGTH } from '../../src/protocol/chat.js';
import type { NewPush } from '../../src/push/push-store.js';
import { createLogger } from '../../src/shared/logger.js';
import { decodeCursor, encodeCursor, pageOf } from '../../src/storage/mongo/chat-cursor.js';
import { COLLECTIONS, validatorOf } from '../../src/storage/mongo/collections-setup.js';
import type { MessageDoc } from '../../src/storage/mongo/documents.js';
import { among, by, literal, scalar, startsWith, UnsafeFilterValue } from '../../src/storage/mongo/filters.js';
import { mergeMembers } from '../../src/storage/mongo/group-calls-repository.js';
import { mongoDatabase } from '../../src/storage/mongo/mongo-database.js';
import { redactUri } from '../../src/storage/mongo/mongo-uri.js';
import { mergePushes } from '../../src/storage/mongo/push-outbox-repository.js';
import { seqOf } from '../../src/storage/mongo/account-events-repository.js';
import { auditQueryOf, createAuditRepository } from '../../src/storage/mongo/audit-repository.js';
import type { AuditEntryRecord } from '../../src/audit/audit-store.js';
import { newId } from '../../src/shared/ids.js';
import { auditEntryDoc, endedAt, groupReactions, nameFields, preKeyDoc, toAuditEntry, toDevice, toMessage } from '../../src/storage/mongo/records.js';
import { createMessagesRepository } from '../../src/storage/mongo/messages-repository.js';
import { createUsersRepository } from '../../src/storage/mongo/users-repository.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

describe('MongoDB filters', () => {
  test('only strings, finite numbers, booleans, dates and null pass', () => {
    for (const value of ['x', '$ne', 0, -1.5, true, false, null, at(1)]) assert.equal(scalar(value as never), value);
    for (const value of [{ $ne: null }, ['a'], Number.NaN, Infinity, new Date('nope'), undefined, () => 1, /x/, Symbol('s'), 1n]) {
      assert.throws(() => scalar(value as never), UnsafeFilterValue, String(value));
    }
  });

  test('equality filters and $in lists check every value', () => {
    assert.deepEqual(by({ _id: 'a', status: 'active' }), { _id: 'a', status: 'active' });
    assert.throws(() => by({ email: { $gt: '' } as never }), UnsafeFilterValue);
    assert.deepEqual(among(['a', 'b']), { $in: ['a', 'b'] });
    assert.throws(() => among(['a', { $where: '1' } as never]), UnsafeFilterValue);
    assert.throws(() => among('ab' as never), UnsafeFilterValue);
  });

  test('a value in an aggregation expression is a literal: "$field" is never read as a path', () => {
    assert.deepEqual(literal('$passwordHash'), { $literal: '$passwordHash' });
  });

  test('a prefix pattern matches the text literally', () => {
    const pattern = startsWith('a.b*(c)[d]$^\\');
    assert.ok(pattern.test('a.b*(c)[d]$^\\ and more'));
    assert.ok(!pattern.test('axb*(c)[d]$^\\'));
    assert.ok(!pattern.test('x a.b*(c)[d]$^\\'));
  });

  test('an object where a query takes a value is refused before anything reaches the driver', async () => {
    // Never connected: nothing listens on port 1, and the refusal comes first.
    const client = new MongoClient('mongodb://127.0.0.1:1/unused', { serverSelectionTimeoutMS: 1 });
    const mongo = mongoDatabase(client, client.db());
    const users = createUsersRepository(mongo);
    const messages = createMessagesRepository(mongo, { logger: createLogger({ level: 'silent', pretty: false }) });
    await assert.rejects(users.findByEmail({ $ne: null } as never), UnsafeFilterValue);
    await assert.rejects(users.findById({ $gt: '' } as never), UnsafeFilterValue);
    await assert.rejects(messages.history({ $exists: true } as never, { limit: 10 }), UnsafeFilterValue);
    await assert.rejects(users.search('ann', { limit: 10, excludeId: { $ne: 'x' } as never }), UnsafeFilterValue);
    await assert.rejects(users.list({ limit: 10, after: { $gt: '' } as never }), UnsafeFilterValue);
    await assert.rejects(users.list({ limit: 10, status: { $ne: 'active' } as never }), UnsafeFilterValue);
    const audit = createAuditRepository(mongo);
    await assert.rejects(audit.list({ userId: { $ne: null } as never, limit: 10 }), UnsafeFilterValue);
    await assert.rejects(audit.list({ types: [{ $gt: '' }] as never, limit: 10 }), UnsafeFilterValue);
    await client.close();
  });
});

describe('MongoDB sync cursors', () => {
  test('a cursor round-trips; anything else (another adapter\'s cursor, garbage) is no cursor', () => {
    assert.equal(decodeCursor(encodeCursor(0)), 0);
    assert.equal(decodeCursor(encodeCursor(123456789)), 123456789);
    const postgresCursor = Buffer.from(JSON.stringify({ since: '10:12:' })).toString('base64url');
    for (const cursor of [postgresCursor, 'not-a-cursor', '', Buffer.from('{"m":-1}').toString('base64url'), Buffer.from('{"m":1,"x":2}').toString('base64url')]) {
      assert.equal(decodeCursor(cursor), null, cursor);
    }
  });

  const item = (at: number) => ({ at, change: at });

  test('a page is the changes in position order up to the head, the cursor the head when all fit', () => {
    const page = pageOf([{ items: [item(3), item(1)], frontier: null }, { items: [item(2)], frontier: null }], 5, 10);
    assert.deepEqual(page, { changes: [1, 2, 3], cursor: 5, hasMore: false });
  });

  test('a full page ends at its last change', () => {
    const page = pageOf([{ items: [item(1), item(4)], frontier: null }, { items: [item(2), item(3)], frontier: null }], 9, 3);
    assert.deepEqual(page, { changes: [1, 2, 3], cursor: 3, hasMore: true });
  });

  test('a kind that hit its read limit bounds the page: nothing after its frontier is skipped', () => {
    // The messages read stopped at 4 (hidden ones left out after reading); a conversation change at 6 waits.
    const page = pageOf([{ items: [item(2)], frontier: 4 }, { items: [item(6)], frontier: null }], 9, 3);
    assert.deepEqual(page, { changes: [2], cursor: 4, hasMore: true });
  });
});

describe('MongoDB document <-> domain mapping', () => {
  const message = (overrides: Partial<MessageDoc> = {}): MessageDoc => ({
    _id: 'm2',
    conversationId: 'c',
    senderId: 'u1',
    recipientId: 'u2',
    text: 'hello',
    encrypted: null,
    attachments: null,
    clientMessageId: 'k',
    createdAt: at(1),
    deliveredAt: null,
    readAt: null,
    editedAt: null,
    deletedAt: null,
    deletedBy: null,
    replyToId: null,
    reactions: [],
    revision: 0,
    changePos: 7,
    ...overrides,
  });

  test('reactions are grouped by emoji, the first reacted first, users in the order they reacted', () => {
    const grouped = groupReactions([
      { userId: 'b', emoji: '👍', createdAt: at(3) },
      { userId: 'a', emoji: '❤️', createdAt: at(2) },
      { userId: 'c', emoji: '👍', createdAt: at(2) },
      { userId: 'a', emoji: '👍', createdAt: at(5) },
    ]);
    assert.deepEqual(grouped, [
      { emoji: '❤️', count: 1, userIds: ['a'] },
      { emoji: '👍', count: 3, userIds: ['c', 'b', 'a'] },
    ]);
    const many = Array.from({ length: REACTION_USERS_LISTED + 5 }, (_, index) => ({ userId: `u${String(index).padStart(4, '0')}`, emoji: '🎉', createdAt: at(index) }));
    const [party] = groupReactions(many);
    assert.equal(party!.count, REACTION_USERS_LISTED + 5);
    assert.equal(party!.userIds.length, REACTION_USERS_LISTED);
  });

  test('a message document maps to the record the port returns, with its reply preview counted in characters', () => {
    const quoted = message({ _id: 'm1', text: '😀'.repeat(REPLY_PREVIEW_LENGTH + 10), senderId: 'u2' });
    const record = toMessage(message({ replyToId: 'm1', reactions: [{ userId: 'u2', emoji: '👍', createdAt: at(2) }] }), quoted);
    assert.deepEqual(record, {
      id: 'm2',
      conversationId: 'c',
      senderId: 'u1',
      recipientId: 'u2',
      text: 'hello',
      clientMessageId: 'k',
      createdAt: at(1),
      deliveredAt: null,
      readAt: null,
      editedAt: null,
      deletedAt: null,
      deletedBy: null,
      replyTo: { id: 'm1', senderId: 'u2', text: '😀'.repeat(REPLY_PREVIEW_LENGTH), encrypted: false, deleted: false },
      reactions: [{ emoji: '👍', count: 1, userIds: ['u2'] }],
      revision: 0,
    });
    assert.equal('encrypted' in record, false, 'absent on plain text, as on PostgreSQL');
    assert.equal(toMessage(message({ replyToId: 'gone' }), null).replyTo, null);
  });

  test('search fields: lower-cased name and its distinct words', () => {
    assert.deepEqual(nameFields('Anna-Lena  O\'Brien anna'), { nameLower: "anna-lena  o'brien anna", nameWords: ['anna', 'lena', 'o', 'brien'] });
  });

  test('a session ends at its revocation or its expiry, whichever comes first', () => {
    assert.deepEqual(endedAt(at(10), null), at(10));
    assert.deepEqual(endedAt(at(10), at(5)), at(5));
    assert.deepEqual(endedAt(at(10), at(20)), at(10));
  });

  test('device keys survive the trip through BSON binary data', () => {
    const key = { keyId: 7, publicKey: new Uint8Array([5, 1, 2, 3]), signature: new Uint8Array(64).fill(9) };
    const device = toDevice({
      _id: 's',
      userId: 'u',
      deviceId: 'd',
      registrationId: 1,
      identityAlgorithm: 'ed25519',
      identityKey: preKeyDoc(key).publicKey,
      signedPreKey: preKeyDoc(key),
      kyberPreKey: null,
      lastResortPreKey: preKeyDoc({ ...key, keyId: 8 }),
      createdAt: at(1),
      updatedAt: at(2),
    });
    assert.deepEqual(device.signedPreKey, key);
    assert.deepEqual(device.identityKey, key.publicKey);
    assert.equal(device.lastResortPreKey!.keyId, 8);
    assert.ok(device.identityKey instanceof Uint8Array);
  });

  test('pushes of one call with the same user and key are one: the last content, the first due time', () => {
    const push = (userId: string, coalesceKey: string | null, title: string, due: number): NewPush => ({
      userId,
      kind: 'message',
      content: { title, data: {}, priority: 'high' },
      dueAt: at(due),
      expiresAt: at(100),
      coalesceKey,
    });
    const merged = mergePushes([push('a', 'c1', 'one', 1), push('b', 'c1', 'other user', 2), push('a', 'c1', 'two', 3), push('a', null, 'x', 4), push('a', null, 'y', 5)]);
    assert.deepEqual(
      merged.map((entry) => [entry.userId, entry.content.title, entry.dueAt.getTime()]),
      [
        ['a', 'two', at(1).getTime()],
        ['b', 'other user', at(2).getTime()],
        ['a', 'x', at(4).getTime()],
        ['a', 'y', at(5).getTime()],
      ],
    );
  });

  test('a group call transition writes its changed members, the others as stored', () => {
    const member = (userId: string, msInCall: number) => ({ userId, joinedAt: null, leftAt: null, inCallSince: null, msInCall, declinedAt: null });
    const merged = mergeMembers([member('a', 1), member('b', 1)], [member('a', 50), member('b', 50), member('c', 50)], ['b', 'c']);
    assert.deepEqual(merged, [member('a', 1), member('b', 50), member('c', 50)]);
  });

  test('every collection has a validator requiring its fields, with their BSON types', () => {
    const users = validatorOf(COLLECTIONS.users).$jsonSchema;
    assert.ok(users.required.includes('email') && users.required.includes('passwordHash'));
    assert.deepEqual(users.properties['lastSeenAt'], { bsonType: ['date', 'null'] });
    for (const [name, spec] of Object.entries(COLLECTIONS)) assert.ok('_id' in spec.fields, name);
  });
});

describe('MongoDB audit log', () => {
  test('a filter is the user as actor or target, the types, a window [from, to) and ids below the cursor', () => {
    assert.deepEqual(auditQueryOf({}), {});
    assert.deepEqual(auditQueryOf({ userId: 'u', types: ['login.failed', 'session.revoked'], from: at(1), to: at(2), before: 'c' }), {
      $or: [{ actorId: 'u' }, { targetUserId: 'u' }],
      type: { $in: ['login.failed', 'session.revoked'] },
      at: { $gte: at(1), $lt: at(2) },
      _id: { $lt: 'c' },
    });
    assert.deepEqual(auditQueryOf({ to: at(2) }), { at: { $lt: at(2) } });
    assert.deepEqual(auditQueryOf({ types: [] }), { type: { $in: [] } }, 'no types: nothing matches');
  });

  test('an entry survives the trip through its document; details hold plain values only', () => {
    const entry = {
      id: 'e1',
      at: at(3),
      type: 'user.status_changed',
      actorId: 'admin',
      targetUserId: 'u',
      ip: null,
      userAgent: 'ua',
      details: { from: 'active', to: 'banned', sessionsRevoked: 2 },
    } as AuditEntryRecord;
    assert.deepEqual(toAuditEntry(auditEntryDoc(entry)), entry);
    assert.throws(() => auditEntryDoc({ ...entry, details: { from: { $set: 'x' } } } as never), UnsafeFilterValue);
  });
});

test('account event seqs are decimal numbers that grow with their ids', () => {
  const ids = Array.from({ length: 50 }, () => newId());
  const seqs = ids.map((id) => BigInt(seqOf(id)));
  for (let i = 1; i < seqs.length; i += 1) assert.ok(seqs[i - 1]! < seqs[i]!);
  assert.match(seqOf(ids[0]!), /^\d+$/);
});

test('connection strings lose their password in messages', () => {
  assert.equal(redactUri('mongodb://app:s3cret@db1:27017,db2:27017/app?replicaSet=rs0'), 'mongodb://app:***@db1:27017,db2:27017/app?replicaSet=rs0');
  assert.equal(redactUri('mongodb+srv://app:p%40ss@cluster.example.net/app'), 'mongodb+srv://app:***@cluster.example.net/app');
  assert.equal(redactUri('mongodb://127.0.0.1:27017/app'), 'mongodb://127.0.0.1:27017/app');
  assert.equal(redactUri('mongodb://x509user@db/app'), 'mongodb://x509user@db/app');
});
