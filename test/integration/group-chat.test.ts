import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ChatMessageEvent, MessageDto, MessageReadEvent, TypingEvent } from '../../src/protocol/chat.js';
import type { ConversationUpdatedEvent } from '../../src/protocol/conversations.js';
import { chatUser, device, sendOk, texts, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import {
  addMembers,
  assertNothingAbout,
  conversationMessages,
  createGroup,
  eventLog,
  getConversation,
  listConversations,
  memberIds,
  roleOf,
  sendTo,
  sendToOk,
  settle,
  shared,
  sorted,
  sync,
  syncAll,
  syncHead,
} from '../support/groups.js';
import { request } from '../support/http.js';
import { connectSocket, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`group chat (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    /** Alice's group with the others as members. */
    async function groupOf(owner: ChatUser, others: ChatUser[], title = 'Weekend trip') {
      return createGroup(server.baseUrl, owner.token, title, others.map((user) => user.id));
    }

    test('creating a group of three makes the creator its owner and tells every device of every member', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      const told = [...alice.devices, device(bob), device(carol)].map((socket) => nextEvent<ConversationUpdatedEvent>(socket, 'CONVERSATION_UPDATED'));
      const daveLog = eventLog(device(dave));

      const group = await groupOf(alice, [bob, carol]);
      assert.equal(group.type, 'group');
      assert.equal(group.title, 'Weekend trip');
      assert.equal(group.memberCount, 3);
      assert.equal(group.lastMessage, null);
      assert.equal(group.unreadCount, 0);
      assert.deepEqual(memberIds(group), sorted([alice.id, bob.id, carol.id]));
      assert.deepEqual(
        sorted(group.members.map((member) => `${member.name}:${member.role}:${member.lastReadMessageId}`)),
        ['Alice:owner:null', 'Bob:member:null', 'Carol:member:null'],
      );
      for (const member of group.members) assert.ok(!Number.isNaN(Date.parse(member.joinedAt)));

      for (const event of await Promise.all(told)) {
        assert.deepEqual(event.change, { type: 'created' });
        assert.ok(!('unreadCount' in event.conversation), 'events leave out what differs per member');
        assert.deepEqual(event.conversation, shared(group));
      }
      assert.deepEqual(await getConversation(server.baseUrl, bob.token, group.id), group);
      await assertNothingAbout([daveLog], group.id, 'Dave is not in the group');
    });

    test('a message reaches every device of every member but the sending socket; typing reaches the other members', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      const group = await groupOf(alice, [bob, carol]);
      await settle([...alice.devices, ...bob.devices, device(carol)]);
      const [sending, aliceLaptop] = [device(alice, 0), device(alice, 1)];
      const sendingLog = eventLog(sending);
      const daveLog = eventLog(device(dave));

      const receivers = [aliceLaptop, ...bob.devices, device(carol)];
      const arriving = receivers.map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
      const ack = await sendToOk(sending, { conversationId: group.id, text: 'who brings the tent? ⛺', clientMessageId: 'g-1' });
      assert.equal(ack.message.conversationId, group.id);
      assert.equal(ack.message.from, alice.id);
      assert.equal(ack.message.to, null, 'a group message has no single recipient');
      assert.equal(ack.message.text, 'who brings the tent? ⛺');
      assert.equal(ack.message.clientMessageId, 'g-1');
      assert.equal(ack.message.readAt, null);
      for (const event of await Promise.all(arriving)) assert.deepEqual(event, { message: ack.message });
      // Stored before the ack: any member's history has it at once.
      assert.deepEqual((await conversationMessages(server.baseUrl, carol.token, group.id)).messages, [ack.message]);

      const typingLogs = [...alice.devices, ...bob.devices, device(carol)].map(eventLog);
      const typing = [...alice.devices, device(carol)].map((socket) => nextEvent<TypingEvent>(socket, 'CHAT_TYPING'));
      assert.deepEqual(await emitAck(device(bob, 0), 'CHAT_TYPING', { conversationId: group.id }), { ok: true });
      for (const event of await Promise.all(typing)) assert.deepEqual(event, { from: bob.id, conversationId: group.id });
      const stopped = [...alice.devices, device(carol)].map((socket) => nextEvent<TypingEvent>(socket, 'CHAT_STOP_TYPING'));
      assert.deepEqual(await emitAck(device(bob, 0), 'CHAT_STOP_TYPING', { conversationId: group.id }), { ok: true });
      for (const event of await Promise.all(stopped)) assert.deepEqual(event, { from: bob.id, conversationId: group.id });

      await settle([...alice.devices, ...bob.devices, device(carol), device(dave)]);
      assert.deepEqual(sendingLog.of('CHAT_MESSAGE', group.id), [], 'the sending socket has the ack instead');
      // Bob's own devices are not told that Bob types.
      for (const log of typingLogs.filter((log) => bob.devices.includes(log.socket))) {
        assert.deepEqual([...log.of('CHAT_TYPING', group.id), ...log.of('CHAT_STOP_TYPING', group.id)], []);
      }
      // Each other device heard of the typing exactly once each way.
      for (const log of typingLogs.filter((log) => !bob.devices.includes(log.socket))) {
        assert.equal(log.of('CHAT_TYPING', group.id).length, 1);
        assert.equal(log.of('CHAT_STOP_TYPING', group.id).length, 1);
      }
      assert.deepEqual(daveLog.about(group.id), []);
      // Typing is not stored.
      assert.equal((await conversationMessages(server.baseUrl, alice.token, group.id)).messages.length, 1);
    });

    test('read positions move forward only, tell the other members and the reader’s other devices, and set each member’s unread count', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      const group = await groupOf(alice, [bob, carol]);
      const a1 = (await sendToOk(device(alice), { conversationId: group.id, text: 'a1' })).message;
      await sendToOk(device(alice), { conversationId: group.id, text: 'a2' });
      const c1 = (await sendToOk(device(carol), { conversationId: group.id, text: 'c1' })).message;
      const a3 = (await sendToOk(device(alice), { conversationId: group.id, text: 'a3' })).message;
      const unread = async () => {
        const counts = [];
        for (const user of [alice, bob, carol]) counts.push((await getConversation(server.baseUrl, user.token, group.id)).unreadCount);
        return counts;
      };
      // Messages from others after each one's read position (none yet).
      assert.deepEqual(await unread(), [1, 4, 3]);

      await settle([device(alice), ...bob.devices, device(carol)]);
      const readerLog = eventLog(device(bob, 0));
      const daveLog = eventLog(device(dave));
      const told = [device(alice), device(carol), device(bob, 1)].map((socket) => nextEvent<MessageReadEvent>(socket, 'MESSAGE_READ'));
      const ack = await emitAck(device(bob, 0), 'MESSAGE_READ', { messageId: c1.id });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      assert.ok(!Number.isNaN(Date.parse(ack.readAt)));
      for (const event of await Promise.all(told)) {
        assert.deepEqual(event, { messageId: c1.id, readerId: bob.id, readAt: ack.readAt, conversationId: group.id });
      }
      const afterRead = await getConversation(server.baseUrl, alice.token, group.id);
      assert.equal(afterRead.members.find((member) => member.userId === bob.id)!.lastReadMessageId, c1.id);
      assert.equal(afterRead.members.find((member) => member.userId === carol.id)!.lastReadMessageId, null);
      assert.deepEqual(await unread(), [1, 1, 3]);
      // Group messages carry no per-reader state: the read position does.
      assert.deepEqual(
        (await conversationMessages(server.baseUrl, alice.token, group.id)).messages.map((message) => message.readAt),
        [null, null, null, null],
      );

      // An earlier message does not move the position back, and nobody is told.
      const quiet = [device(alice), device(carol), device(bob, 1)].map(eventLog);
      const back = await emitAck(device(bob, 1), 'MESSAGE_READ', { messageId: a1.id });
      assert.equal(back.ok, true, JSON.stringify(back));
      await assertNothingAbout(quiet, group.id, 'a read position that did not move');
      const still = await getConversation(server.baseUrl, bob.token, group.id);
      assert.equal(still.members.find((member) => member.userId === bob.id)!.lastReadMessageId, c1.id);
      assert.equal(still.unreadCount, 1);

      assert.equal((await emitAck(device(bob, 1), 'MESSAGE_READ', { messageId: a3.id })).ok, true);
      assert.equal((await emitAck(device(carol), 'MESSAGE_READ', { messageId: a3.id })).ok, true);
      assert.deepEqual(await unread(), [1, 0, 0]);
      // The conversation list counts the same.
      const listed = (await listConversations(server.baseUrl, alice.token)).conversations.find((conversation) => conversation.id === group.id);
      assert.equal(listed!.unreadCount, 1);
      await settle([device(bob, 0), device(dave)]);
      const ownReads = readerLog.of<MessageReadEvent>('MESSAGE_READ', group.id).filter((event) => event.readerId === bob.id);
      assert.deepEqual(ownReads.map((event) => event.messageId), [a3.id], 'the reading socket has its ack; it hears of its other device');
      assert.deepEqual(daveLog.about(group.id), []);
    });

    test('history pages through a group’s messages newest first, without gaps or overlaps', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const group = await groupOf(alice, [bob, carol]);
      const other = await groupOf(alice, [bob], 'Another group');
      const senders = [alice, bob, carol];
      const sent: MessageDto[] = [];
      for (let i = 0; i < 25; i += 1) {
        sent.push((await sendToOk(device(senders[i % 3]!), { conversationId: group.id, text: `m${i}` })).message);
        // Traffic elsewhere must never show up.
        if (i % 10 === 0) {
          await sendToOk(device(bob), { conversationId: other.id, text: 'elsewhere' });
          await sendOk(device(carol), { to: alice.id, text: 'a direct message' });
        }
      }
      const newestFirst = sent.map((message) => message.id).reverse();
      for (const limit of [1, 7, 25, 100]) {
        const seen: string[] = [];
        let query = `?limit=${limit}`;
        for (let pages = 0; ; pages += 1) {
          const page = await conversationMessages(server.baseUrl, carol.token, group.id, query);
          assert.ok(page.messages.length <= limit);
          seen.push(...page.messages.map((message) => message.id));
          if (!page.nextCursor || (limit === 1 && pages === 4)) break;
          query = `?limit=${limit}&before=${page.nextCursor}`;
        }
        assert.deepEqual(seen, newestFirst.slice(0, seen.length), `pages of ${limit}`);
        if (limit !== 1) assert.equal(seen.length, sent.length, `pages of ${limit}`);
      }
      const first = await conversationMessages(server.baseUrl, bob.token, group.id);
      assert.deepEqual(first.messages, [...sent].reverse());
      assert.equal(first.nextCursor, null);
    });

    test('the conversation list mixes direct conversations and groups, newest activity first', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const fromBob = (await sendOk(device(bob), { to: alice.id, text: 'b1' })).message;
      const quiet = await groupOf(alice, [bob], 'Quiet group');
      const fromCarol = (await sendOk(device(carol), { to: alice.id, text: 'c1' })).message;
      const busy = await groupOf(alice, [carol], 'Busy group');
      const inBusy = (await sendToOk(device(carol), { conversationId: busy.id, text: 'g1' })).message;

      const summary = (list: Awaited<ReturnType<typeof listConversations>>) =>
        list.conversations.map((c) => [c.type, c.type === 'group' ? c.title : c.peer?.name, c.lastMessage?.text ?? null, c.unreadCount, c.memberCount]);
      const aliceList = await listConversations(server.baseUrl, alice.token);
      assert.deepEqual(summary(aliceList), [
        ['group', 'Busy group', 'g1', 1, 2],
        ['direct', 'Carol', 'c1', 1, 2],
        // A group without messages counts from its creation.
        ['group', 'Quiet group', null, 0, 2],
        ['direct', 'Bob', 'b1', 1, 2],
      ]);
      const [busyEntry, carolEntry, , bobEntry] = aliceList.conversations;
      assert.deepEqual(busyEntry!.lastMessage, inBusy);
      assert.deepEqual(carolEntry!.lastMessage, fromCarol);
      assert.equal(carolEntry!.title, null);
      assert.equal(bobEntry!.peer!.id, bob.id);
      assert.equal(bobEntry!.id, fromBob.conversationId);
      assert.equal(roleOf(busyEntry!, alice.id), 'owner');

      // A message in the quiet group moves it to the top; Bob sees only what he is in.
      await sendToOk(device(bob), { conversationId: quiet.id, text: 'g2' });
      assert.deepEqual(
        (await listConversations(server.baseUrl, alice.token)).conversations.map((c) => c.id),
        [quiet.id, busy.id, fromCarol.conversationId, fromBob.conversationId],
      );
      assert.deepEqual(
        (await listConversations(server.baseUrl, bob.token)).conversations.map((c) => [c.id, c.unreadCount]),
        [
          [quiet.id, 0],
          [fromBob.conversationId, 0],
        ],
      );

      // Pages of two cover the same list.
      const firstPage = await listConversations(server.baseUrl, alice.token, '?limit=2');
      assert.ok(firstPage.nextCursor);
      const secondPage = await listConversations(server.baseUrl, alice.token, `?limit=2&before=${firstPage.nextCursor}`);
      assert.deepEqual(
        [...firstPage.conversations, ...secondPage.conversations].map((c) => c.id),
        [quiet.id, busy.id, fromCarol.conversationId, fromBob.conversationId],
      );
      assert.equal(secondPage.nextCursor, null);
    });

    test('a retry with the same clientMessageId returns the stored group message and delivers nothing twice, also when retries race', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const group = await groupOf(alice, [bob, carol]);
      const elsewhere = await groupOf(alice, [bob], 'Elsewhere');
      await settle([...alice.devices, device(bob), device(carol)]);
      const logs = [device(bob), device(carol), ...alice.devices].map(eventLog);
      const heardOf = (id: string) => logs.map((log) => log.of<ChatMessageEvent>('CHAT_MESSAGE', group.id).filter((event) => event.message.id === id).length);
      const payload = { conversationId: group.id, text: 'exactly once', clientMessageId: randomUUID() };

      const first = await sendToOk(device(alice), payload);
      assert.deepEqual(await sendToOk(device(alice), payload), first);
      const racing = { ...payload, clientMessageId: randomUUID() };
      const [a, b] = await Promise.all([sendToOk(device(alice, 0), racing), sendToOk(device(alice, 1), racing)]);
      assert.deepEqual(a.message, b.message);

      // The same clientMessageId for another text or another conversation is refused, and delivers nothing.
      for (const reused of [
        { ...payload, text: 'another text' },
        { ...payload, conversationId: elsewhere.id },
      ]) {
        const ack = await sendTo(device(alice), reused);
        assert.equal(ack.ok, false, JSON.stringify(reused));
        assert.equal(ack.ok === false && ack.error.code, 'VALIDATION_FAILED');
        assert.deepEqual(ack.ok === false && ack.error.details?.map((detail) => detail.path), ['clientMessageId']);
      }
      const direct = await emitAck(device(alice), 'CHAT_MESSAGE', { to: bob.id, text: 'exactly once', clientMessageId: payload.clientMessageId });
      assert.equal(direct.ok === false && direct.error.code, 'VALIDATION_FAILED', JSON.stringify(direct));

      await settle(logs.map((log) => log.socket));
      // Bob and Carol once each; the phone sent both copies (it has the acks), the laptop hears of the first once.
      assert.deepEqual(heardOf(first.message.id), [1, 1, 0, 1]);
      // Of the racing pair, whichever device's copy was stored, the other device hears of it once.
      const racingHeard = heardOf(a.message.id);
      assert.deepEqual(racingHeard.slice(0, 2), [1, 1]);
      assert.equal(racingHeard[2]! + racingHeard[3]!, 1);
      assert.deepEqual(
        (await conversationMessages(server.baseUrl, carol.token, group.id)).messages.map((message) => message.id),
        [a.message.id, first.message.id],
      );
      assert.deepEqual((await conversationMessages(server.baseUrl, bob.token, elsewhere.id)).messages, []);
    });

    test('an offline member catches up through sync exactly once: messages, the group’s latest state, read positions', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      const group = await groupOf(alice, [bob, carol]);
      const [phone, laptop] = [device(bob, 0), device(bob, 1)];
      const before = (await sendToOk(device(alice), { conversationId: group.id, text: 'before' })).message;

      // A new device starts from the head: nothing before it, and a cursor to continue from.
      const head = await sync(server.baseUrl, bob.token);
      assert.deepEqual(head, { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor: head.cursor, hasMore: false });
      assert.equal(typeof head.cursor, 'string');
      const daveCursor = await syncHead(server.baseUrl, dave.token);
      phone.disconnect();

      const missed: MessageDto[] = [];
      for (let i = 0; i < 3; i += 1) missed.push((await sendToOk(device(alice), { conversationId: group.id, text: `missed a${i}` })).message);
      const renamed = await request(server.baseUrl, 'PATCH', `/api/chat/groups/${group.id}`, { token: alice.token, body: { title: 'Renamed trip' } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      await addMembers(server.baseUrl, alice.token, group.id, [dave.id]);
      for (let i = 0; i < 2; i += 1) missed.push((await sendToOk(device(carol), { conversationId: group.id, text: `missed c${i}` })).message);
      missed.push((await sendToOk(device(dave), { conversationId: group.id, text: 'missed d0' })).message);
      const carolRead = await emitAck(device(carol), 'MESSAGE_READ', { messageId: missed[1]!.id });
      assert.equal(carolRead.ok, true, JSON.stringify(carolRead));
      // Bob's laptop reads meanwhile: the phone must learn its own user's read position too.
      const bobRead = await emitAck(laptop, 'MESSAGE_READ', { messageId: missed[2]!.id });
      assert.equal(bobRead.ok, true, JSON.stringify(bobRead));

      const caughtUp = await syncAll(server.baseUrl, bob.token, head.cursor, 2);
      assert.ok(caughtUp.pages > 1, 'small pages: the cursor carries on between them');
      assert.deepEqual(texts(caughtUp.messages), texts(missed), 'every missed message once, in order');
      assert.deepEqual(caughtUp.messages, missed);
      assert.ok(!caughtUp.messages.some((message) => message.id === before.id));
      // The group once, in its latest state: as it is read now.
      assert.deepEqual(caughtUp.conversations, [await getConversation(server.baseUrl, bob.token, group.id)]);
      assert.equal(caughtUp.conversations[0]!.title, 'Renamed trip');
      assert.equal(caughtUp.conversations[0]!.memberCount, 4);
      assert.equal(caughtUp.conversations[0]!.unreadCount, 3);
      // Joining counts as having read what came before: Dave's position starts at the last message before he joined.
      const daveJoined = caughtUp.reads.find((read) => read.userId === dave.id);
      assert.equal(daveJoined?.lastReadMessageId, missed[2]!.id);
      assert.deepEqual(
        caughtUp.reads.filter((read) => read !== daveJoined).sort((x, y) => x.userId.localeCompare(y.userId)),
        [
          { conversationId: group.id, userId: carol.id, lastReadMessageId: missed[1]!.id, readAt: carolRead.readAt },
          { conversationId: group.id, userId: bob.id, lastReadMessageId: missed[2]!.id, readAt: bobRead.readAt },
        ].sort((x, y) => x.userId.localeCompare(y.userId)),
      );
      assert.deepEqual(caughtUp.left, []);
      const nothingMore = await sync(server.baseUrl, bob.token, caughtUp.cursor);
      assert.deepEqual(nothingMore, { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor: nothingMore.cursor, hasMore: false });

      // Dave, added meanwhile, learns of the group and of every message since he joined, each once.
      const daves = await syncAll(server.baseUrl, dave.token, daveCursor, 3);
      assert.deepEqual(daves.conversations.map((conversation) => conversation.id), [group.id]);
      const daveIds = daves.messages.map((message) => message.id);
      assert.equal(new Set(daveIds).size, daveIds.length, 'no message twice');
      for (const message of missed.slice(3)) assert.ok(daveIds.includes(message.id), `Dave's sync has ${message.text}`);

      // Back online, the live events carry on where sync ended.
      const reconnected = await connectSocket(server.baseUrl, bob.token);
      const live = nextEvent<ChatMessageEvent>(reconnected, 'CHAT_MESSAGE');
      const after = (await sendToOk(device(alice), { conversationId: group.id, text: 'welcome back' })).message;
      assert.deepEqual((await live).message, after);
      assert.deepEqual((await sync(server.baseUrl, bob.token, caughtUp.cursor)).messages, [after]);
    });
  });
}
