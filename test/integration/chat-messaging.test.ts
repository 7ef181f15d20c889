import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import type { ChatMessageEvent, MessageDeliveredEvent, MessageReadEvent, TypingEvent } from '../../src/protocol/chat.js';
import { chatUser, device, history, roundTrip, send, sendOk, texts } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { registerUser, request } from '../support/http.js';
import { collect, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`chat messaging (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CHAT_MESSAGES_PER_WINDOW: '5', CHAT_RATE_WINDOW: '1m' });

    test('a message reaches every device of the recipient and the sender’s other devices, not the sending socket', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const toBob = bob.devices.map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
      const toAliceLaptop = nextEvent<ChatMessageEvent>(device(alice, 1), 'CHAT_MESSAGE');
      const onSendingSocket = collect(device(alice, 0), 'CHAT_MESSAGE');
      const onCarol = collect(device(carol), 'CHAT_MESSAGE');

      const ack = await sendOk(device(alice, 0), { to: bob.id, text: 'hi Bob 👋', clientMessageId: 'c-1' });
      assert.equal(ack.message.from, alice.id);
      assert.equal(ack.message.to, bob.id);
      assert.equal(ack.message.text, 'hi Bob 👋');
      assert.equal(ack.message.clientMessageId, 'c-1');
      assert.equal(ack.message.deliveredAt, null);
      assert.equal(ack.message.readAt, null);
      for (const received of [...(await Promise.all(toBob)), await toAliceLaptop]) {
        assert.deepEqual(received.message, ack.message);
      }
      // Stored before the ack: history has it at once.
      const stored = await history(server.baseUrl, bob.token, alice.id);
      assert.deepEqual(stored.messages, [ack.message]);
      await Promise.all([roundTrip(device(alice, 0)), roundTrip(device(carol))]);
      assert.deepEqual(onSendingSocket.items, []);
      assert.deepEqual(onCarol.items, []);
    });

    test('typing and stop-typing reach only the recipient’s devices, and are not stored', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const others = [device(alice, 1), device(carol)].map((socket) => ({
        socket,
        typing: collect(socket, 'CHAT_TYPING'),
        stopped: collect(socket, 'CHAT_STOP_TYPING'),
      }));
      const typing = bob.devices.map((socket) => nextEvent<TypingEvent>(socket, 'CHAT_TYPING'));
      assert.deepEqual(await emitAck(device(alice), 'CHAT_TYPING', { to: bob.id }), { ok: true });
      assert.deepEqual(await Promise.all(typing), [{ from: alice.id }, { from: alice.id }]);
      const stopped = nextEvent<TypingEvent>(device(bob, 1), 'CHAT_STOP_TYPING');
      assert.deepEqual(await emitAck(device(alice), 'CHAT_STOP_TYPING', { to: bob.id }), { ok: true });
      assert.deepEqual(await stopped, { from: alice.id });
      for (const other of others) {
        await roundTrip(other.socket);
        assert.deepEqual([other.typing.items, other.stopped.items], [[], []]);
      }
      assert.deepEqual((await history(server.baseUrl, bob.token, alice.id)).messages, []);
    });

    test('MESSAGE_READ marks the message and every earlier one read; only the recipient may, and to others it does not exist', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const sent = [];
      for (const text of ['one', 'two', 'three']) sent.push((await sendOk(device(alice), { to: bob.id, text })).message);
      const [, second, third] = sent;

      const refusedCarol = await emitAck(device(carol), 'MESSAGE_READ', { messageId: second!.id });
      assert.equal(refusedCarol.ok, false);
      assert.equal(refusedCarol.error.code, 'NOT_FOUND');
      const refusedSender = await emitAck(device(alice), 'MESSAGE_READ', { messageId: second!.id });
      assert.equal(refusedSender.error.code, 'FORBIDDEN');

      const toAlice = alice.devices.map((socket) => nextEvent<MessageReadEvent>(socket, 'MESSAGE_READ'));
      const toBobsOtherDevice = nextEvent<MessageReadEvent>(device(bob, 1), 'MESSAGE_READ');
      const ack = await emitAck(device(bob, 0), 'MESSAGE_READ', { messageId: second!.id });
      assert.equal(ack.ok, true);
      for (const event of [...(await Promise.all(toAlice)), await toBobsOtherDevice]) {
        assert.equal(event.messageId, second!.id);
        assert.equal(event.readerId, bob.id);
        assert.equal(event.readAt, ack.readAt);
      }
      const stored = (await history(server.baseUrl, alice.token, bob.id)).messages;
      assert.deepEqual(
        stored.map((message) => [message.text, message.readAt]),
        [
          ['three', null],
          ['two', ack.readAt],
          ['one', ack.readAt],
        ],
      );
      // Read implies delivered.
      assert.equal(stored[1]!.deliveredAt, ack.readAt);

      // Reading again changes nothing and tells nobody.
      const quiet = collect(device(alice), 'MESSAGE_READ');
      assert.deepEqual(await emitAck(device(bob, 1), 'MESSAGE_READ', { messageId: sent[0]!.id }), { ok: true, readAt: ack.readAt });
      await roundTrip(device(alice));
      assert.deepEqual(quiet.items, []);
      assert.equal((await emitAck(device(bob), 'MESSAGE_READ', { messageId: third!.id })).ok, true);
    });

    test('MESSAGE_DELIVERED sets deliveredAt once and tells the sender’s devices once', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const received = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
      const { message } = await sendOk(device(alice), { to: bob.id, text: 'did you get this?' });
      await received;
      const receipts = alice.devices.map((socket) => collect<MessageDeliveredEvent>(socket, 'MESSAGE_DELIVERED'));

      const refused = await emitAck(device(carol), 'MESSAGE_DELIVERED', { messageId: message.id });
      assert.equal(refused.error.code, 'NOT_FOUND');
      const refusedSender = await emitAck(device(alice), 'MESSAGE_DELIVERED', { messageId: message.id });
      assert.equal(refusedSender.error.code, 'FORBIDDEN');
      // Both of Bob's devices acknowledge at once: the first sets it, the second gets the same time.
      const acks = await Promise.all(bob.devices.map((socket) => emitAck(socket, 'MESSAGE_DELIVERED', { messageId: message.id })));
      assert.ok(acks.every((ack) => ack.ok));
      assert.equal(acks[0].deliveredAt, acks[1].deliveredAt);
      for (const socket of alice.devices) await roundTrip(socket);
      for (const receipt of receipts) {
        assert.equal(receipt.items.length, 1);
        assert.equal(receipt.items[0]!.messageId, message.id);
        assert.equal(receipt.items[0]!.recipientId, bob.id);
        assert.equal(receipt.items[0]!.deliveredAt, acks[0].deliveredAt);
      }
      const [stored] = (await history(server.baseUrl, alice.token, bob.id)).messages;
      assert.equal(stored!.deliveredAt, acks[0].deliveredAt);
      assert.equal(stored!.readAt, null);
    });

    test('a retry with the same clientMessageId returns the stored message and delivers nothing twice, also when retries race', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const atBob = collect<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
      const atAlice = alice.devices.map((socket) => collect<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
      const heardOf = (id: string) => atAlice.map((events) => events.items.filter((event) => event.message.id === id).length);
      const clientMessageId = randomUUID();
      const payload = { to: bob.id, text: 'exactly once', clientMessageId };

      const first = await sendOk(device(alice), payload);
      const retry = await sendOk(device(alice), payload);
      assert.deepEqual(retry, first);

      const racing = { ...payload, clientMessageId: randomUUID() };
      const [a, b] = await Promise.all([sendOk(device(alice, 0), racing), sendOk(device(alice, 1), racing)]);
      assert.deepEqual(a.message, b.message);

      await Promise.all([roundTrip(device(bob)), ...alice.devices.map(roundTrip)]);
      assert.deepEqual(atBob.items.map((event) => event.message.id), [first.message.id, a.message.id]);
      // Sent twice from the phone: the laptop hears of it once, the phone (which has the ack) never.
      assert.deepEqual(heardOf(first.message.id), [0, 1]);
      // Whichever device's copy was stored, the other device hears of it once; the retry tells nobody.
      assert.equal(heardOf(a.message.id).reduce((sum, count) => sum + count), 1);
      const stored = (await history(server.baseUrl, bob.token, alice.id)).messages;
      assert.deepEqual(stored.map((message) => message.id), [a.message.id, first.message.id]);
    });

    test('a clientMessageId reused for another text or recipient is refused, and nothing is lost or delivered', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const clientMessageId = randomUUID();
      // The first message reaches Bob and Alice's laptop before counting starts (their copies race the ack).
      const [first] = await Promise.all([
        sendOk(device(alice), { to: bob.id, text: 'first', clientMessageId }),
        nextEvent(device(bob), 'CHAT_MESSAGE'),
        nextEvent(device(alice, 1), 'CHAT_MESSAGE'),
      ]);
      const heard = [device(bob), device(carol), device(alice, 1)].map((socket) => ({ socket, events: collect(socket, 'CHAT_MESSAGE') }));

      for (const reused of [
        { to: bob.id, text: 'a second message' },
        { to: carol.id, text: 'first' },
      ]) {
        const ack = await send(device(alice), { ...reused, clientMessageId });
        assert.equal(ack.ok, false, JSON.stringify(reused));
        assert.equal(ack.ok === false && ack.error.code, 'VALIDATION_FAILED');
        assert.deepEqual(ack.ok === false && ack.error.details?.map((detail) => detail.path), ['clientMessageId']);
      }
      // The message the app actually meant to send goes through under a new id; the true retry still answers the first.
      const second = await sendOk(device(alice), { to: bob.id, text: 'a second message', clientMessageId: randomUUID() });
      assert.deepEqual(await sendOk(device(alice), { to: bob.id, text: 'first', clientMessageId }), first);

      for (const { socket } of heard) await roundTrip(socket);
      // Bob and the laptop hear of the second message only; Carol of nothing.
      assert.deepEqual(heard.map(({ events }) => events.items.length), [1, 0, 1]);
      assert.deepEqual(texts((await history(server.baseUrl, bob.token, alice.id)).messages), [second.message.text, 'first']);
      assert.deepEqual((await history(server.baseUrl, carol.token, alice.id)).messages, []);
      // No conversation with Carol came into being: it would with its first message.
      for (const user of [alice, carol]) {
        const list = await request(server.baseUrl, 'GET', '/api/chat/conversations', { token: user.token });
        assert.ok(!list.body.conversations.some((conversation: { peer?: { id: string } }) => conversation.peer?.id === (user === alice ? carol.id : alice.id)));
      }
    });

    test('a "from" in the payload is ignored: the sender is who the token says', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const mallory = await chatUser(server.baseUrl, 'Mallory');
      const received = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
      const ack = await emitAck(device(mallory), 'CHAT_MESSAGE', { to: bob.id, text: 'it is me, Alice', from: alice.id });
      assert.equal(ack.ok, true);
      assert.equal(ack.message.from, mallory.id);
      assert.equal((await received).message.from, mallory.id);
      assert.deepEqual((await history(server.baseUrl, bob.token, alice.id)).messages, []);
    });

    test('beyond the message rate limit the answer is RATE_LIMITED and the connection stays usable', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      for (let i = 0; i < 5; i += 1) await sendOk(device(alice), { to: bob.id, text: `message ${i}` });
      const limited = await send(device(alice), { to: bob.id, text: 'one too many' });
      assert.equal(limited.ok, false);
      assert.equal(limited.ok === false && limited.error.code, 'RATE_LIMITED');
      assert.ok(limited.ok === false && limited.error.retryAfterSeconds! >= 1, 'the ack says how long to wait');
      assert.equal(device(alice).connected, true);
      // Other events still work, and other users have their own budget.
      assert.equal((await emitAck(device(alice), 'CHAT_TYPING', { to: bob.id })).ok, true);
      await sendOk(device(bob), { to: alice.id, text: 'my budget is mine' });
      assert.equal((await history(server.baseUrl, bob.token, alice.id)).messages.length, 6);
    });

    test('typing events are throttled per user', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const answers = [];
      for (let i = 0; i < 21; i += 1) answers.push(await emitAck(device(alice), i % 2 ? 'CHAT_STOP_TYPING' : 'CHAT_TYPING', { to: bob.id }));
      assert.ok(answers.slice(0, 20).every((answer) => answer.ok));
      assert.equal(answers[20].error.code, 'RATE_LIMITED');
    });

    test('a ban disconnects the user’s chat sockets at once; messages to them are refused', async () => {
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      await sendOk(device(alice), { to: bob.id, text: 'before the ban' });
      const gone = bob.devices.map((socket) => nextEvent<string>(socket, 'disconnect'));
      const ban = await request(server.baseUrl, 'PATCH', `/api/admin/users/${bob.id}`, { token: admin.accessToken, body: { status: 'banned' } });
      assert.equal(ban.status, 200);
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
      const refused = await send(device(alice), { to: bob.id, text: 'after the ban' });
      assert.equal(refused.ok === false && refused.error.code, 'NOT_FOUND');
      // A banned user's socket cannot send anything: it is gone, and a new one is refused at the handshake.
      assert.equal((bob.devices[0] as unknown as Socket).connected, false);
    });
  });
}
