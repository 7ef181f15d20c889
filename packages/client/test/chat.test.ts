import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ApiError } from '../src/index.js';
import { newId } from '../../../src/shared/ids.js';
import { closeSdkClients, eventually, signedInClient } from '../../../test/support/sdk.js';
import { useTestApp } from '../../../test/support/test-app.js';

const kind = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';

/** The CHAT_MESSAGE events a client's socket sent. */
function outgoingSends(client: Awaited<ReturnType<typeof signedInClient>>): { count: number } {
  const box = { count: 0 };
  client.realtime.socket.onAnyOutgoing((event) => {
    if (event === 'CHAT_MESSAGE') box.count += 1;
  });
  return box;
}

describe(`client SDK: chat (${kind})`, () => {
  const server = useTestApp(kind);
  after(closeSdkClients);

  test('direct chat: message, unread count, typing, read receipt', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const bobId = bob.user!.id;

    const typing = new Promise<string[]>((resolve) => bob.chat.on('typing', (_conversation, userIds) => userIds.length && resolve(userIds)));
    // The first typing needs the conversation: send first, then type.
    const incoming = new Promise((resolve) => bob.chat.on('message', resolve));
    const sent = await alice.chat.send({ to: bobId }, 'Hello Bob');
    await incoming;
    alice.chat.typing({ to: bobId });
    assert.deepEqual(await typing, [alice.user!.id]);

    const [conversation] = await bob.chat.conversations();
    assert.equal(conversation?.id, sent.conversationId);
    assert.equal(conversation?.unreadCount, 1);
    assert.deepEqual((await bob.chat.messages(sent.conversationId)).map((m) => m.text), ['Hello Bob']);

    await bob.chat.markRead(sent.conversationId);
    assert.equal((await bob.chat.store.getConversation(sent.conversationId))?.unreadCount, 0);
    const read = await eventually(async () => (await alice.chat.store.getMessage(sent.id))?.readAt, 'the read receipt');
    assert.ok(read);
  });

  test('a retry with the same client message id is stored and delivered once; a refusal is not retried', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const received: string[] = [];
    bob.chat.on('message', (message) => received.push(message.id));
    const first = await alice.chat.send({ to: bob.user!.id }, 'once', { clientMessageId: 'retry-1' });
    const again = await alice.chat.send({ to: bob.user!.id }, 'once', { clientMessageId: 'retry-1' });
    assert.equal(again.id, first.id);
    await eventually(() => received.length === 1, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(received, [first.id]);

    const sends = outgoingSends(alice);
    const refused = await alice.chat.send({ to: newId() }, 'to nobody').catch((error: unknown) => error);
    assert.ok(refused instanceof ApiError && refused.code === 'NOT_FOUND');
    assert.equal(sends.count, 1);
    assert.equal(alice.chat.pending().find((p) => p.text === 'to nobody')?.status, 'failed');
  });

  test('offline: messages sent meanwhile arrive through sync on reconnect; a send made offline goes out once connected', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const { conversationId } = await alice.chat.send({ to: bob.user!.id }, 'before');
    await eventually(async () => (await bob.chat.messages(conversationId)).length === 1, 'the first message');
    const cursor = await bob.chat.store.getCursor();

    bob.realtime.disconnect();
    await alice.chat.send({ conversationId }, 'while you were away 1');
    await alice.chat.send({ conversationId }, 'while you were away 2');
    bob.connect();
    const texts = await eventually(async () => {
      const list = (await bob.chat.messages(conversationId)).map((m) => m.text);
      return list.length === 3 && list;
    }, 'the sync');
    assert.deepEqual(texts, ['before', 'while you were away 1', 'while you were away 2']);
    assert.notEqual(await bob.chat.store.getCursor(), cursor);
    assert.equal((await bob.chat.store.getConversation(conversationId))?.unreadCount, 3);

    alice.realtime.disconnect();
    const sending = alice.chat.send({ conversationId }, 'sent offline');
    assert.equal(alice.chat.pending(conversationId)[0]?.status, 'sending');
    alice.connect();
    const message = await sending;
    assert.equal(message.text, 'sent offline');
    assert.deepEqual(alice.chat.pending(conversationId), []);
    await eventually(async () => (await bob.chat.store.getMessage(message.id)) !== undefined, 'the offline send at Bob');
  });

  test('groups: create, members are told, group messages and read positions', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    // A name of her own: the database may hold other tests' Carols, more than a page of them.
    const carolName = `Carol-${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6)}`;
    const carol = await signedInClient(server.baseUrl, carolName);
    const found = await alice.chat.searchPeople(carolName);
    assert.ok(found.some((person) => person.id === carol.user!.id));

    const group = await alice.chat.createGroup('Trio', [bob.user!.id, carol.user!.id]);
    await eventually(async () => (await carol.chat.store.getConversation(group.id))?.title === 'Trio', 'the group at Carol');
    const message = await bob.chat.send({ conversationId: group.id }, 'hi all');
    await eventually(async () => (await carol.chat.store.getMessage(message.id)) !== undefined, 'the group message at Carol');
    await eventually(async () => (await alice.chat.store.getConversation(group.id))?.unreadCount === 1, 'the unread count at Alice');

    await carol.chat.markRead(group.id);
    const readers = await eventually(async () => {
      const conversation = await bob.chat.store.getConversation(group.id);
      const stored = await bob.chat.store.getMessage(message.id);
      const names = conversation && stored ? bob.chat.readBy(conversation, stored).map((m) => m.name) : [];
      return names.length > 0 && names;
    }, 'the read position at Bob');
    assert.ok(readers.includes(carolName));

    await carol.chat.leaveGroup(group.id);
    assert.equal(await carol.chat.store.getConversation(group.id), undefined);
    await eventually(async () => (await alice.chat.store.getConversation(group.id))?.memberCount === 2, 'the leave at Alice');
  });
});
