import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { PersonDto } from '../../src/protocol/people.js';
import type { AbuseReportsResponse } from '../../src/protocol/safety.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { OFFER } from '../support/calls.js';
import { chatUser, device, history, sendOk, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { conversationMessages, createGroup, eventLog, sendToOk, settle } from '../support/groups.js';
import { registerUser, request } from '../support/http.js';
import { edit, react } from '../support/message-actions.js';
import { block, listBlocks, unblock } from '../support/safety.js';
import { emitAck } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

/** What a blocked user is answered about the blocker, as about an id that names nobody. */
const NO_SUCH_USER = { ok: false, error: { code: 'NOT_FOUND', message: 'No such user' } };

/** An ack as a client sees it, with an id it named replaced, so answers about two users compare. */
const answer = (ack: AckResponse, id: string) => JSON.parse(JSON.stringify(ack).replaceAll(id, '<id>'));

for (const target of databaseTargets()) {
  describe(`blocking users and reporting abuse (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { ABUSE_REPORTS_PER_HOUR: '2' });
    const person = async (viewer: ChatUser, id: string) => (await request<{ user: PersonDto }>(server.baseUrl, 'GET', `/api/users/${id}`, { token: viewer.token })).body.user;

    /** Alice and Bob, who have written to each other (so each sees the other's presence). */
    async function contacts() {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const first = (await sendOk(device(alice), { to: bob.id, text: 'hi bob' })).message;
      const bobsMessage = (await sendOk(device(bob), { to: alice.id, text: 'hi alice' })).message;
      return { alice, bob, first, bobsMessage };
    }

    test('block, list and unblock are idempotent; yourself and unknown users are refused', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await chatUser(server.baseUrl, 'Carol');
      const first = await block(server.baseUrl, alice.token, bob.id);
      assert.deepEqual({ ...first, blockedAt: typeof first.blockedAt }, { userId: bob.id, name: 'Bob', blockedAt: 'string' });
      assert.deepEqual(await block(server.baseUrl, alice.token, bob.id, 200), first, 'blocking again answers the block as it was');
      await block(server.baseUrl, alice.token, carol.id);
      const listed = await listBlocks(server.baseUrl, alice.token, '?limit=1');
      assert.deepEqual(listed.blocks.map((b) => b.userId), [carol.id], 'the latest first');
      const rest = await listBlocks(server.baseUrl, alice.token, `?limit=1&after=${listed.nextCursor}`);
      assert.deepEqual(rest, { blocks: [first], nextCursor: null });
      assert.deepEqual(await listBlocks(server.baseUrl, bob.token), { blocks: [], nextCursor: null }, 'a block is not shown to the blocked');

      assertValidationFailed(await request(server.baseUrl, 'POST', '/api/blocks', { token: alice.token, body: { userId: alice.id } }), 'body.userId');
      assertValidationFailed(await request(server.baseUrl, 'POST', '/api/blocks', { token: alice.token, body: { userId: 'nobody' } }), 'body.userId');
      assertError(await request(server.baseUrl, 'POST', '/api/blocks', { token: alice.token, body: { userId: newId() } }), 404, 'NOT_FOUND');
      assertError(await request(server.baseUrl, 'GET', '/api/blocks'), 401, 'UNAUTHORIZED');

      await unblock(server.baseUrl, alice.token, bob.id);
      await unblock(server.baseUrl, alice.token, bob.id);
      assert.deepEqual((await listBlocks(server.baseUrl, alice.token)).blocks.map((b) => b.userId), [carol.id]);
    });

    test('to a blocked user, the blocker does not exist: direct messages, typing, edits and calls answer as for an unknown user; unblocking restores them', async () => {
      const { alice, bob, first, bobsMessage } = await contacts();
      const conversationId = first.conversationId;
      await block(server.baseUrl, alice.token, bob.id);
      const alicesLogs = alice.devices.map(eventLog);
      const nobody = newId();

      // Each event, to Alice and to an id that names nobody: the same answer.
      const pairs: [event: string, toAlice: unknown, toNobody: unknown][] = [
        ['CHAT_MESSAGE', { to: alice.id, text: 'let me in' }, { to: nobody, text: 'let me in' }],
        ['CHAT_MESSAGE', { to: alice.id, text: 'retry', clientMessageId: 'block-1' }, { to: nobody, text: 'retry', clientMessageId: 'block-2' }],
        ['CHAT_TYPING', { to: alice.id }, { to: nobody }],
        ['CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER }, { to: nobody, type: 'audio', offer: OFFER }],
        ['CALL_REQUEST', { to: alice.id, type: 'video' }, { to: nobody, type: 'video' }],
      ];
      for (const [event, toAlice, toNobody] of pairs) {
        const blocked = answer(await emitAck(device(bob), event, toAlice), alice.id);
        const unknown = answer(await emitAck(device(bob), event, toNobody), nobody);
        assert.deepEqual(blocked, unknown, `${event}: blocked and unknown answer alike`);
        assert.deepEqual(blocked, NO_SUCH_USER);
      }
      // By the conversation's id, the answer is the one a banned user's conversation gives.
      const byId = await emitAck(device(bob), 'CHAT_MESSAGE', { conversationId, text: 'by id' });
      assert.deepEqual(byId, NO_SUCH_USER);
      // Changing what was said before the block: as for a send, the blocker is no one to reach.
      assert.deepEqual(await edit(device(bob), bobsMessage.id, 'edited after the block'), NO_SUCH_USER);
      assert.deepEqual(await react(device(bob), first.id, '😡'), NO_SUCH_USER);
      await settle(alicesLogs.map((log) => log.socket));
      for (const log of alicesLogs) {
        assert.deepEqual(log.entries.filter((entry) => entry.event !== 'PRESENCE'), [], 'Alice hears nothing of Bob');
      }
      assert.deepEqual((await history(server.baseUrl, alice.token, bob.id)).messages.map((m) => m.text), ['hi alice', 'hi bob'], 'nothing was stored');

      // The blocker is told plainly: they know whom they blocked.
      const fromAlice = await emitAck(device(alice), 'CHAT_MESSAGE', { to: bob.id, text: 'still there?' });
      assert.equal(fromAlice.ok ? '' : fromAlice.error.code, 'FORBIDDEN');
      const callFromAlice = await emitAck(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' });
      assert.equal(callFromAlice.ok ? '' : callFromAlice.error.code, 'FORBIDDEN');

      await unblock(server.baseUrl, alice.token, bob.id);
      const again = await sendOk(device(bob), { to: alice.id, text: 'sorry' });
      const [latest] = (await history(server.baseUrl, alice.token, bob.id)).messages;
      assert.equal(latest!.id, again.message.id);
      const ring = await emitAck(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER });
      assert.equal(ring.ok, true, `the call rings again: ${JSON.stringify(ring)}`);
    });

    test('a block holds at once for the pair checked just before it, and so does its lifting', async () => {
      const { alice, bob } = await contacts();
      const call = await emitAck(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER });
      assert.ok(call.ok, `the call rings: ${JSON.stringify(call)}`);
      assert.equal((await emitAck(device(bob), 'CALL_ENDED', { callId: call.call.id })).ok, true);
      assert.equal((await emitAck(device(bob), 'CHAT_TYPING', { to: alice.id })).ok, true);

      await block(server.baseUrl, alice.token, bob.id);
      assert.deepEqual(await emitAck(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER }), NO_SUCH_USER);
      assert.deepEqual(await emitAck(device(bob), 'CHAT_TYPING', { to: alice.id }), NO_SUCH_USER);
      const fromAlice = await emitAck(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' });
      assert.equal(fromAlice.ok ? '' : fromAlice.error.code, 'FORBIDDEN');

      await unblock(server.baseUrl, alice.token, bob.id);
      const again = await emitAck(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio', offer: OFFER });
      assert.equal(again.ok, true, `the call rings again: ${JSON.stringify(again)}`);
    });

    test('presence is hidden both ways, also from a subscription made before the block', async () => {
      const { alice, bob } = await contacts();
      assert.equal((await person(alice, bob.id)).online, true);
      assert.equal((await person(bob, alice.id)).online, true);
      const watching = await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: [bob.id] });
      assert.deepEqual(watching.presence.map((p: { userId: string }) => p.userId), [bob.id]);
      const log = eventLog(device(alice));

      await block(server.baseUrl, bob.token, alice.id);
      for (const [viewer, other] of [[alice, bob], [bob, alice]] as const) {
        const seen = await person(viewer, other.id);
        assert.deepEqual({ online: seen.online, lastSeenAt: seen.lastSeenAt }, { online: null, lastSeenAt: null }, `${viewer.name} sees ${other.name}`);
        const subscribed = await emitAck(device(viewer, 1), 'PRESENCE_SUBSCRIBE', { userIds: [other.id] });
        assert.deepEqual(subscribed, { ok: true, presence: [] });
      }
      for (const socket of bob.devices) socket.disconnect();
      // Going offline is published once the last socket's close is handled: ample time for it here.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await settle([device(alice)]);
      assert.deepEqual(log.entries.filter((entry) => entry.event === 'PRESENCE'), [], 'the old subscription hears nothing more');
    });

    test('a blocked user cannot add the blocker to a group (as if they did not exist); in a group they share, messages flow', async () => {
      const { alice, bob } = await contacts();
      const carol = await chatUser(server.baseUrl, 'Carol');
      await block(server.baseUrl, alice.token, bob.id);
      const nobody = newId();
      const created = await request(server.baseUrl, 'POST', '/api/chat/groups', { token: bob.token, body: { title: 'Trap', memberIds: [alice.id] } });
      const unknown = await request(server.baseUrl, 'POST', '/api/chat/groups', { token: bob.token, body: { title: 'Trap', memberIds: [nobody] } });
      assertError(created, 404, 'NOT_FOUND');
      assert.deepEqual(JSON.parse(JSON.stringify(created.body).replaceAll(alice.id, '<id>')), JSON.parse(JSON.stringify(unknown.body).replaceAll(nobody, '<id>')));
      const bobsGroup = await createGroup(server.baseUrl, bob.token, 'Bob’s', [carol.id]);
      const added = await request(server.baseUrl, 'POST', `/api/chat/groups/${bobsGroup.id}/members`, { token: bob.token, body: { userIds: [alice.id] } });
      assertError(added, 404, 'NOT_FOUND');
      // Alice may still add Bob: the block is hers to keep or lift, and she decides whom she meets.
      const shared = await createGroup(server.baseUrl, carol.token, 'Shared', [alice.id, bob.id]);
      const log = eventLog(device(alice));
      const message = (await sendToOk(device(bob), { conversationId: shared.id, text: 'in the group' })).message;
      assert.ok((await react(device(bob), message.id, '👋')).ok, 'reactions in the group too');
      await settle([device(alice)]);
      assert.deepEqual(log.of('CHAT_MESSAGE', shared.id).map((event: { message: { id: string } }) => event.message.id), [message.id]);
      assert.equal((await conversationMessages(server.baseUrl, alice.token, shared.id)).messages[0]!.id, message.id);
    });

    test('a report of abuse is recorded for admins, only about messages the reporter can read, within a budget', async () => {
      const { alice, bob, first } = await contacts();
      const carol = await chatUser(server.baseUrl, 'Carol');
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const report = (reporter: ChatUser, body: unknown) => request(server.baseUrl, 'POST', '/api/reports', { token: reporter.token, body });

      const made = await report(bob, { userId: alice.id, messageId: first.id, reason: 'harassment', details: 'kept writing' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assertError(await report(carol, { userId: alice.id, messageId: first.id, reason: 'spam' }), 404, 'NOT_FOUND');
      assertError(await report(bob, { userId: carol.id, messageId: first.id, reason: 'spam' }), 404, 'NOT_FOUND');
      assertValidationFailed(await report(bob, { userId: alice.id, reason: 'boring' }), 'body.reason');
      assertValidationFailed(await report(bob, { userId: bob.id, reason: 'spam' }), 'body.userId');
      // Two reports an hour here; one refused for its user or message counts, a malformed one does not.
      assertError(await report(bob, { userId: alice.id, reason: 'spam' }), 429, 'RATE_LIMITED');

      const listed = await request<AbuseReportsResponse>(server.baseUrl, 'GET', '/api/admin/reports', { token: admin.accessToken });
      assert.equal(listed.status, 200);
      const mine = listed.body.reports.filter((r) => r.reporterId === bob.id);
      assert.deepEqual(mine, [
        { id: made.body.report.id, reporterId: bob.id, reportedUserId: alice.id, messageId: first.id, reason: 'harassment', details: 'kept writing', createdAt: made.body.report.createdAt },
      ]);
      assertError(await request(server.baseUrl, 'GET', '/api/admin/reports', { token: bob.token }), 403, 'FORBIDDEN');
    });
  });
}
