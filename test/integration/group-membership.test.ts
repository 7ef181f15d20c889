import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import type { ConversationUpdatedEvent } from '../../src/protocol/conversations.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertRetryAfter, assertValidationFailed } from '../support/assertions.js';
import { chatUser, device, sendOk, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import {
  addMembers,
  assertNoAccess,
  assertNothingAbout,
  conversationMessages,
  createGroup,
  eventLog,
  getConversation,
  leave,
  listConversations,
  memberIds,
  nextMatching,
  removeMember,
  roleOf,
  sendToOk,
  setRole,
  settle,
  shared,
  sorted,
  syncAll,
  syncHead,
  type EventLog,
} from '../support/groups.js';
import { request } from '../support/http.js';
import { connectSocket, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const MAX_MEMBERS = 6;

const updatesOf = (log: EventLog, conversationId: string) => log.of<ConversationUpdatedEvent>('CONVERSATION_UPDATED', conversationId);

for (const target of databaseTargets()) {
  describe(`group membership (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { GROUP_MAX_MEMBERS: String(MAX_MEMBERS) });

    const users = (...names: string[]) => Promise.all(names.map((name) => chatUser(server.baseUrl, name)));
    const patch = (token: string, path: string, body: unknown) => request(server.baseUrl, 'PATCH', `/api/chat/groups/${path}`, { token, body });
    const post = (token: string, path: string, body: unknown) => request(server.baseUrl, 'POST', `/api/chat/groups${path}`, { token, body });

    test('adding members tells every member, the new ones included, and the new members receive from then on', async () => {
      const [alice, bob, carol, dave] = (await users('Alice', 'Bob', 'Carol', 'Dave')) as [ChatUser, ChatUser, ChatUser, ChatUser];
      const group = await createGroup(server.baseUrl, alice.token, 'Book club', [bob.id]);
      await settle([device(alice), device(bob)]);
      const logs = [alice, bob, carol, dave].map((user) => eventLog(device(user)));
      const told = [alice, bob, carol, dave].map((user) =>
        nextMatching<ConversationUpdatedEvent>(device(user), 'CONVERSATION_UPDATED', (event) => event.conversation.id === group.id),
      );

      const added = await addMembers(server.baseUrl, alice.token, group.id, [carol.id, dave.id]);
      assert.equal(added.memberCount, 4);
      assert.deepEqual(memberIds(added), sorted([alice.id, bob.id, carol.id, dave.id]));
      assert.equal(roleOf(added, carol.id), 'member');
      for (const event of await Promise.all(told)) {
        assert.equal(event.change.type, 'membersAdded');
        assert.deepEqual(event.change.type === 'membersAdded' && sorted(event.change.userIds), sorted([carol.id, dave.id]));
        assert.deepEqual(event.conversation, shared(added));
      }
      // The new members' devices are in the group at once.
      const arriving = [carol, dave].map((user) => nextEvent<ChatMessageEvent>(device(user), 'CHAT_MESSAGE'));
      const { message } = await sendToOk(device(bob), { conversationId: group.id, text: 'welcome' });
      for (const event of await Promise.all(arriving)) assert.deepEqual(event.message, message);
      await settle(logs.map((log) => log.socket));
      for (const log of logs) assert.equal(updatesOf(log, group.id).length, 1, 'one CONVERSATION_UPDATED each');
      assert.equal((await getConversation(server.baseUrl, carol.token, group.id)).unreadCount, 1);
    });

    test('a removed member hears of it once, and their devices stop receiving at once', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const group = await createGroup(server.baseUrl, alice.token, 'Book club', [bob.id, carol.id]);
      await sendToOk(device(carol), { conversationId: group.id, text: 'before' });
      const bobCursor = await syncHead(server.baseUrl, bob.token);
      await settle([device(alice), ...bob.devices, device(carol)]);
      const bobLogs = bob.devices.map(eventLog);
      const memberLogs = [device(alice), device(carol)].map(eventLog);

      const removed = await removeMember(server.baseUrl, alice.token, group.id, bob.id);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual(memberIds(removed.body.conversation), sorted([alice.id, carol.id]));
      assert.equal(removed.body.conversation.memberCount, 2);
      // No waiting: whatever happens in the group from now on reaches Bob's devices no more.
      const after = (await sendToOk(device(carol), { conversationId: group.id, text: 'after' })).message;
      assert.equal((await emitAck(device(carol), 'CHAT_TYPING', { conversationId: group.id })).ok, true);
      assert.equal((await emitAck(device(alice), 'MESSAGE_READ', { messageId: after.id })).ok, true);
      assert.equal((await patch(alice.token, group.id, { title: 'Renamed without Bob' })).status, 200);

      await assertNothingAbout(bobLogs, group.id, 'Bob after his removal', ['CONVERSATION_UPDATED']);
      for (const log of bobLogs) {
        const updates = updatesOf(log, group.id);
        assert.equal(updates.length, 1, 'exactly one CONVERSATION_UPDATED on each of Bob’s devices');
        assert.deepEqual(updates[0]!.change, { type: 'membersRemoved', userIds: [bob.id] });
        assert.ok(!memberIds(updates[0]!.conversation).includes(bob.id));
      }
      await settle(memberLogs.map((log) => log.socket));
      for (const log of memberLogs) {
        assert.deepEqual(
          updatesOf(log, group.id).map((event) => event.change.type),
          ['membersRemoved', 'titleChanged'],
        );
      }
      // Sync tells Bob's other devices to drop the group, and nothing of what came after.
      const changes = await syncAll(server.baseUrl, bob.token, bobCursor);
      assert.deepEqual(changes.left.map((left) => left.conversationId), [group.id]);
      assert.ok(!changes.messages.some((message) => message.id === after.id));
      assert.ok(!changes.conversations.some((conversation) => conversation.id === group.id && conversation.title === 'Renamed without Bob'));
      assert.ok(!(await listConversations(server.baseUrl, bob.token)).conversations.some((conversation) => conversation.id === group.id));
    });

    test('a device that connects later receives the groups its user is in now, and none it was removed from', async () => {
      const [alice, bob, carol] = (await users('Alice', 'Bob', 'Carol')) as [ChatUser, ChatUser, ChatUser];
      const kept = await createGroup(server.baseUrl, alice.token, 'Kept', [bob.id]);
      const dropped = await createGroup(server.baseUrl, alice.token, 'Dropped', [bob.id, carol.id]);
      assert.equal((await removeMember(server.baseUrl, alice.token, dropped.id, bob.id)).status, 200);
      const later = await connectSocket(server.baseUrl, bob.token);
      const log = eventLog(later);
      const arriving = nextEvent<ChatMessageEvent>(later, 'CHAT_MESSAGE');
      const inKept = (await sendToOk(device(alice), { conversationId: kept.id, text: 'still here' })).message;
      assert.deepEqual((await arriving).message, inKept);
      await sendToOk(device(alice), { conversationId: dropped.id, text: 'not for Bob' });
      assert.equal((await emitAck(device(carol), 'CHAT_TYPING', { conversationId: dropped.id })).ok, true);
      await assertNothingAbout([log], dropped.id, 'a new device of a removed member');
      // Added back, the same connection receives again.
      await addMembers(server.baseUrl, alice.token, dropped.id, [bob.id]);
      const back = nextEvent<ChatMessageEvent>(later, 'CHAT_MESSAGE');
      const again = (await sendToOk(device(carol), { conversationId: dropped.id, text: 'welcome back' })).message;
      assert.deepEqual((await back).message, again);
    });

    test('a device connecting alone and one connecting beside it receive the groups their user is in now, and follow later changes', async () => {
      const [alice, bob, carol] = (await users('Alice', 'Bob', 'Carol')) as [ChatUser, ChatUser, ChatUser];
      device(bob).disconnect();
      const kept = await createGroup(server.baseUrl, alice.token, 'Kept', [bob.id]);
      const dropped = await createGroup(server.baseUrl, alice.token, 'Dropped', [bob.id, carol.id]);
      assert.equal((await removeMember(server.baseUrl, alice.token, dropped.id, bob.id)).status, 200);
      // The first reads Bob's groups; the second connects while the first is in them.
      const alone = await connectSocket(server.baseUrl, bob.token);
      const beside = await connectSocket(server.baseUrl, bob.token);
      const sockets = [alone, beside];
      const logs = sockets.map(eventLog);
      const receives = async (conversationId: string, text: string) => {
        const arriving = sockets.map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE'));
        const { message } = await sendToOk(device(alice), { conversationId, text });
        for (const event of await Promise.all(arriving)) assert.deepEqual(event.message, message, text);
      };
      await receives(kept.id, 'in Kept');
      await sendToOk(device(alice), { conversationId: dropped.id, text: 'not for Bob' });
      await assertNothingAbout(logs, dropped.id, 'the new devices of a removed member');

      const later = await createGroup(server.baseUrl, alice.token, 'Later', [bob.id]);
      await receives(later.id, 'in Later');
      await settle(sockets);
      const afterLogs = sockets.map(eventLog);
      assert.equal((await removeMember(server.baseUrl, alice.token, later.id, bob.id)).status, 200);
      await sendToOk(device(alice), { conversationId: later.id, text: 'after Bob left' });
      await assertNothingAbout(afterLogs, later.id, 'the devices of a member removed while connected', ['CONVERSATION_UPDATED']);
    });

    test('a member who leaves gets 204, hears of it once on every device, and their other device stops receiving at once', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const carol = await chatUser(server.baseUrl, 'Carol', 2);
      const group = await createGroup(server.baseUrl, alice.token, 'Book club', [carol.id]);
      await settle([device(alice), ...carol.devices]);
      const carolLogs = carol.devices.map(eventLog);
      const aliceTold = nextMatching<ConversationUpdatedEvent>(device(alice), 'CONVERSATION_UPDATED', (event) => event.conversation.id === group.id);

      await leave(server.baseUrl, carol.token, group.id, carol.id);
      await sendToOk(device(alice), { conversationId: group.id, text: 'anyone there?' });
      assert.equal((await emitAck(device(alice), 'CHAT_TYPING', { conversationId: group.id })).ok, true);

      assert.deepEqual((await aliceTold).change, { type: 'membersRemoved', userIds: [carol.id] });
      await assertNothingAbout(carolLogs, group.id, 'Carol after leaving', ['CONVERSATION_UPDATED']);
      for (const log of carolLogs) assert.deepEqual(updatesOf(log, group.id).map((event) => event.change), [{ type: 'membersRemoved', userIds: [carol.id] }]);
      assert.equal((await getConversation(server.baseUrl, alice.token, group.id)).memberCount, 1);
    });

    test('a removed member gets 404 on every path and NOT_FOUND on every event, and changes nothing', async () => {
      const [alice, bob, carol, outsider] = (await users('Alice', 'Bob', 'Carol', 'Outsider')) as [ChatUser, ChatUser, ChatUser, ChatUser];
      const group = await createGroup(server.baseUrl, alice.token, 'Book club', [bob.id, carol.id]);
      const message = (await sendToOk(device(carol), { conversationId: group.id, text: 'for members' })).message;
      assert.equal((await removeMember(server.baseUrl, alice.token, group.id, bob.id)).status, 200);
      const before = await getConversation(server.baseUrl, alice.token, group.id);
      const memberLogs = [device(alice), device(carol)].map(eventLog);

      await assertNoAccess(server.baseUrl, { id: bob.id, token: bob.token, socket: device(bob) }, group.id, {
        memberId: carol.id,
        outsiderId: outsider.id,
        messageId: message.id,
      });
      assert.deepEqual(await getConversation(server.baseUrl, alice.token, group.id), before, 'nothing changed');
      assert.deepEqual((await conversationMessages(server.baseUrl, alice.token, group.id)).messages, [message]);
      await assertNothingAbout(memberLogs, group.id, 'the members hear nothing of Bob’s attempts');
    });

    test('non-members get NOT_FOUND on every path and event, exactly as for a conversation that does not exist', async () => {
      const [alice, bob, eve] = (await users('Alice', 'Bob', 'Eve')) as [ChatUser, ChatUser, ChatUser];
      const eveCursor = await syncHead(server.baseUrl, eve.token);
      const group = await createGroup(server.baseUrl, alice.token, 'Private', [bob.id]);
      const message = (await sendToOk(device(bob), { conversationId: group.id, text: 'members only' })).message;
      const direct = (await sendOk(device(alice), { to: bob.id, text: 'just us' })).message;
      const memberLogs = [device(alice), device(bob)].map(eventLog);
      const stranger = { id: eve.id, token: eve.token, socket: device(eve) };
      const known = { memberId: bob.id, outsiderId: eve.id, messageId: message.id };

      await assertNoAccess(server.baseUrl, stranger, group.id, known);
      await assertNoAccess(server.baseUrl, stranger, newId(), known);
      assert.deepEqual((await getConversation(server.baseUrl, alice.token, group.id)).title, 'Private');
      await assertNothingAbout(memberLogs, group.id, 'the members hear nothing of Eve');
      assert.deepEqual((await syncAll(server.baseUrl, eve.token, eveCursor)).messages, []);

      // A direct conversation is no more open to a third person, and it is no group to manage.
      for (const path of ['', '/members', '/messages']) {
        assertError(await request(server.baseUrl, 'GET', `/api/chat/conversations/${direct.conversationId}${path}`, { token: eve.token }), 404, 'NOT_FOUND');
      }
      for (const event of ['CHAT_MESSAGE', 'CHAT_TYPING']) {
        const code = await emitAck(device(eve), event, { conversationId: direct.conversationId, text: 'hi both' });
        assert.equal(code.error?.code, 'NOT_FOUND', event);
      }
      for (const [method, path, body] of [
        ['PATCH', `/api/chat/groups/${direct.conversationId}`, { title: 'a group now' }],
        ['POST', `/api/chat/groups/${direct.conversationId}/members`, { userIds: [eve.id] }],
      ] as const) {
        assertError(await request(server.baseUrl, method, path, { token: alice.token, body }), 404, 'NOT_FOUND');
      }
      assert.equal((await getConversation(server.baseUrl, alice.token, direct.conversationId)).memberCount, 2);
      assert.equal((await request(server.baseUrl, 'GET', `/api/chat/conversations/${group.id}`)).status, 401);
    });

    test('role rules: members change nothing, admins rename and manage members, only the owner changes roles', async () => {
      const [alice, bob, carol, dave, erin] = (await users('Alice', 'Bob', 'Carol', 'Dave', 'Erin')) as [ChatUser, ChatUser, ChatUser, ChatUser, ChatUser];
      const group = await createGroup(server.baseUrl, alice.token, 'Committee', [bob.id, carol.id, dave.id]);
      const forbidden = async (token: string, method: string, path: string, body?: unknown) =>
        assertError(await request(server.baseUrl, method, `/api/chat/groups/${group.id}${path}`, { token, ...(body ? { body } : {}) }), 403, 'FORBIDDEN');

      // A member.
      await forbidden(bob.token, 'PATCH', '', { title: 'Bob’s committee' });
      await forbidden(bob.token, 'POST', '/members', { userIds: [erin.id] });
      await forbidden(bob.token, 'DELETE', `/members/${carol.id}`);
      await forbidden(bob.token, 'PATCH', `/members/${carol.id}`, { role: 'admin' });
      await forbidden(bob.token, 'PATCH', `/members/${bob.id}`, { role: 'admin' });
      const unchanged = await getConversation(server.baseUrl, alice.token, group.id);
      assert.equal(unchanged.title, 'Committee');
      assert.equal(unchanged.memberCount, 4);

      // The owner makes Bob an admin: everyone hears of it.
      await settle([alice, bob, carol, dave].map((user) => device(user)));
      const logs = [alice, bob, carol, dave].map((user) => eventLog(device(user)));
      await setRole(server.baseUrl, alice.token, group.id, bob.id, 'admin');
      assert.equal(roleOf(await getConversation(server.baseUrl, carol.token, group.id), bob.id), 'admin');

      // An admin renames, adds and removes members, but changes no roles and cannot remove the owner.
      const renamed = await patch(bob.token, group.id, { title: 'Bob’s committee' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.conversation.title, 'Bob’s committee');
      await addMembers(server.baseUrl, bob.token, group.id, [erin.id]);
      const removed = await removeMember(server.baseUrl, bob.token, group.id, erin.id);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      await forbidden(bob.token, 'PATCH', `/members/${carol.id}`, { role: 'admin' });
      await forbidden(bob.token, 'DELETE', `/members/${alice.id}`);

      await settle(logs.map((log) => log.socket));
      for (const log of logs) {
        assert.deepEqual(
          updatesOf(log, group.id).map((event) => event.change),
          [
            { type: 'roleChanged', userId: bob.id, role: 'admin' },
            { type: 'titleChanged' },
            { type: 'membersAdded', userIds: [erin.id] },
            { type: 'membersRemoved', userIds: [erin.id] },
          ],
        );
      }
      const titled = updatesOf(logs[2]!, group.id)[1]!;
      assert.equal(titled.conversation.title, 'Bob’s committee');

      // The owner's own rules: no 'owner' role to give, no role for a non-member, the owner's role only passes on leaving.
      assertValidationFailed(await patch(alice.token, `${group.id}/members/${carol.id}`, { role: 'owner' }), 'body.role');
      assertError(await patch(alice.token, `${group.id}/members/${erin.id}`, { role: 'admin' }), 404, 'NOT_FOUND');
      const selfDemotion = await patch(alice.token, `${group.id}/members/${alice.id}`, { role: 'member' });
      assert.ok(selfDemotion.status >= 400 && selfDemotion.status < 500, `the owner demoting themself: ${selfDemotion.status}`);
      assert.equal(roleOf(await getConversation(server.baseUrl, alice.token, group.id), alice.id), 'owner');

      // Bob back to member: he may no longer rename.
      await setRole(server.baseUrl, alice.token, group.id, bob.id, 'member');
      await forbidden(bob.token, 'PATCH', '', { title: 'Mine again' });
      // The owner removes anyone, admins included.
      await setRole(server.baseUrl, alice.token, group.id, carol.id, 'admin');
      assert.equal((await removeMember(server.baseUrl, alice.token, group.id, carol.id)).status, 200);
      assert.deepEqual(memberIds(await getConversation(server.baseUrl, alice.token, group.id)), sorted([alice.id, bob.id, dave.id]));
    });

    test('when the owner leaves, the longest-standing admin becomes owner, else the longest-standing member', async () => {
      const [alice, bob, carol, dave, erin, frank] = (await users('Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank')) as ChatUser[] as [
        ChatUser,
        ChatUser,
        ChatUser,
        ChatUser,
        ChatUser,
        ChatUser,
      ];
      const group = await createGroup(server.baseUrl, alice.token, 'Relay', [bob.id]);
      // One at a time, so each has a join time of their own.
      for (const user of [carol, dave, erin, frank]) await addMembers(server.baseUrl, alice.token, group.id, [user.id]);
      // Promoted in the opposite order to joining: join time decides, not promotion time.
      await setRole(server.baseUrl, alice.token, group.id, erin.id, 'admin');
      await setRole(server.baseUrl, alice.token, group.id, carol.id, 'admin');
      await settle([alice, bob, carol, dave, erin, frank].map((user) => device(user)));
      const logs = [alice, bob, carol, dave, erin, frank].map((user) => eventLog(device(user)));

      const handover = async (owner: ChatUser, heir: ChatUser, remaining: ChatUser[]) => {
        await leave(server.baseUrl, owner.token, group.id, owner.id);
        const now = await getConversation(server.baseUrl, remaining[0]!.token, group.id);
        assert.equal(roleOf(now, heir.id), 'owner', `${heir.name} should own the group after ${owner.name} left`);
        assert.equal(now.members.filter((member) => member.role === 'owner').length, 1);
        assert.deepEqual(memberIds(now), sorted(remaining.map((user) => user.id)));
      };
      await handover(alice, carol, [bob, carol, dave, erin, frank]);
      await handover(carol, erin, [bob, dave, erin, frank]);
      // No admin left: the member who joined first (at creation) takes over.
      await handover(erin, bob, [bob, dave, frank]);
      // The new owner has the owner's powers.
      await setRole(server.baseUrl, bob.token, group.id, frank.id, 'admin');

      await settle(logs.map((log) => log.socket));
      const removals = (log: EventLog) => updatesOf(log, group.id).filter((event) => event.change.type === 'membersRemoved').map((event) => event.change);
      const aliceLeft = { type: 'membersRemoved', userIds: [alice.id], newOwnerId: carol.id };
      const carolLeft = { type: 'membersRemoved', userIds: [carol.id], newOwnerId: erin.id };
      const erinLeft = { type: 'membersRemoved', userIds: [erin.id], newOwnerId: bob.id };
      assert.deepEqual(removals(logs[0]!), [aliceLeft], 'the old owner hears of it once, then nothing');
      assert.deepEqual(removals(logs[2]!), [aliceLeft, carolLeft]);
      assert.deepEqual(removals(logs[4]!), [aliceLeft, carolLeft, erinLeft]);
      for (const log of [logs[1]!, logs[3]!, logs[5]!]) assert.deepEqual(removals(log), [aliceLeft, carolLeft, erinLeft]);
    });

    test('limits: titles of 1 to 100 characters, 1 to 100 users per add, GROUP_MAX_MEMBERS members', async () => {
      const [alice, ...others] = (await users('Alice', 'B', 'C', 'D', 'E', 'F', 'G')) as ChatUser[];
      const ids = others.map((user) => user.id);
      const creator = alice!;

      for (const title of ['', '   ', 'x'.repeat(101)]) {
        assertValidationFailed(await post(creator.token, '', { title, memberIds: [ids[0]] }), 'body.title');
      }
      assertValidationFailed(await post(creator.token, '', { memberIds: [ids[0]] }), 'body.title');
      const group = await createGroup(server.baseUrl, creator.token, `  ${'x'.repeat(100)}  `, ids.slice(0, 2));
      assert.equal(group.title, 'x'.repeat(100), 'trimmed, then at most 100');
      for (const title of ['', ' ', 'y'.repeat(101)]) assertValidationFailed(await patch(creator.token, group.id, { title }), 'body.title');
      assert.equal((await getConversation(server.baseUrl, creator.token, group.id)).title, 'x'.repeat(100));

      const tooMany = Array.from({ length: 101 }, () => newId());
      assertValidationFailed(await post(creator.token, `/${group.id}/members`, { userIds: tooMany }), 'body.userIds');
      assertValidationFailed(await post(creator.token, `/${group.id}/members`, { userIds: [] }), 'body.userIds');
      assertValidationFailed(await post(creator.token, `/${group.id}/members`, { userIds: ['not-an-id'] }));

      // GROUP_MAX_MEMBERS counts the owner: five others fit, six do not.
      assertError(await post(creator.token, '', { title: 'Too big', memberIds: ids.slice(0, MAX_MEMBERS) }), 400, 'VALIDATION_FAILED');
      const full = await createGroup(server.baseUrl, creator.token, 'Full', ids.slice(0, MAX_MEMBERS - 1));
      assert.equal(full.memberCount, MAX_MEMBERS);
      assertError(await post(creator.token, `/${full.id}/members`, { userIds: [ids[MAX_MEMBERS - 1]] }), 400, 'VALIDATION_FAILED');
      // An add that would overflow adds nobody, not as many as fit.
      assertError(await post(creator.token, `/${group.id}/members`, { userIds: ids.slice(2, 6) }), 400, 'VALIDATION_FAILED');
      assert.deepEqual(memberIds(await getConversation(server.baseUrl, creator.token, group.id)), sorted([creator.id, ...ids.slice(0, 2)]));
      assert.equal((await addMembers(server.baseUrl, creator.token, group.id, ids.slice(2, 5))).memberCount, MAX_MEMBERS);
    });

    test('unknown, banned and deleted users cannot be added (404), and a refused request changes nothing', async () => {
      const [alice, bob, carol, banned, deleted] = (await users('Alice', 'Bob', 'Carol', 'Banned', 'Deleted')) as [ChatUser, ChatUser, ChatUser, ChatUser, ChatUser];
      await server.app.storage.users.setStatus(banned.id, 'banned');
      await server.app.storage.users.setStatus(deleted.id, 'deleted');
      const bobLog = eventLog(device(bob));

      for (const stranger of [newId(), banned.id, deleted.id]) {
        assertError(await post(alice.token, '', { title: 'Nope', memberIds: [bob.id, stranger] }), 404, 'NOT_FOUND');
      }
      assert.deepEqual((await listConversations(server.baseUrl, alice.token)).conversations, [], 'no group was made');
      await settle([device(bob)]);
      assert.deepEqual(bobLog.entries.filter((entry) => entry.event === 'CONVERSATION_UPDATED'), []);

      const group = await createGroup(server.baseUrl, alice.token, 'Real', [bob.id]);
      for (const stranger of [newId(), banned.id, deleted.id]) {
        assertError(await post(alice.token, `/${group.id}/members`, { userIds: [carol.id, stranger] }), 404, 'NOT_FOUND');
      }
      assert.deepEqual(memberIds(await getConversation(server.baseUrl, alice.token, group.id)), sorted([alice.id, bob.id]));
      assert.equal((await emitAck(device(carol), 'CHAT_TYPING', { conversationId: group.id })).error?.code, 'NOT_FOUND');
    });
  });

  describe(`group budgets (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { GROUPS_CREATED_PER_HOUR: '3', GROUP_MEMBERS_ADDED_PER_HOUR: '5' });

    test('creating groups beyond GROUPS_CREATED_PER_HOUR is RATE_LIMITED with Retry-After; others keep their budget', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      for (let i = 0; i < 3; i += 1) await createGroup(server.baseUrl, alice.token, `Group ${i}`, [bob.id]);
      const limited = await request(server.baseUrl, 'POST', '/api/chat/groups', { token: alice.token, body: { title: 'One too many', memberIds: [bob.id] } });
      assertError(limited, 429, 'RATE_LIMITED');
      assertRetryAfter(limited);
      assert.equal((await listConversations(server.baseUrl, bob.token)).conversations.length, 3);
      await createGroup(server.baseUrl, bob.token, 'Bob’s own', [alice.id]);
    });

    test('adding users beyond GROUP_MEMBERS_ADDED_PER_HOUR (creation included) is RATE_LIMITED and adds nobody', async () => {
      const [alice, ...people] = await Promise.all(['Alice', 'U1', 'U2', 'U3', 'U4', 'U5', 'U6'].map((name) => chatUser(server.baseUrl, name)));
      const [u1, u2, u3, u4, u5, u6] = people as [ChatUser, ChatUser, ChatUser, ChatUser, ChatUser, ChatUser];
      const group = await createGroup(server.baseUrl, alice!.token, 'Budget', [u1.id]);
      await addMembers(server.baseUrl, alice!.token, group.id, [u2.id, u3.id]);
      await addMembers(server.baseUrl, alice!.token, group.id, [u4.id, u5.id]);
      const limited = await request(server.baseUrl, 'POST', `/api/chat/groups/${group.id}/members`, { token: alice!.token, body: { userIds: [u6.id] } });
      assertError(limited, 429, 'RATE_LIMITED');
      assertRetryAfter(limited);
      assert.ok(!memberIds(await getConversation(server.baseUrl, u1.token, group.id)).includes(u6.id));
      // An admin of the same group adds from their own budget.
      await setRole(server.baseUrl, alice!.token, group.id, u1.id, 'admin');
      assert.ok(memberIds(await addMembers(server.baseUrl, u1.token, group.id, [u6.id])).includes(u6.id));
    });
  });
}
