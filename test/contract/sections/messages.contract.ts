import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { NewMessage } from '../../../src/storage/ports.js';
import type { ContractContext } from '../storage-contract.js';

export function messagesContract(ctx: ContractContext): void {
  const messages = () => ctx.storage.messages;
  const newMessage = (senderId: string, recipientId: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
    id: newId(),
    senderId,
    recipientId,
    text: `text ${randomUUID()}`,
    clientMessageId: randomUUID(),
    createdAt: new Date(),
    ...overrides,
  });
  const twoUsers = () => Promise.all([ctx.createUser(), ctx.createUser()]);

  test('create stores a message, without receipts, at the next position of both parties’ streams', async () => {
    const [alice, bob] = await twoUsers();
    const input = newMessage(alice.id, bob.id);
    const first = await messages().create(input);
    assert.deepEqual(first, { created: true, message: { ...input, deliveredAt: null, readAt: null }, senderSeq: 1, recipientSeq: 1 });
    assert.deepEqual(await messages().findById(input.id), first.message);
    const reply = await messages().create(newMessage(bob.id, alice.id, { clientMessageId: null }));
    assert.deepEqual([reply.senderSeq, reply.recipientSeq], [2, 2]);
    assert.equal(await messages().streamHead(alice.id), 2);
    assert.equal(await messages().findById(newId()), null);
  });

  test('create is idempotent per (sender, clientMessageId), also under concurrent retries', async () => {
    const [alice, bob] = await twoUsers();
    const input = newMessage(alice.id, bob.id);
    const first = await messages().create(input);
    // The stored message comes back whatever the new one holds: the service tells a retry from a reuse.
    const retry = await messages().create({ ...input, id: newId(), text: 'changed on retry' });
    assert.deepEqual(retry, { ...first, created: false });

    const racing = newMessage(alice.id, bob.id);
    const results = await Promise.all(Array.from({ length: 5 }, () => messages().create({ ...racing, id: newId() })));
    assert.equal(results.filter((result) => result.created).length, 1);
    assert.equal(new Set(results.map((result) => result.message.id)).size, 1);
    // Another sender may use the same clientMessageId, and without one nothing is deduplicated.
    assert.equal((await messages().create(newMessage(bob.id, alice.id, { clientMessageId: input.clientMessageId }))).created, true);
    for (let i = 0; i < 2; i += 1) assert.equal((await messages().create(newMessage(alice.id, bob.id, { clientMessageId: null }))).created, true);
    assert.equal((await messages().history(alice.id, bob.id, { limit: 100 })).length, 5);
  });

  test('contactsAmong gives the users among the ids who have sent the user a message', async () => {
    const [alice, bob] = await twoUsers();
    const [carol, dave] = await twoUsers();
    await messages().create(newMessage(bob.id, alice.id));
    await messages().create(newMessage(alice.id, carol.id));
    await messages().create(newMessage(carol.id, dave.id));
    const ids = [bob.id, carol.id, dave.id, newId()];
    assert.deepEqual(await messages().contactsAmong(alice.id, ids), new Set([bob.id]));
    assert.deepEqual(await messages().contactsAmong(bob.id, ids), new Set());
    assert.deepEqual(await messages().contactsAmong(carol.id, [alice.id, bob.id, dave.id]), new Set([alice.id]));
    // Once the peer writes back, both are each other's contacts.
    await messages().create(newMessage(carol.id, alice.id));
    assert.deepEqual(await messages().contactsAmong(alice.id, ids), new Set([bob.id, carol.id]));
    assert.deepEqual(await messages().contactsAmong(alice.id, []), new Set());
  });

  test('history is the pair’s conversation, newest first, paged by the message id cursor', async () => {
    const [alice, bob] = await twoUsers();
    const carol = await ctx.createUser();
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      const [from, to] = i % 2 ? [bob, alice] : [alice, bob];
      ids.push((await messages().create(newMessage(from.id, to.id))).message.id);
      await messages().create(newMessage(carol.id, alice.id));
    }
    const newestFirst = [...ids].reverse();
    assert.deepEqual((await messages().history(bob.id, alice.id, { limit: 10 })).map((m) => m.id), newestFirst);
    assert.deepEqual((await messages().history(alice.id, bob.id, { limit: 2 })).map((m) => m.id), newestFirst.slice(0, 2));
    assert.deepEqual((await messages().history(alice.id, bob.id, { before: newestFirst[1], limit: 2 })).map((m) => m.id), newestFirst.slice(2, 4));
    assert.deepEqual(await messages().history(bob.id, carol.id, { limit: 10 }), []);
  });

  test('markRead marks the unread messages from that sender up to the id, once, delivering them too', async () => {
    const [alice, bob] = await twoUsers();
    const delivered = (await messages().create(newMessage(alice.id, bob.id))).message;
    const deliveredAt = new Date('2030-01-01T00:00:00.000Z');
    await messages().markDelivered({ messageId: delivered.id, senderId: alice.id, at: deliveredAt });
    const second = (await messages().create(newMessage(alice.id, bob.id))).message;
    const fromBob = (await messages().create(newMessage(bob.id, alice.id))).message;
    const later = (await messages().create(newMessage(alice.id, bob.id))).message;
    const [aliceHead, bobHead] = await Promise.all([messages().streamHead(alice.id), messages().streamHead(bob.id)]);

    const at = new Date('2030-01-02T00:00:00.000Z');
    const marked = await messages().markRead({ readerId: bob.id, senderId: alice.id, upToId: second.id, at });
    assert.deepEqual(marked, { readerSeq: bobHead + 2, senderSeq: aliceHead + 2 });
    assert.deepEqual(await messages().findById(delivered.id), { ...delivered, deliveredAt, readAt: at });
    assert.deepEqual(await messages().findById(second.id), { ...second, deliveredAt: at, readAt: at });
    assert.deepEqual(await messages().findById(later.id), later);
    assert.deepEqual(await messages().findById(fromBob.id), fromBob);
    assert.equal(await messages().markRead({ readerId: bob.id, senderId: alice.id, upToId: second.id, at }), null);
    // The sender cannot mark its own messages read through the reader's side.
    assert.equal(await messages().markRead({ readerId: alice.id, senderId: bob.id, upToId: second.id, at }), null);
  });

  test('markDelivered sets deliveredAt once and moves only the sender’s stream', async () => {
    const [alice, bob] = await twoUsers();
    const { message } = await messages().create(newMessage(alice.id, bob.id));
    const at = new Date('2030-01-03T00:00:00.000Z');
    assert.deepEqual(await messages().markDelivered({ messageId: message.id, senderId: alice.id, at }), { senderSeq: 2 });
    assert.equal(await messages().markDelivered({ messageId: message.id, senderId: alice.id, at: new Date() }), null);
    assert.equal(await messages().markDelivered({ messageId: message.id, senderId: bob.id, at: new Date() }), null);
    assert.deepEqual((await messages().findById(message.id))?.deliveredAt, at);
    assert.deepEqual([await messages().streamHead(alice.id), await messages().streamHead(bob.id)], [2, 1]);
  });

  test('streamAfter gives each message once at its latest position, oldest first', async () => {
    const [alice, bob] = await twoUsers();
    const sent = [];
    for (let i = 0; i < 4; i += 1) {
      const [from, to] = i === 2 ? [bob, alice] : [alice, bob];
      sent.push((await messages().create(newMessage(from.id, to.id))).message);
    }
    await messages().markRead({ readerId: bob.id, senderId: alice.id, upToId: sent[0]!.id, at: new Date() });
    const stream = await messages().streamAfter(alice.id, 0, 10);
    assert.deepEqual(stream.map((entry) => [entry.message.id, entry.seq]), [
      [sent[1]!.id, 2],
      [sent[2]!.id, 3],
      [sent[3]!.id, 4],
      [sent[0]!.id, 5],
    ]);
    assert.notEqual(stream.at(-1)!.message.readAt, null);
    assert.deepEqual((await messages().streamAfter(alice.id, 3, 1)).map((entry) => entry.seq), [4]);
    assert.deepEqual(await messages().streamAfter(alice.id, 5, 10), []);
    assert.equal(await messages().streamHead(alice.id), 5);
    assert.equal(await messages().streamHead(newId()), 0);
  });

  test('conversations: one per peer, latest message first, with the messages the owner has not read', async () => {
    const [alice, bob] = await twoUsers();
    const carol = await ctx.createUser();
    const fromBob = (await messages().create(newMessage(bob.id, alice.id))).message;
    await messages().create(newMessage(bob.id, alice.id));
    const toCarol = (await messages().create(newMessage(alice.id, carol.id))).message;
    const summary = (list: Awaited<ReturnType<ReturnType<typeof messages>['conversations']>>) =>
      list.map((c) => [c.peer.id, c.lastMessage.id, c.unreadCount]);

    const list = await messages().conversations(alice.id, { limit: 10 });
    assert.deepEqual(list[0]!.peer, { id: carol.id, name: carol.name, lastSeenAt: null });
    assert.deepEqual(list[0]!.lastMessage, toCarol);
    const lastFromBob = list[1]!.lastMessage.id;
    assert.deepEqual(summary(list), [[carol.id, toCarol.id, 0], [bob.id, lastFromBob, 2]]);
    assert.deepEqual(summary(await messages().conversations(alice.id, { before: toCarol.id, limit: 10 })), [[bob.id, lastFromBob, 2]]);
    assert.deepEqual(summary(await messages().conversations(alice.id, { limit: 1 })), [[carol.id, toCarol.id, 0]]);

    await messages().markRead({ readerId: alice.id, senderId: bob.id, upToId: fromBob.id, at: new Date() });
    assert.deepEqual(summary(await messages().conversations(alice.id, { limit: 10 })), [[carol.id, toCarol.id, 0], [bob.id, lastFromBob, 1]]);
    assert.deepEqual(summary(await messages().conversations(carol.id, { limit: 10 })), [[alice.id, toCarol.id, 1]]);
  });

  test('unreadTotal counts the unread messages to the user, from everyone', async () => {
    const [alice, bob] = await twoUsers();
    const carol = await ctx.createUser();
    const read = newMessage(bob.id, alice.id);
    await messages().create(read);
    for (const message of [newMessage(bob.id, alice.id), newMessage(carol.id, alice.id), newMessage(alice.id, bob.id)]) await messages().create(message);
    await messages().markRead({ readerId: alice.id, senderId: bob.id, upToId: read.id, at: new Date() });
    assert.equal(await messages().unreadTotal(alice.id), 2);
    assert.equal(await messages().unreadTotal(bob.id), 1);
    assert.equal(await messages().unreadTotal(carol.id), 0);
  });
}
