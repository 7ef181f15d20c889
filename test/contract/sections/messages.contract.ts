import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import { storedAs } from '../../support/chat.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

export function messagesContract(ctx: ContractContext): void {
  const messages = () => ctx.storage.messages;
  const conversations = () => ctx.storage.conversations;
  const { users, newMessage, send, direct, group } = chatFixtures(ctx);
  const readPosition = async (conversationId: string, userId: string) =>
    (await conversations().members(conversationId, { limit: 1000 })).find((member) => member.userId === userId)?.lastReadMessageId;

  test('create stores a message in its conversation, without receipts; findById reads it back', async () => {
    const { a, b, id } = await direct();
    const input = newMessage(id, a.id);
    const result = await messages().create(input);
    assert.deepEqual(result, { outcome: 'stored', created: true, message: storedAs(input, b.id) });
    assert.deepEqual(await messages().findById(input.id), storedAs(input, b.id));
    const [owner, member] = await users(2);
    const groupId = await group(owner!, [member!]);
    const inGroup = await send(groupId, member!.id, null, { clientMessageId: null });
    assert.deepEqual(await messages().findById(inGroup.id), inGroup);
    assert.equal(await messages().findById(newId()), null);
  });

  test('create is idempotent per (sender, clientMessageId), also under concurrent retries', async () => {
    const { a, b, id } = await direct();
    const input = newMessage(id, a.id);
    const first = await messages().create(input);
    // The stored message comes back whatever the new one holds: the service tells a retry from a reuse.
    assert.deepEqual(await messages().create({ ...input, id: newId(), text: 'changed on retry' }), { ...first, created: false });

    const racing = newMessage(id, a.id);
    const results = await Promise.all(Array.from({ length: 8 }, () => messages().create({ ...racing, id: newId() })));
    const stored = results.map((result) => (result.outcome === 'stored' ? result : assert.fail('a retry was refused')));
    assert.equal(stored.filter((result) => result.created).length, 1);
    assert.equal(new Set(stored.map((result) => result.message.id)).size, 1);
    // Another sender may use the same clientMessageId, and without one nothing is deduplicated.
    await send(id, b.id, a.id, { clientMessageId: input.clientMessageId });
    for (let i = 0; i < 2; i += 1) await send(id, a.id, b.id, { clientMessageId: null });
    assert.equal((await messages().history(id, { limit: 100 })).length, 5);
  });

  test('create stores nothing from a non-member, a removed member or into an unknown conversation', async () => {
    const [owner, member, stranger] = await users(3);
    const groupId = await group(owner!, [member!]);
    const { a, id } = await direct();
    assert.deepEqual(await messages().create(newMessage(groupId, stranger!.id)), { outcome: 'notMember' });
    assert.deepEqual(await messages().create(newMessage(id, stranger!.id)), { outcome: 'notMember' });
    assert.deepEqual(await messages().create(newMessage(newId(), a.id)), { outcome: 'notMember' });

    const before = await send(groupId, member!.id);
    await conversations().removeMember(groupId, member!.id, new Date());
    const afterLeaving = newMessage(groupId, member!.id);
    assert.deepEqual(await messages().create(afterLeaving), { outcome: 'notMember' });
    assert.equal(await messages().findById(afterLeaving.id), null);
    // A retry of what was stored while a member is still answered with the stored message.
    assert.deepEqual(await messages().create({ ...before, id: newId() }), { outcome: 'stored', created: false, message: before });
    assert.deepEqual(await messages().history(groupId, { limit: 10 }), [before]);
  });

  test('create refuses a direct message once the recipient’s account is no longer active', async () => {
    const { a, b, id } = await direct();
    await send(id, a.id, b.id);
    await ctx.storage.users.setStatus(b.id, 'banned');
    const refused = newMessage(id, a.id);
    assert.deepEqual(await messages().create(refused), { outcome: 'recipientUnavailable' });
    assert.equal(await messages().findById(refused.id), null);
    // Active again: reachable again.
    await ctx.storage.users.setStatus(b.id, 'active');
    await send(id, a.id, b.id);
  });

  test('concurrent creates (which an adapter may write together) each get their own outcome; one that fails fails alone', async () => {
    const [owner, member, stranger] = await users(3);
    const groupId = await group(owner!, [member!]);
    const { a, b, id } = await direct();
    const retried = newMessage(groupId, member!.id);
    const collidingId = newId();
    const inputs = [
      ...Array.from({ length: 30 }, (_, i) => (i % 2 ? newMessage(groupId, owner!.id) : newMessage(id, i % 4 ? a.id : b.id))),
      retried,
      { ...retried, id: newId() },
      newMessage(groupId, stranger!.id),
      newMessage(groupId, owner!.id, { id: collidingId }),
      newMessage(groupId, member!.id, { id: collidingId }),
      ...Array.from({ length: 10 }, () => newMessage(groupId, member!.id)),
    ];
    const results = await Promise.allSettled(inputs.map((input) => messages().create(input)));
    const [collisionA, collisionB] = results.slice(33, 35);
    // Two messages with one id: exactly one is stored, the other fails, and nothing else does.
    assert.deepEqual([collisionA!.status, collisionB!.status].sort(), ['fulfilled', 'rejected']);
    const outcomes = results.map((result, index) => (index === 33 || index === 34 ? null : result.status === 'fulfilled' ? result.value : assert.fail(`create ${index} failed: ${String(result.reason)}`)));
    assert.deepEqual(outcomes[32], { outcome: 'notMember' });
    const [first, second] = [outcomes[30], outcomes[31]];
    assert.ok(first?.outcome === 'stored' && second?.outcome === 'stored');
    assert.deepEqual([first.created, second.created].sort(), [false, true]);
    assert.equal(first.message.id, second.message.id);
    for (const [index, outcome] of outcomes.entries()) {
      if (index >= 30 && index <= 34) continue;
      const input = inputs[index]!;
      assert.deepEqual(outcome, {
        outcome: 'stored',
        created: true,
        message: storedAs(input, input.conversationId === id ? (input.senderId === a.id ? b.id : a.id) : null),
      });
    }
    const stored = new Set([...(await messages().history(groupId, { limit: 100 })), ...(await messages().history(id, { limit: 100 }))].map((m) => m.id));
    assert.equal(stored.size, 30 + 1 + 1 + 10);
  });

  test('history is the conversation’s messages, newest first, paged by the message id cursor', async () => {
    const { a, b, id } = await direct();
    const [carol] = await users(1);
    const elsewhere = await conversations().ensureDirect(carol!.id, a.id, new Date());
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      ids.push((await send(id, from.id, to.id)).id);
      await send(elsewhere, carol!.id, a.id);
    }
    const newestFirst = [...ids].reverse();
    assert.deepEqual((await messages().history(id, { limit: 10 })).map((m) => m.id), newestFirst);
    assert.deepEqual((await messages().history(id, { limit: 2 })).map((m) => m.id), newestFirst.slice(0, 2));
    assert.deepEqual((await messages().history(id, { before: newestFirst[1], limit: 2 })).map((m) => m.id), newestFirst.slice(2, 4));
    assert.deepEqual(await messages().history(newId(), { limit: 10 }), []);
  });

  test('markRead marks the unread messages to the reader up to the id, once, delivering them and moving the read position', async () => {
    const { a, b, id } = await direct();
    const delivered = await send(id, a.id, b.id);
    const deliveredAt = new Date('2030-01-01T00:00:00.000Z');
    assert.equal(await messages().markDelivered({ messageId: delivered.id, at: deliveredAt }), true);
    const second = await send(id, a.id, b.id);
    const fromBob = await send(id, b.id, a.id);
    const later = await send(id, a.id, b.id);

    const at = new Date('2030-01-02T00:00:00.000Z');
    assert.equal(await messages().markRead({ readerId: b.id, conversationId: id, upToId: fromBob.id, at }), true);
    assert.deepEqual(await messages().findById(delivered.id), { ...delivered, deliveredAt, readAt: at });
    assert.deepEqual(await messages().findById(second.id), { ...second, deliveredAt: at, readAt: at });
    assert.deepEqual(await messages().findById(later.id), later);
    assert.deepEqual(await messages().findById(fromBob.id), fromBob, 'the reader’s own message is not read by reading');
    // The position is the newest message read, never the reader's own.
    assert.equal(await readPosition(id, b.id), second.id);
    assert.equal(await readPosition(id, a.id), null);
    assert.equal(await messages().markRead({ readerId: b.id, conversationId: id, upToId: fromBob.id, at }), false);
    assert.equal(await messages().markRead({ readerId: a.id, conversationId: id, upToId: second.id, at }), false, 'nothing to Alice up to there');

    // Reading an earlier message after a later one never moves the position back.
    const laterStill = await send(id, a.id, b.id);
    await conversations().moveReadPosition({ conversationId: id, userId: b.id, messageId: laterStill.id, at });
    assert.equal(await messages().markRead({ readerId: b.id, conversationId: id, upToId: later.id, at }), true);
    assert.equal(await readPosition(id, b.id), laterStill.id);
    const other = await direct();
    assert.equal(await messages().markRead({ readerId: b.id, conversationId: other.id, upToId: laterStill.id, at }), false);
  });

  test('markDelivered sets deliveredAt once', async () => {
    const { a, b, id } = await direct();
    const message = await send(id, a.id, b.id);
    const at = new Date('2030-01-03T00:00:00.000Z');
    assert.equal(await messages().markDelivered({ messageId: message.id, at }), true);
    assert.equal(await messages().markDelivered({ messageId: message.id, at: new Date() }), false);
    assert.deepEqual(await messages().findById(message.id), { ...message, deliveredAt: at });
    assert.equal(await messages().markDelivered({ messageId: newId(), at }), false);
  });

  test('contactsAmong gives the users among the ids who have sent the user a direct message', async () => {
    const [alice, bob, carol, dave] = await users(4);
    await send(await conversations().ensureDirect(bob!.id, alice!.id, new Date()), bob!.id, alice!.id);
    const aliceCarol = await conversations().ensureDirect(alice!.id, carol!.id, new Date());
    await send(aliceCarol, alice!.id, carol!.id);
    await send(await conversations().ensureDirect(carol!.id, dave!.id, new Date()), carol!.id, dave!.id);
    // Writing in a shared group makes no contact.
    await send(await group(dave!, [alice!]), dave!.id);
    // A direct conversation in which the peer has not written yet is no contact either.
    await conversations().ensureDirect(dave!.id, alice!.id, new Date());
    const ids = [bob!.id, carol!.id, dave!.id, newId()];
    assert.deepEqual(await messages().contactsAmong(alice!.id, ids), new Set([bob!.id]));
    assert.deepEqual(await messages().contactsAmong(bob!.id, [alice!.id, carol!.id]), new Set());
    assert.deepEqual(await messages().contactsAmong(carol!.id, [alice!.id, bob!.id, dave!.id]), new Set([alice!.id]));
    // Once the peer writes back, both are each other's contacts.
    await send(aliceCarol, carol!.id, alice!.id);
    assert.deepEqual(await messages().contactsAmong(alice!.id, ids), new Set([bob!.id, carol!.id]));
    assert.deepEqual(await messages().contactsAmong(alice!.id, []), new Set());
  });

  test('unreadTotals counts, per user, the messages from others after their read positions, over direct conversations and groups', async () => {
    const { a: alice, b: bob, id } = await direct();
    const [carol] = await users(1);
    const read = await send(id, bob.id, alice.id);
    await send(id, bob.id, alice.id);
    await send(id, alice.id, bob.id);
    const groupId = await group(carol!, [alice, bob]);
    const first = await send(groupId, carol!.id);
    await send(groupId, bob.id);
    await send(groupId, alice.id);
    await messages().markRead({ readerId: alice.id, conversationId: id, upToId: read.id, at: new Date() });
    await conversations().moveReadPosition({ conversationId: groupId, userId: alice.id, messageId: first.id, at: new Date() });
    const [nobody] = await users(1);
    assert.deepEqual(
      await messages().unreadTotals([alice.id, bob.id, carol!.id, nobody!.id]),
      new Map([
        [alice.id, 2],
        [bob.id, 3],
        [carol!.id, 2],
        [nobody!.id, 0],
      ]),
    );
    // A group one has left counts no more.
    await conversations().removeMember(groupId, bob.id, new Date());
    assert.equal((await messages().unreadTotals([bob.id])).get(bob.id), 1);
  });
}
