import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMessageEvent, ConversationsResponse, MessageDto, SyncResponse } from '../../src/protocol/chat.js';
import { newId } from '../../src/shared/ids.js';
import { chatUser, device, history, sendOk, storeMessage, texts, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { request } from '../support/http.js';
import { connectSocket, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`chat history and sync (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    async function sync(user: ChatUser, after?: string, limit?: number): Promise<SyncResponse> {
      const query = new URLSearchParams();
      if (after !== undefined) query.set('after', after);
      if (limit !== undefined) query.set('limit', String(limit));
      const result = await request<SyncResponse>(server.baseUrl, 'GET', `/api/chat/sync?${query}`, { token: user.token });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body;
    }

    /** Every page of the stream after `after`, as the client algorithm in docs/api/chat.md does it. */
    async function syncAll(user: ChatUser, after: string, limit: number): Promise<{ messages: MessageDto[]; cursor: string }> {
      const messages: MessageDto[] = [];
      let cursor = after;
      for (;;) {
        const page = await sync(user, cursor, limit);
        messages.push(...page.messages);
        cursor = page.cursor;
        if (!page.hasMore) return { messages, cursor };
      }
    }

    /** Where a device stands once it has synced everything so far. */
    const caughtUpCursor = async (user: ChatUser) => (await sync(user)).cursor;

    async function conversations(user: ChatUser, query = ''): Promise<ConversationsResponse> {
      const result = await request<ConversationsResponse>(server.baseUrl, 'GET', `/api/chat/conversations${query}`, { token: user.token });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body;
    }

    test('a device that was offline gets what it missed exactly once, in order, with the receipts it missed', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const seen = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
      const before = await sendOk(device(alice), { to: bob.id, text: 'while online' });
      await seen;
      const position = await caughtUpCursor(bob);
      assert.equal((await sync(bob, position)).messages.length, 0);

      device(bob).disconnect();
      const missed: MessageDto[] = [];
      for (let i = 0; i < 7; i += 1) {
        const from = i % 2 ? carol : alice;
        missed.push((await sendOk(device(from), { to: bob.id, text: `missed ${i}` })).message);
      }
      // Alice, offline too, misses the read receipt Bob sends from another device.
      device(alice).disconnect();
      const aliceBefore = await caughtUpCursor(alice);
      const bobPhone = await connectSocket(server.baseUrl, bob.token);
      const read = await emitAck(bobPhone, 'MESSAGE_READ', { messageId: before.message.id });
      assert.equal(read.ok, true);

      const caughtUp = await syncAll(bob, position, 3);
      assert.deepEqual(texts(caughtUp.messages), [...texts(missed), 'while online']);
      // The last entry is the read message again, now in its read state: a change, not a duplicate message.
      assert.equal(caughtUp.messages.at(-1)!.readAt, read.readAt);
      assert.equal((await sync(bob, caughtUp.cursor)).messages.length, 0);

      const aliceChanges = await syncAll(alice, aliceBefore, 50);
      assert.deepEqual(aliceChanges.messages.map((message) => [message.id, message.readAt]), [[before.message.id, read.readAt]]);
    });

    test('without `after`, sync answers the current cursor only: where a new device starts', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const start = await sync(bob);
      assert.deepEqual({ ...start, cursor: typeof start.cursor }, { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor: 'string', hasMore: false });
      const { message } = await sendOk(device(alice), { to: bob.id, text: 'hello' });
      const head = await sync(bob);
      assert.deepEqual(head.messages, []);
      const changes = await sync(bob, start.cursor);
      assert.deepEqual(changes.messages, [message]);
      // The conversation came into being with its first message.
      assert.deepEqual(changes.conversations.map((conversation) => [conversation.id, conversation.peer?.id]), [[message.conversationId, alice.id]]);
      assert.deepEqual((await sync(bob, head.cursor)).messages, []);
      // Positions of the per-user streams before conversations, and anything made up, are refused.
      for (const after of ['-1', '17', 'not-a-cursor', start.cursor.slice(0, -2)]) {
        const bad = await request(server.baseUrl, 'GET', `/api/chat/sync?after=${encodeURIComponent(after)}`, { token: bob.token });
        assert.equal(bad.status, 400, after);
        assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
      }
    });

    test('a dropped device reconnects as a new connection and catches up through sync, missing nothing', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const [phone, laptop] = [device(bob, 0), device(bob, 1)];
      const seen = nextEvent<ChatMessageEvent>(phone, 'CHAT_MESSAGE');
      const before = await sendOk(device(alice), { to: bob.id, text: 'before the drop' });
      await seen;
      const position = await caughtUpCursor(bob);

      // The network goes: the transport closes under the socket, as when a phone loses its signal.
      const dropped = nextEvent(phone, 'disconnect');
      phone.io.engine.close();
      await dropped;
      const missed = [];
      for (const text of ['during the drop 1', 'during the drop 2']) missed.push((await sendOk(device(alice), { to: bob.id, text })).message);
      // Bob's laptop reads the first message meanwhile.
      const read = await emitAck(laptop, 'MESSAGE_READ', { messageId: before.message.id });
      assert.equal(read.ok, true);

      const droppedId = phone.id;
      phone.connect();
      await nextEvent(phone, 'connect');
      assert.notEqual(phone.id, droppedId, 'a new connection: the server keeps nothing of a dropped socket');
      const caughtUp = await syncAll(bob, position, 1);
      assert.deepEqual(caughtUp.messages, [...missed, { ...before.message, deliveredAt: read.readAt, readAt: read.readAt }]);
      // From here on the live events continue where sync ended.
      const live = nextEvent<ChatMessageEvent>(phone, 'CHAT_MESSAGE');
      const { message } = await sendOk(device(alice), { to: bob.id, text: 'after the reconnect' });
      assert.deepEqual((await live).message, message);
      assert.deepEqual((await sync(bob, caughtUp.cursor)).messages, [message]);
    });

    test('history pages newest first without gaps or overlaps, however the pages are cut', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const ids: string[] = [];
      for (let i = 0; i < 230; i += 1) {
        const [from, to] = i % 3 ? [alice, bob] : [bob, alice];
        const id = newId();
        ids.push(id);
        await storeMessage(server.app.storage, from.id, to.id, `m${i}`, id);
        // Another conversation interleaved: it must never show up.
        if (i % 50 === 0) await sendOk(device(carol), { to: alice.id, text: 'elsewhere' });
      }
      for (const limit of [1, 7, 50, 100]) {
        const pages: string[][] = [];
        let query = `?limit=${limit}`;
        for (;;) {
          const page = await history(server.baseUrl, alice.token, bob.id, query);
          assert.ok(page.messages.length <= limit);
          pages.push(page.messages.map((message) => message.id));
          if (!page.nextCursor) break;
          query = `?limit=${limit}&before=${page.nextCursor}`;
          if (limit === 1 && pages.length > 5) break; // a few one-message pages are enough
        }
        const seen = pages.flat();
        const expected = [...ids].reverse().slice(0, seen.length);
        assert.deepEqual(seen, expected, `pages of ${limit}`);
        if (limit !== 1) assert.equal(seen.length, ids.length);
      }
      const first = await history(server.baseUrl, bob.token, alice.id);
      assert.equal(first.messages.length, 50);
      assert.equal(first.messages[0]!.text, 'm229');
    });

    test('history is private to the two people in it', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const eve = await chatUser(server.baseUrl, 'Eve');
      const eveStart = await caughtUpCursor(eve);
      await sendOk(device(alice), { to: bob.id, text: 'just between us' });
      assert.deepEqual((await history(server.baseUrl, eve.token, alice.id)).messages, []);
      assert.deepEqual((await history(server.baseUrl, eve.token, bob.id)).messages, []);
      assert.equal((await sync(eve, eveStart)).messages.length, 0);
      assert.equal((await conversations(eve)).conversations.length, 0);
      const unknown = await request(server.baseUrl, 'GET', `/api/chat/history/${newId()}`, { token: eve.token });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'NOT_FOUND');
      const malformed = await request(server.baseUrl, 'GET', `/api/chat/history/${alice.id}?before=%7B%22%24ne%22%3Anull%7D`, { token: eve.token });
      assert.equal(malformed.status, 400);
      const anonymous = await request(server.baseUrl, 'GET', `/api/chat/history/${alice.id}`);
      assert.equal(anonymous.status, 401);
    });

    test('conversations list peers by latest message, with unread counts going up and down', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      assert.deepEqual(await conversations(alice), { conversations: [], nextCursor: null });

      const fromBob = [];
      for (const text of ['b1', 'b2', 'b3']) fromBob.push((await sendOk(device(bob), { to: alice.id, text })).message);
      await sendOk(device(carol), { to: alice.id, text: 'c1' });
      const mine = (await sendOk(device(alice), { to: dave.id, text: 'a1' })).message;

      const list = await conversations(alice);
      assert.deepEqual(
        list.conversations.map((c) => [c.peer!.name, c.lastMessage!.text, c.unreadCount]),
        [
          ['Dave', 'a1', 0],
          ['Carol', 'c1', 1],
          ['Bob', 'b3', 3],
        ],
      );
      // Bob has written to Alice: she sees his presence. Dave has not: his is not visible to her.
      assert.deepEqual(list.conversations[2]!.peer, { id: bob.id, name: 'Bob', online: true, lastSeenAt: null });
      assert.deepEqual(list.conversations[0]!.peer, { id: dave.id, name: 'Dave', online: null, lastSeenAt: null });
      assert.deepEqual(list.conversations[0]!.lastMessage, mine);
      // The other side's view of the same conversation.
      const bobs = await conversations(bob);
      assert.deepEqual(bobs.conversations.map((c) => [c.peer!.id, c.lastMessage!.text, c.unreadCount]), [[alice.id, 'b3', 0]]);

      await emitAck(device(alice), 'MESSAGE_READ', { messageId: fromBob[1]!.id });
      await sendOk(device(bob), { to: alice.id, text: 'b4' });
      const after = await conversations(alice);
      assert.deepEqual(
        after.conversations.map((c) => [c.peer!.name, c.lastMessage!.text, c.unreadCount]),
        [
          ['Bob', 'b4', 2],
          ['Dave', 'a1', 0],
          ['Carol', 'c1', 1],
        ],
      );

      const firstPage = await conversations(alice, '?limit=2');
      assert.equal(firstPage.conversations.length, 2);
      assert.ok(firstPage.nextCursor);
      const secondPage = await conversations(alice, `?limit=2&before=${firstPage.nextCursor}`);
      assert.deepEqual(secondPage.conversations.map((c) => c.peer!.name), ['Carol']);
      assert.equal(secondPage.nextCursor, null);
    });
  });
}
