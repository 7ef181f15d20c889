import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMessageEvent, MessageReadEvent, TypingEvent } from '../../src/protocol/chat.js';
import { chatUser, device, history, roundTrip, sendOk, texts } from '../support/chat.js';
import { clusterSkip, useCluster } from '../support/cluster.js';
import { addMembers, conversationMessages, createGroup, eventLog, removeMember, sendToOk } from '../support/groups.js';
import { connectSocket, emitAck, nextEvent } from '../support/sockets.js';

describe('chat across server processes', { skip: clusterSkip() }, () => {
  const cluster = useCluster(2);
  const url = (index: number) => cluster.node(index).baseUrl;

  test('a direct conversation works both ways between users on different processes: messages, typing, read receipts', async () => {
    const alice = await chatUser(url(0), 'Alice');
    const bob = await chatUser(url(1), 'Bob');
    // Alice's second device is on the other process, beside Bob.
    const aliceElsewhere = await connectSocket(url(1), alice.token);

    const toBob = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
    const toAliceElsewhere = nextEvent<ChatMessageEvent>(aliceElsewhere, 'CHAT_MESSAGE');
    const sent = await sendOk(device(alice), { to: bob.id, text: 'hello from process 0' });
    assert.equal((await toBob).message.id, sent.message.id);
    assert.equal((await toAliceElsewhere).message.id, sent.message.id, "the sender's device on the other process has it too");

    const toAlice = [device(alice), aliceElsewhere].map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
    const reply = await sendOk(device(bob), { to: alice.id, text: 'hello from process 1' });
    for (const heard of await Promise.all(toAlice)) assert.equal(heard.message.id, reply.message.id);

    const typing = nextEvent<TypingEvent>(device(alice), 'CHAT_TYPING');
    assert.deepEqual(await emitAck(device(bob), 'CHAT_TYPING', { to: alice.id }), { ok: true });
    assert.equal((await typing).from, bob.id);
    const stopped = nextEvent<TypingEvent>(device(bob), 'CHAT_STOP_TYPING');
    assert.deepEqual(await emitAck(device(alice), 'CHAT_STOP_TYPING', { to: bob.id }), { ok: true });
    assert.equal((await stopped).from, alice.id);

    const receipt = nextEvent<MessageReadEvent>(device(alice), 'MESSAGE_READ');
    const read = await emitAck<{ ok: boolean; readAt: string }>(device(bob), 'MESSAGE_READ', { messageId: sent.message.id });
    assert.equal(read.ok, true);
    assert.deepEqual(await receipt, { messageId: sent.message.id, readerId: bob.id, readAt: read.readAt, conversationId: sent.message.conversationId });

    assert.deepEqual(texts((await history(url(1), bob.token, alice.id)).messages), ['hello from process 1', 'hello from process 0']);
  });

  test('a group reaches its members on every process, and a membership change on one process moves sockets on the other', async () => {
    const alice = await chatUser(url(0), 'Alice');
    const bob = await chatUser(url(1), 'Bob');
    const carol = await chatUser(url(1), 'Carol');
    const dave = await chatUser(url(1), 'Dave');
    const group = await createGroup(url(0), alice.token, 'Across', [bob.id, carol.id]);

    const heard = [device(bob), device(carol)].map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
    const first = await sendToOk(device(alice), { conversationId: group.id, text: 'one' });
    for (const event of await Promise.all(heard)) assert.equal(event.message.id, first.message.id);

    const toAlice = nextEvent<ChatMessageEvent>(device(alice), 'CHAT_MESSAGE');
    const second = await sendToOk(device(bob), { conversationId: group.id, text: 'two' });
    assert.equal((await toAlice).message.id, second.message.id);

    const typing = [device(alice), device(carol)].map((socket) => nextEvent<TypingEvent>(socket, 'CHAT_TYPING'));
    assert.deepEqual(await emitAck(device(bob), 'CHAT_TYPING', { conversationId: group.id }), { ok: true });
    for (const event of await Promise.all(typing)) assert.deepEqual(event, { from: bob.id, conversationId: group.id });

    const receipts = [device(alice), device(bob)].map((socket) => nextEvent<MessageReadEvent>(socket, 'MESSAGE_READ'));
    assert.equal((await emitAck(device(carol), 'MESSAGE_READ', { messageId: second.message.id })).ok, true);
    for (const event of await Promise.all(receipts)) assert.equal(event.readerId, carol.id);

    // Alice (process 0) removes Carol and adds Dave, whose sockets are all on process 1.
    const carolLog = eventLog(device(carol));
    assert.equal((await removeMember(url(0), alice.token, group.id, carol.id)).status, 200);
    await addMembers(url(0), alice.token, group.id, [dave.id]);
    const toDave = nextEvent<ChatMessageEvent>(device(dave), 'CHAT_MESSAGE');
    const third = await sendToOk(device(alice), { conversationId: group.id, text: 'three' });
    assert.equal((await toDave).message.id, third.message.id);
    await roundTrip(device(carol));
    assert.deepEqual(
      carolLog.of<ChatMessageEvent>('CHAT_MESSAGE', group.id).map((event) => event.message.text),
      [],
      'the removed member hears nothing of the group after the removal',
    );
    // A new socket of Dave's on process 1 joins the group room during its handshake.
    const daveAgain = await connectSocket(url(1), dave.token);
    const toDaveAgain = nextEvent<ChatMessageEvent>(daveAgain, 'CHAT_MESSAGE');
    await sendToOk(device(bob), { conversationId: group.id, text: 'four' });
    assert.equal((await toDaveAgain).message.text, 'four');
    assert.deepEqual(texts((await conversationMessages(url(1), dave.token, group.id)).messages).slice(0, 2), ['four', 'three']);
  });
});
