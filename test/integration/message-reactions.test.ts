import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageReactionEvent } from '../../src/protocol/chat.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { conversationMessages, createGroup, eventLog, sendToOk, settle, syncAll, syncHead } from '../support/groups.js';
import { deleteMessage, DeviceState, ok, react, refused, shown } from '../support/message-actions.js';
import { emitAck } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const TOGGLES = 120;

for (const target of databaseTargets()) {
  describe(`message reactions (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CHAT_REACTIONS_PER_WINDOW: '1000' });
    const history = async (token: string, conversationId: string) => (await conversationMessages(server.baseUrl, token, conversationId, '?limit=100')).messages;

    test('reactions add, remove and aggregate by emoji with who reacted, on every device, in history and sync', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const cursor = await syncHead(server.baseUrl, bob.token);
      const message = (await sendOk(device(alice), { to: bob.id, text: 'react to me' })).message;
      const logs = [...alice.devices, device(bob)].map(eventLog);

      const first = ok(await react(device(bob), message.id, '👍'), 'bob 👍');
      assert.deepEqual(first, { ok: true, messageId: message.id, conversationId: message.conversationId, revision: 1, reactions: [{ emoji: '👍', count: 1, userIds: [bob.id] }] });
      ok(await react(device(alice), message.id, '👍'), 'alice 👍');
      const third = ok(await react(device(alice, 1), message.id, '🇫🇷'), 'alice 🇫🇷');
      assert.deepEqual(third.reactions, [
        { emoji: '👍', count: 2, userIds: [bob.id, alice.id] },
        { emoji: '🇫🇷', count: 1, userIds: [alice.id] },
      ]);
      // Adding what is there, or removing what is not, changes nothing and tells nobody.
      assert.equal(ok(await react(device(bob), message.id, '👍'), 'again').revision, 3);
      assert.equal(ok(await react(device(bob), message.id, '🎉', 'remove'), 'remove absent').revision, 3);
      const removed = ok(await react(device(bob), message.id, '👍', 'remove'), 'bob removes 👍');
      assert.deepEqual(removed.reactions, [
        { emoji: '👍', count: 1, userIds: [alice.id] },
        { emoji: '🇫🇷', count: 1, userIds: [alice.id] },
      ]);

      await settle(logs.map((log) => log.socket));
      const seen = (index: number) => logs[index]!.of<MessageReactionEvent>('MESSAGE_REACTION', message.conversationId).map((event) => `${event.revision}:${event.action}:${event.emoji}`);
      assert.deepEqual(seen(0), ['1:add:👍', '3:add:🇫🇷', '4:remove:👍'], 'alice’s first device: all but its own');
      assert.deepEqual(seen(1), ['1:add:👍', '2:add:👍', '4:remove:👍'], 'alice’s second device: all but its own');
      assert.deepEqual(seen(2), ['2:add:👍', '3:add:🇫🇷'], 'bob: all but his own');
      const [stored] = await history(bob.token, message.conversationId);
      assert.deepEqual({ reactions: stored!.reactions, revision: stored!.revision }, { reactions: removed.reactions, revision: 4 });
      const synced = await syncAll(server.baseUrl, bob.token, cursor);
      assert.deepEqual(synced.messages, [stored], 'sync: the message once, with its latest reactions');
    });

    test('one emoji per reaction, a few per user and message, and none on a deleted message or by a stranger', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const message = (await sendOk(device(alice), { to: bob.id, text: 'limits' })).message;
      for (const emoji of ['a', '👍👍', '', ' 👍', '1', 'x'.repeat(40), '👍\u0301']) {
        const ack = await emitAck(device(bob), 'MESSAGE_REACTION', { messageId: message.id, emoji, action: 'add' });
        assert.equal(refused(ack, `emoji ${JSON.stringify(emoji)}`), 'VALIDATION_FAILED');
      }
      for (const emoji of ['❤️', '👨‍👩‍👧', '👍🏽']) ok(await react(device(bob), message.id, emoji), emoji);
      ok(await react(device(alice), message.id, '1️⃣'), 'a keycap, by another user: the limit is per user');
      const fourth = await react(device(bob), message.id, '🎉');
      assert.equal(refused(fourth, 'a fourth reaction'), 'VALIDATION_FAILED');
      assert.deepEqual(fourth.ok ? [] : fourth.error.details?.map((detail) => detail.path), ['emoji']);
      ok(await react(device(bob), message.id, '❤️', 'remove'), 'remove one');
      ok(await react(device(bob), message.id, '🎉'), 'then another fits');
      assert.equal(refused(await react(device(carol), message.id, '👍'), 'a stranger'), 'NOT_FOUND');
      ok(await deleteMessage(device(alice), message.id, 'everyone'), 'delete');
      assert.equal(refused(await react(device(bob), message.id, '👍'), 'a reaction to a deleted message'), 'INVALID_STATE');
      const [tombstone] = await history(bob.token, message.conversationId);
      assert.deepEqual(tombstone!.reactions, [], 'the reactions went with the message');
    });

    test('concurrent toggles from many devices converge: every device (live and through sync) ends with what history shows', async () => {
      const people = await Promise.all(['Alice', 'Bob', 'Carol'].map((name) => chatUser(server.baseUrl, name, 2)));
      const [alice, bob, carol] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
      const group = await createGroup(server.baseUrl, alice.token, 'Toggles', [bob.id, carol.id]);
      const cursors = await Promise.all(people.map((person) => syncHead(server.baseUrl, person.token)));
      const message = (await sendToOk(device(alice), { conversationId: group.id, text: 'toggle me' })).message;
      const states = people.flatMap((person) => person.devices.map((socket) => ({ socket, state: new DeviceState().follow(socket) })));
      for (const { state } of states) state.upsert(message);

      const emojis = ['👍', '❤️', '😂', '🎉'];
      // Deterministic but mixed: every device adds and removes the same few emoji at once.
      const toggles = Array.from({ length: TOGGLES }, (_, index) => {
        const { socket, state } = states[index % states.length]!;
        const emoji = emojis[(index * 7) % emojis.length]!;
        const action = (index * 5) % 3 === 0 ? 'remove' : 'add';
        // All of them change one message, so they are stored one after another: on the embedded
        // database of a busy machine the last ack can take longer than the default 5 s.
        return react(socket, message.id, emoji, action, 30_000).then((ack) => {
          // A device applies its own ack as it applies events; a fourth emoji may be refused.
          if (ack.ok) state.reacted(ack);
          else assert.equal(ack.error.code, 'VALIDATION_FAILED');
        });
      });
      await Promise.all(toggles);
      await settle(states.map(({ socket }) => socket));

      const [final] = await history(alice.token, group.id);
      for (const reaction of final!.reactions) {
        assert.equal(reaction.count, reaction.userIds.length);
        assert.equal(new Set(reaction.userIds).size, reaction.userIds.length);
      }
      for (const person of people) {
        const perUser = final!.reactions.filter((reaction) => reaction.userIds.includes(person.id)).length;
        assert.ok(perUser <= 3, `${person.name} has ${perUser} reactions`);
      }
      for (const [index, { state }] of states.entries()) assert.deepEqual(state.of(group.id), [shown(final!)], `device ${index}, live`);
      for (const [index, person] of people.entries()) {
        const fromSync = new DeviceState();
        fromSync.sync(await syncAll(server.baseUrl, person.token, cursors[index]!));
        assert.deepEqual(fromSync.of(group.id), [shown(final!)], `${person.name}, through sync`);
      }
    });
  });

  describe(`message reaction budget (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CHAT_REACTIONS_PER_WINDOW: '5' });

    test('a flood of reactions is refused past the budget, before anything is stored', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const message = (await sendOk(device(alice), { to: bob.id, text: 'flood' })).message;
      const acks = [];
      for (let i = 0; i < 8; i += 1) acks.push(await react(device(bob), message.id, '👍', i % 2 ? 'remove' : 'add'));
      assert.deepEqual(acks.map((ack) => (ack.ok ? 'ok' : ack.error.code)), ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
      const [stored] = (await conversationMessages(server.baseUrl, bob.token, message.conversationId)).messages;
      assert.deepEqual(stored!.reactions, [{ emoji: '👍', count: 1, userIds: [bob.id] }]);
      assert.equal(stored!.revision, 5);
    });
  });
}
