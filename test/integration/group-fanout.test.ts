import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import { newId } from '../../src/shared/ids.js';
import { postgresTargets } from '../support/databases.js';
import {
  allMembers,
  eventLog,
  getConversation,
  listConversations,
  mintAccessToken,
  sendToOk,
  settle,
  storedUsers,
  syncAll,
  syncHead,
  tableRowCounts,
} from '../support/groups.js';
import { connectSocket, nextEvent, type ClientSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const MEMBERS = 1000;
const CONNECTED = 200;

for (const target of postgresTargets()) {
  describe(`group fan-out (${target.kind})`, { skip: target.skip }, () => {
    // A database of its own, so that its row counts are this test's alone.
    const server = useTestApp(target.kind, {}, { privateDatabase: true });

    test(`a message to a ${MEMBERS}-member group reaches all ${CONNECTED} connected member sockets and is stored once`, async (t) => {
      const [owner, ...members] = await storedUsers(server, MEMBERS);
      const [outsider] = await storedUsers(server, 1, 'Outsider');
      const groupId = newId();
      await server.app.storage.conversations.createGroup({
        id: groupId,
        title: 'Everyone',
        ownerId: owner!.id,
        memberIds: members.map((member) => member.id),
        createdAt: new Date(),
      });
      const online = members.slice(0, CONNECTED);
      const offline = members.at(-1)!;
      const tokens = new Map<string, string>();
      for (const user of [owner!, outsider!, ...online, offline]) tokens.set(user.id, await mintAccessToken(server, user.id));
      const token = (id: string) => tokens.get(id)!;
      const offlineCursor = await syncHead(server.baseUrl, token(offline.id));

      const database = { kind: target.kind, databaseUrl: server.config.databaseUrl, dataDir: server.dataDir };
      await server.stop();
      const before = await tableRowCounts(database);
      await server.start();

      const connect = async (ids: string[]): Promise<ClientSocket[]> => {
        const sockets: ClientSocket[] = [];
        for (let start = 0; start < ids.length; start += 50) {
          sockets.push(...(await Promise.all(ids.slice(start, start + 50).map((id) => connectSocket(server.baseUrl, token(id), 'websocket')))));
        }
        return sockets;
      };
      const [sender, stranger] = await connect([owner!.id, outsider!.id]);
      const receivers = await connect(online.map((member) => member.id));
      const quiet = [sender!, stranger!].map(eventLog);

      const arriving = receivers.map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE', 30_000));
      const logs = receivers.map(eventLog);
      const sentAt = performance.now();
      const { message } = await sendToOk(sender!, { conversationId: groupId, text: 'hello, everyone' });
      let last = 0;
      await Promise.all(arriving.map((event) => event.then(() => (last = performance.now()))));
      t.diagnostic(`send to the last of ${CONNECTED} member sockets: ${Math.round(last - sentAt)} ms`);
      for (const received of await Promise.all(arriving)) assert.deepEqual(received, { message });
      await settle([...receivers, sender!, stranger!]);
      for (const log of logs) assert.equal(log.of('CHAT_MESSAGE', groupId).length, 1, 'each member socket once');
      for (const log of quiet) assert.deepEqual(log.of('CHAT_MESSAGE', groupId), [], 'neither the sending socket nor an outsider');

      // Unread counts, the conversation list and sync are right for a member who was not connected.
      const theirs = await getConversation(server.baseUrl, token(offline.id), groupId);
      assert.equal(theirs.unreadCount, 1);
      assert.equal(theirs.memberCount, MEMBERS);
      assert.equal(theirs.members.length, 100, 'an embedded member list is cut to the first 100');
      assert.deepEqual(theirs.lastMessage, message);
      assert.deepEqual((await listConversations(server.baseUrl, token(offline.id))).conversations.map((c) => [c.id, c.unreadCount]), [[groupId, 1]]);
      assert.deepEqual((await syncAll(server.baseUrl, token(offline.id), offlineCursor)).messages, [message]);
      assert.equal((await getConversation(server.baseUrl, token(owner!.id), groupId)).unreadCount, 0);

      // The members endpoint pages through all of them, each once, by join time.
      const paged = await allMembers(server.baseUrl, token(offline.id), groupId, 100);
      assert.equal(paged.members.length, MEMBERS);
      assert.equal(new Set(paged.members.map((member) => member.userId)).size, MEMBERS);
      assert.ok(paged.pages <= MEMBERS / 100 + 1, `${paged.pages} pages of 100`);
      assert.deepEqual(paged.members.slice(0, 100), theirs.members);
      assert.deepEqual(
        paged.members.filter((member) => member.role === 'owner').map((member) => member.userId),
        [owner!.id],
      );

      await server.stop();
      const afterwards = await tableRowCounts(database);
      const grown = [...afterwards].map(([table, rows]) => [table, rows - (before.get(table) ?? 0)] as const).filter(([, delta]) => delta !== 0);
      t.diagnostic(`rows written for the message: ${JSON.stringify(Object.fromEntries(grown))}`);
      assert.equal(afterwards.get('messages')! - before.get('messages')!, 1, 'one stored row for the message');
      const written = grown.reduce((sum, [, delta]) => sum + delta, 0);
      assert.ok(written <= 5, `no write per member: ${JSON.stringify(Object.fromEntries(grown))}`);
    });
  });
}
