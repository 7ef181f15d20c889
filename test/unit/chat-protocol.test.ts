import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sendMessagePayload, syncQuery } from '../../src/protocol/chat.js';
import { newId } from '../../src/shared/ids.js';

const to = newId();
const issuesOf = (payload: unknown) => sendMessagePayload.safeParse(payload).error?.issues.map((issue) => issue.message) ?? [];

describe('chat message payload', () => {
  test('text is 1..4000 characters counted as code points, stored as sent', () => {
    for (const text of ['a', ' padded ', 'x'.repeat(4000), '👋'.repeat(4000), 'line\nbreak']) {
      assert.equal(sendMessagePayload.parse({ to, text }).text, text);
    }
    assert.deepEqual(issuesOf({ to, text: 'x'.repeat(4001) }), ['must be at most 4000 characters']);
    assert.deepEqual(issuesOf({ to, text: '👋'.repeat(4001) }), ['must be at most 4000 characters']);
    for (const text of ['', '   ', '\n\t']) assert.deepEqual(issuesOf({ to, text }), ['must not be empty or blank']);
  });

  test('text that PostgreSQL or UTF-8 cannot hold is refused', () => {
    for (const text of ['a\u0000b', 'lone \ud83d high', 'lone \udc4b low']) {
      assert.deepEqual(issuesOf({ to, text }), ['must be valid Unicode text without NUL characters']);
    }
  });

  test('clientMessageId is optional, 1..100 safe characters', () => {
    assert.equal(sendMessagePayload.parse({ to, text: 'hi' }).clientMessageId, undefined);
    for (const clientMessageId of [newId(), 'V1StGXR8_Z5jdHi6B-myT', 'device:42.7']) {
      assert.equal(sendMessagePayload.parse({ to, text: 'hi', clientMessageId }).clientMessageId, clientMessageId);
    }
    for (const clientMessageId of ['', 'x'.repeat(101), 'has space', 'nul\u0000', 7]) {
      assert.equal(sendMessagePayload.safeParse({ to, text: 'hi', clientMessageId }).success, false);
    }
  });

  test('ids are read in lower case and unknown fields are dropped', () => {
    const parsed = sendMessagePayload.parse({ to: to.toUpperCase(), text: 'hi', from: newId() });
    assert.deepEqual(parsed, { to, text: 'hi' });
  });

  test('names exactly one of a recipient (to) and a conversation (conversationId)', () => {
    const conversationId = newId();
    assert.deepEqual(sendMessagePayload.parse({ conversationId, text: 'hi' }), { conversationId, text: 'hi' });
    for (const target of [{}, { to, conversationId }]) assert.deepEqual(issuesOf({ ...target, text: 'hi' }), ['give exactly one of to and conversationId']);
  });
});

describe('sync query', () => {
  test('after is an optional cursor: URL-safe text of bounded length (the storage adapter reads it)', () => {
    assert.deepEqual(syncQuery.parse({}), { limit: 50 });
    assert.deepEqual(syncQuery.parse({ after: 'eyJzaW5jZSI6IjE6MToifQ', limit: '100' }), { after: 'eyJzaW5jZSI6IjE6MToifQ', limit: 100 });
    for (const after of ['', '1.5', 'a b', 'a=', ['abc'], 'a'.repeat(8001)]) assert.equal(syncQuery.safeParse({ after }).success, false, String(after));
  });
});
