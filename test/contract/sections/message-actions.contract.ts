import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { MessageRecord } from '../../../src/storage/ports.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

const MINUTE = 60_000;

export function messageActionsContract(ctx: ContractContext): void {
  const messages = () => ctx.storage.messages;
  const changes = () => ctx.storage.chatChanges;
  const { users, newMessage, send, direct, group } = chatFixtures(ctx);
  const stored = async (id: string) => (await messages().findById(id)) ?? assert.fail(`message ${id} is gone`);
  /** Every message that changed for `userId` after `cursor`, and the hides, in one page. */
  const changed = async (userId: string, cursor: string) => {
    const page = (await changes().after(userId, cursor, 100)) ?? assert.fail('the adapter refused its own cursor');
    return { messages: page.messages.map((m) => m.id), hidden: page.hidden.map((h) => h.messageId) };
  };

  test('edit replaces the content of the sender’s message within the window, moving it in the changes; anything else changes nothing', async () => {
    const { a, b, id } = await direct();
    const message = await send(id, a.id, b.id);
    const cursor = await changes().head();
    const at = new Date();
    const since = new Date(at.getTime() - 15 * MINUTE);
    assert.equal(await messages().edit({ messageId: message.id, senderId: b.id, text: 'not mine', encrypted: null, at, createdSince: since }), null);
    const tooLate = new Date(message.createdAt.getTime() + 1);
    assert.equal(await messages().edit({ messageId: message.id, senderId: a.id, text: 'late', encrypted: null, at, createdSince: tooLate }), null);
    const encrypted = { scheme: 'signal', senderDeviceId: 'd', ciphertexts: [{ userId: b.id, deviceId: 'd', type: 1, body: 'eA==' }] };
    assert.equal(await messages().edit({ messageId: message.id, senderId: a.id, text: '', encrypted, at, createdSince: since }), null, 'a plain message stays plain');
    assert.deepEqual(await stored(message.id), message);

    const edited = await messages().edit({ messageId: message.id, senderId: a.id, text: 'edited', encrypted: null, at, createdSince: since });
    const expected: MessageRecord = { ...message, text: 'edited', editedAt: at, revision: 1 };
    assert.deepEqual(edited, expected);
    assert.deepEqual(await stored(message.id), expected);
    assert.deepEqual((await changed(b.id, cursor)).messages, [message.id]);
    assert.equal(await messages().edit({ messageId: newId(), senderId: a.id, text: 'x', encrypted: null, at, createdSince: since }), null);
  });

  test('deleteForEveryone erases the content, quote and reactions, keeps the tombstone, requotes the replies, once', async () => {
    const [owner, member] = await users(2);
    const groupId = await group(owner!, [member!]);
    const quoted = await send(groupId, owner!.id);
    const doomed = await send(groupId, member!.id, null, { replyToId: quoted.id });
    const reply = await send(groupId, owner!.id, null, { replyToId: doomed.id });
    await messages().react({ messageId: doomed.id, userId: owner!.id, emoji: '👍', action: 'add', at: new Date(), maxPerUser: 3 });
    const cursor = await changes().head();
    const at = new Date();
    const tombstone = await messages().deleteForEveryone({ messageId: doomed.id, deletedBy: owner!.id, at });
    const { replyTo: _quote, ...kept } = doomed;
    assert.deepEqual(tombstone, { ...kept, text: '', replyTo: null, reactions: [], deletedAt: at, deletedBy: owner!.id, revision: 2 });
    assert.deepEqual(await stored(doomed.id), tombstone);
    assert.deepEqual((await stored(reply.id)).replyTo, { id: doomed.id, senderId: member!.id, text: '', encrypted: false, deleted: true });
    assert.deepEqual((await changed(member!.id, cursor)).messages.sort(), [doomed.id, reply.id].sort(), 'the message and its reply come again');
    assert.equal(await messages().deleteForEveryone({ messageId: doomed.id, deletedBy: owner!.id, at: new Date() }), null, 'once');
    assert.equal(await messages().deleteForEveryone({ messageId: newId(), deletedBy: owner!.id, at }), null);
    const refused = await messages().create(newMessage(groupId, owner!.id, { replyToId: doomed.id }));
    assert.deepEqual(refused, { outcome: 'noSuchReply' }, 'a deleted message cannot be quoted');
  });

  test('create quotes a message of its own conversation only; replies follow edits of the quoted message', async () => {
    const { a, b, id } = await direct();
    const other = await direct();
    const quoted = await send(id, a.id, b.id, { text: `${'q'.repeat(120)}` });
    const reply = await send(id, b.id, a.id, { replyToId: quoted.id });
    assert.deepEqual(reply.replyTo, { id: quoted.id, senderId: a.id, text: 'q'.repeat(100), encrypted: false, deleted: false });
    const elsewhere = await send(other.id, other.a.id, other.b.id);
    for (const replyToId of [elsewhere.id, newId()]) assert.deepEqual(await messages().create(newMessage(id, b.id, { replyToId })), { outcome: 'noSuchReply' });
    await messages().edit({ messageId: quoted.id, senderId: a.id, text: 'short', encrypted: null, at: new Date(), createdSince: new Date(0) });
    assert.deepEqual((await stored(reply.id)).replyTo, { id: quoted.id, senderId: a.id, text: 'short', encrypted: false, deleted: false });
    assert.deepEqual((await messages().history(id, { limit: 1 }))[0]!.replyTo?.text, 'short');
  });

  test('hide hides a message from one user: history and changes leave it out for them only; a hidden message cannot be quoted by them', async () => {
    const { a, b, id } = await direct();
    const kept = await send(id, a.id, b.id);
    const hidden = await send(id, b.id, a.id);
    const cursor = await changes().head();
    const at = new Date();
    assert.equal(await messages().hide({ userId: a.id, messageId: hidden.id, conversationId: id, at }), true);
    assert.equal(await messages().hide({ userId: a.id, messageId: hidden.id, conversationId: id, at }), false, 'once');
    assert.deepEqual((await messages().history(id, { limit: 10, hiddenFor: a.id })).map((m) => m.id), [kept.id]);
    assert.deepEqual((await messages().history(id, { limit: 10, hiddenFor: b.id })).map((m) => m.id), [hidden.id, kept.id]);
    assert.deepEqual((await messages().history(id, { limit: 10 })).map((m) => m.id), [hidden.id, kept.id]);
    const page = await changes().after(a.id, cursor, 100);
    assert.deepEqual(page?.hidden, [{ conversationId: id, messageId: hidden.id, hiddenAt: at }]);
    await messages().react({ messageId: hidden.id, userId: b.id, emoji: '👍', action: 'add', at, maxPerUser: 3 });
    assert.deepEqual(await changed(a.id, cursor), { messages: [], hidden: [hidden.id] }, 'its later changes are left out for the one who hid it');
    assert.deepEqual(await changed(b.id, cursor), { messages: [hidden.id], hidden: [] });
    assert.deepEqual(await messages().create(newMessage(id, a.id, { replyToId: hidden.id })), { outcome: 'noSuchReply' });
    await send(id, b.id, a.id, { replyToId: hidden.id });
  });

  test('react adds and removes per user, groups by emoji in reaction order, keeps a per-user limit, and serialises concurrent changes', async () => {
    const [owner, m1, m2] = await users(3);
    const groupId = await group(owner!, [m1!, m2!]);
    const message = await send(groupId, owner!.id);
    const at = (seconds: number) => new Date(Date.UTC(2031, 0, 1, 0, 0, seconds));
    const react = (userId: string, emoji: string, action: 'add' | 'remove', when = at(0)) =>
      messages().react({ messageId: message.id, userId, emoji, action, at: when, maxPerUser: 2 });
    assert.deepEqual(await react(m1!.id, '👍', 'add', at(1)), { outcome: 'done', changed: true, revision: 1, reactions: [{ emoji: '👍', count: 1, userIds: [m1!.id] }] });
    await react(owner!.id, '❤️', 'add', at(2));
    await react(owner!.id, '👍', 'add', at(3));
    assert.deepEqual(await react(owner!.id, '🎉', 'add'), { outcome: 'tooMany' });
    assert.deepEqual(await react(owner!.id, '👍', 'add'), {
      outcome: 'done',
      changed: false,
      revision: 3,
      reactions: [
        { emoji: '👍', count: 2, userIds: [m1!.id, owner!.id] },
        { emoji: '❤️', count: 1, userIds: [owner!.id] },
      ],
    });
    assert.equal((await react(m2!.id, '👍', 'remove')).outcome === 'done', true);
    assert.equal((await stored(message.id)).revision, 3, 'a change of nothing takes no revision');

    // Many at once: each change is applied on top of the one before it.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => react([owner, m1, m2][i % 3]!.id, ['👍', '❤️', '😂'][i % 2]!, i % 4 === 3 ? 'remove' : 'add')),
    );
    const done = results.filter((result) => result.outcome === 'done' && result.changed);
    const revisions = done.map((result) => (result.outcome === 'done' ? result.revision : 0)).sort((x, y) => x - y);
    assert.deepEqual(revisions, Array.from({ length: done.length }, (_, i) => 4 + i), 'one revision per change, none twice');
    const final = await stored(message.id);
    const last = done.find((result) => result.outcome === 'done' && result.revision === final.revision);
    assert.deepEqual(last?.outcome === 'done' && last.reactions, final.reactions, 'the highest revision answered the final reactions');
    for (const user of [owner, m1, m2]) assert.ok(final.reactions.filter((r) => r.userIds.includes(user!.id)).length <= 2);

    await messages().deleteForEveryone({ messageId: message.id, deletedBy: owner!.id, at: new Date() });
    assert.deepEqual(await react(m1!.id, '👍', 'add'), { outcome: 'deleted' });
    assert.deepEqual(await messages().react({ messageId: newId(), userId: m1!.id, emoji: '👍', action: 'add', at: new Date(), maxPerUser: 2 }), { outcome: 'deleted' });
  });
}
