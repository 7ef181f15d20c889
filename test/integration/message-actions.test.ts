import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { MessageDeleteEvent, MessageDto, MessageEditEvent } from '../../src/protocol/chat.js';
import { newId } from '../../src/shared/ids.js';
import { chatUser, device, sendOk, type ChatUser, type SendAck } from '../support/chat.js';
import { databaseTargets, onlyWithTables } from '../support/databases.js';
import {
  assertNothingAbout,
  conversationMessages,
  createGroup,
  eventLog,
  sendTo,
  sendToOk,
  setRole,
  settle,
  storedMessageRows,
  syncAll,
  syncHead,
  tablesHolding,
  type EventLog,
} from '../support/groups.js';
import { deleteMessage, edit, ok, react, refused, type EditAck } from '../support/message-actions.js';
import { emitAck } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

/** Every device of `users` but the acting socket: who hears of an action. */
const othersThan = (logs: EventLog[], acting: EventLog) => logs.filter((log) => log !== acting);

for (const target of databaseTargets()) {
  describe(`message actions: edit, delete, replies (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);
    const history = async (user: ChatUser, conversationId: string) => (await conversationMessages(server.baseUrl, user.token, conversationId, '?limit=100')).messages;
    const logsOf = (...users: ChatUser[]) => users.flatMap((user) => user.devices.map(eventLog));

    /** Alice (two devices) and Bob (two devices) with a direct conversation; everyone's sync cursor from before it. */
    async function directPair() {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const cursors = { alice: await syncHead(server.baseUrl, alice.token), bob: await syncHead(server.baseUrl, bob.token) };
      const first = (await sendOk(device(alice), { to: bob.id, text: 'helo' })).message;
      return { alice, bob, cursors, first, conversationId: first.conversationId };
    }

    test('an edit reaches every device of both users but the editing one; history and sync give the latest text once', async () => {
      const { alice, bob, cursors, first, conversationId } = await directPair();
      const logs = logsOf(alice, bob);
      const edited = ok(await edit(device(alice), first.id, 'hello'), 'edit').message;
      assert.equal(edited.text, 'hello');
      assert.equal(edited.id, first.id);
      assert.ok(edited.editedAt && Date.parse(edited.editedAt) >= Date.parse(first.createdAt));
      assert.equal(edited.revision, first.revision + 1);
      await settle(logs.map((log) => log.socket));
      for (const log of othersThan(logs, logs[0]!)) assert.deepEqual(log.of<MessageEditEvent>('MESSAGE_EDIT', conversationId), [{ message: edited }]);
      assert.deepEqual(logs[0]!.of('MESSAGE_EDIT', conversationId), [], 'the editing socket has the ack');

      for (const user of [alice, bob]) assert.deepEqual(await history(user, conversationId), [edited]);
      for (const [user, cursor] of [[alice, cursors.alice], [bob, cursors.bob]] as const) {
        const synced = await syncAll(server.baseUrl, user.token, cursor);
        assert.deepEqual(synced.messages, [edited], `${user.name}'s sync: the message once, as edited`);
      }
    });

    test('only the sender edits, within the edit window, a message not deleted; an edit that changes nothing tells nobody', async () => {
      const { alice, bob, first, conversationId } = await directPair();
      const carol = await chatUser(server.baseUrl, 'Carol');
      assert.equal(refused(await edit(device(bob), first.id, 'not mine'), 'edit by the recipient'), 'FORBIDDEN');
      assert.equal(refused(await edit(device(carol), first.id, 'not mine'), 'edit by a stranger'), 'NOT_FOUND');
      assert.equal(refused(await edit(device(carol), newId(), 'nothing'), 'edit of nothing'), 'NOT_FOUND');
      assert.equal(refused(await emitAck(device(alice), 'MESSAGE_EDIT', { messageId: first.id, text: '   ' }), 'a blank edit'), 'VALIDATION_FAILED');

      // Sent 16 minutes ago: past the default window of 15.
      const old = { id: newId(), conversationId, senderId: alice.id, text: 'long ago', clientMessageId: null, createdAt: new Date(Date.now() - 16 * 60_000) };
      assert.equal((await server.app.storage.messages.create(old)).outcome, 'stored');
      const late = await edit(device(alice), old.id, 'too late');
      assert.equal(refused(late, 'a late edit'), 'FORBIDDEN');
      assert.match(late.ok ? '' : late.error.message, /15 minutes/);

      const logs = logsOf(alice, bob);
      assert.deepEqual(ok(await edit(device(alice), first.id, 'helo'), 'an unchanged edit').message, first);
      await assertNothingAbout(logs, conversationId, 'an edit that changed nothing');

      ok(await deleteMessage(device(alice), first.id, 'everyone'), 'delete');
      assert.equal(refused(await edit(device(alice), first.id, 'back'), 'an edit of a deleted message'), 'INVALID_STATE');
      assert.deepEqual(
        (await history(alice, conversationId)).map((message) => message.text),
        ['long ago', ''],
        'nothing refused changed anything (the old message has the newer id: ids are given when stored)',
      );
    });

    test('deleting for everyone leaves a tombstone on every device, in history and sync, and erases the text from the database', { skip: onlyWithTables(target.kind) }, async () => {
      const { alice, bob, cursors, conversationId } = await directPair();
      const secret = `secret ${randomUUID()}`;
      const doomed = (await sendOk(device(alice, 1), { to: bob.id, text: secret })).message;
      ok(await react(device(bob), doomed.id, '👍'), 'react');
      const reply = (await sendToOk(device(bob), { conversationId, text: 'what?', replyTo: doomed.id })).message;
      assert.deepEqual(reply.replyTo, { id: doomed.id, from: alice.id, text: secret, encrypted: false, deleted: false });
      const logs = logsOf(alice, bob);

      const tombstone = ok(await deleteMessage(device(alice), doomed.id, 'everyone'), 'delete').message!;
      assert.deepEqual(
        { ...tombstone, deletedAt: typeof tombstone.deletedAt },
        { ...doomed, text: '', reactions: [], replyTo: null, deletedAt: 'string', deletedBy: alice.id, revision: doomed.revision + 2 },
      );
      await settle(logs.map((log) => log.socket));
      for (const log of othersThan(logs, logs[0]!)) {
        assert.deepEqual(log.of<MessageDeleteEvent>('MESSAGE_DELETE', conversationId), [{ scope: 'everyone', message: tombstone }]);
      }
      // Deleting again is answered with the tombstone and tells nobody.
      assert.deepEqual(ok(await deleteMessage(device(alice, 1), doomed.id, 'everyone'), 'delete again').message, tombstone);
      await settle(logs.map((log) => log.socket));
      for (const log of logs) assert.equal(log.of('MESSAGE_DELETE', conversationId).length, log === logs[0] ? 0 : 1);

      for (const user of [alice, bob]) {
        const [latestReply, deleted] = await history(user, conversationId);
        assert.deepEqual(deleted, tombstone);
        assert.deepEqual(latestReply!.replyTo, { id: doomed.id, from: alice.id, text: '', encrypted: false, deleted: true }, 'the quote follows the delete');
        const synced = await syncAll(server.baseUrl, user.token, user === alice ? cursors.alice : cursors.bob);
        assert.deepEqual(synced.messages.find((message) => message.id === doomed.id), tombstone);
        assert.equal(synced.messages.filter((message) => message.id === doomed.id).length, 1, 'once');
      }
      const database = { kind: target.kind, databaseUrl: server.config.databaseUrl, dataDir: server.dataDir };
      await server.stop();
      try {
        assert.deepEqual(await tablesHolding(database, secret), [], 'no row of any table holds the text');
        const [row] = await storedMessageRows(database, [doomed.id]);
        assert.equal(row!['text'], '');
        assert.equal(row!['encrypted'], null);
        assert.equal(row!['sender_id'], alice.id);
        assert.equal(new Date(row!['created_at'] as string).toISOString(), doomed.createdAt);
      } finally {
        await server.start();
      }
    });

    test('deleting for me hides a message on my own devices only: history, sync and my other devices', async () => {
      const { alice, bob, cursors, first, conversationId } = await directPair();
      const second = (await sendOk(device(bob), { to: alice.id, text: 'second' })).message;
      const logs = logsOf(alice, bob);
      assert.deepEqual(ok(await deleteMessage(device(alice), second.id, 'me'), 'hide'), { ok: true });
      await settle(logs.map((log) => log.socket));
      assert.deepEqual(logs[1]!.of('MESSAGE_DELETE', conversationId), [{ scope: 'me', messageId: second.id, conversationId }]);
      for (const log of [logs[0]!, ...logs.slice(2)]) assert.deepEqual(log.of('MESSAGE_DELETE', conversationId), [], 'nobody else hears of it');
      // Hiding again changes nothing and tells nobody.
      ok(await deleteMessage(device(alice, 1), second.id, 'me'), 'hide again');
      await settle(logs.map((log) => log.socket));
      assert.equal(logs[0]!.of('MESSAGE_DELETE', conversationId).length, 0);

      assert.deepEqual((await history(alice, conversationId)).map((m) => m.id), [first.id]);
      assert.deepEqual((await history(bob, conversationId)).map((m) => m.id), [second.id, first.id]);
      const alicesSync = await syncAll(server.baseUrl, alice.token, cursors.alice);
      assert.deepEqual(alicesSync.messages.map((m) => m.id), [first.id]);
      assert.deepEqual(alicesSync.hidden.map((h) => h.messageId), [second.id]);
      const bobsSync = await syncAll(server.baseUrl, bob.token, cursors.bob);
      assert.deepEqual(bobsSync.messages.map((m) => m.id), [first.id, second.id]);
      assert.deepEqual(bobsSync.hidden, []);
      // Later changes of the hidden message do not come back through sync either.
      const afterHide = alicesSync.cursor;
      ok(await edit(device(bob), second.id, 'second, edited'), 'edit');
      assert.deepEqual((await syncAll(server.baseUrl, alice.token, afterHide)).messages, []);
      // And a reply cannot quote what its sender hid.
      const quoting = await sendTo(device(alice), { conversationId, text: 'quoting', replyTo: second.id });
      assert.equal(refused(quoting, 'a reply to a hidden message'), 'VALIDATION_FAILED');
    });

    test('a reply quotes a message of its own conversation, following its edits; one to another conversation or a deleted message is refused', async () => {
      const { alice, bob, first, conversationId } = await directPair();
      const carol = await chatUser(server.baseUrl, 'Carol');
      const elsewhere = (await sendOk(device(alice), { to: carol.id, text: 'to carol' })).message;
      const reply = (await sendToOk(device(bob), { conversationId, text: 'reply', replyTo: first.id })).message;
      assert.deepEqual(reply.replyTo, { id: first.id, from: alice.id, text: 'helo', encrypted: false, deleted: false });
      const beforeEdit = await syncHead(server.baseUrl, bob.token);
      const edited = ok(await edit(device(alice), first.id, 'x'.repeat(150)), 'edit').message;
      const [shownReply] = await history(bob, conversationId);
      assert.deepEqual(shownReply!.replyTo, { id: first.id, from: alice.id, text: 'x'.repeat(100), encrypted: false, deleted: false }, 'the quote follows, cut to 100');
      // Through sync, the replies to an edited message come again with their new quote.
      assert.deepEqual((await syncAll(server.baseUrl, bob.token, beforeEdit)).messages, [edited, shownReply]);

      const logs = logsOf(alice, bob);
      for (const replyTo of [elsewhere.id, newId()]) {
        const ack = await sendTo(device(bob), { conversationId, text: 'wrong reply', replyTo });
        assert.equal(refused(ack, 'a reply outside the conversation'), 'VALIDATION_FAILED');
        assert.deepEqual(ack.ok ? [] : ack.error.details?.map((detail) => detail.path), ['replyTo']);
      }
      const gone = (await sendOk(device(alice), { to: bob.id, text: 'gone soon' })).message;
      ok(await deleteMessage(device(alice), gone.id, 'everyone'), 'delete');
      assert.equal(refused(await sendTo(device(bob), { conversationId, text: 'too late', replyTo: gone.id }), 'a reply to a deleted message'), 'VALIDATION_FAILED');
      await settle(logs.map((log) => log.socket));
      assert.ok(!logs.some((log) => log.of('CHAT_MESSAGE', conversationId).some((event: { message: MessageDto }) => event.message.text !== 'gone soon')));
      assert.equal((await history(alice, conversationId)).filter((m) => m.text === 'wrong reply' || m.text === 'too late').length, 0, 'nothing refused was stored');
    });

    test('an encrypted message is edited with a new encrypted payload, and its ciphertext is erased when deleted', { skip: onlyWithTables(target.kind) }, async () => {
      const { alice, bob, conversationId } = await directPair();
      const payload = (body: string) => ({ scheme: 'signal', senderDeviceId: 'phone', ciphertexts: [{ userId: bob.id, deviceId: 'phone', type: 1, body }] });
      const marker = Buffer.from(`ciphertext ${randomUUID()}`).toString('base64');
      const sent = ok(await emitAck<SendAck>(device(alice), 'CHAT_MESSAGE', { to: bob.id, encrypted: payload('b2xk') }), 'send encrypted').message;
      assert.equal(refused(await edit(device(alice), sent.id, 'in clear'), 'a plain edit of an encrypted message'), 'VALIDATION_FAILED');
      const edited = ok(await emitAck<EditAck>(device(alice), 'MESSAGE_EDIT', { messageId: sent.id, encrypted: payload(marker) }), 'encrypted edit').message;
      assert.deepEqual(edited.encrypted, payload(marker));
      assert.equal(edited.text, '');
      const plain = (await sendOk(device(alice), { to: bob.id, text: 'plain' })).message;
      assert.equal(refused(await emitAck(device(alice), 'MESSAGE_EDIT', { messageId: plain.id, encrypted: payload('bmV3') }), 'an encrypted edit of a plain message'), 'VALIDATION_FAILED');
      const quote = (await sendToOk(device(bob), { conversationId, text: 'quoting', replyTo: sent.id })).message;
      assert.deepEqual(quote.replyTo, { id: sent.id, from: alice.id, text: '', encrypted: true, deleted: false });

      const tombstone = ok(await deleteMessage(device(alice), sent.id, 'everyone'), 'delete').message!;
      assert.equal(tombstone.encrypted, undefined);
      const database = { kind: target.kind, databaseUrl: server.config.databaseUrl, dataDir: server.dataDir };
      await server.stop();
      try {
        assert.deepEqual(await tablesHolding(database, marker), [], 'no row holds the ciphertext');
      } finally {
        await server.start();
      }
    });

    test('in a group: actions reach every member device and nobody outside; admins delete any message, members only their own', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob', 2);
      const carol = await chatUser(server.baseUrl, 'Carol');
      const dave = await chatUser(server.baseUrl, 'Dave');
      const group = await createGroup(server.baseUrl, alice.token, 'Actions', [bob.id, carol.id]);
      const cursor = await syncHead(server.baseUrl, carol.token);
      const logs = logsOf(alice, bob, carol);
      const outsider = eventLog(device(dave));
      const fromBob = (await sendToOk(device(bob), { conversationId: group.id, text: 'from bob' })).message;
      const fromCarol = (await sendToOk(device(carol), { conversationId: group.id, text: 'from carol' })).message;

      const edited = ok(await edit(device(bob), fromBob.id, 'from bob, edited'), 'edit').message;
      assert.equal(refused(await deleteMessage(device(carol), fromBob.id, 'everyone'), 'a member deleting another’s message'), 'FORBIDDEN');
      assert.equal(refused(await deleteMessage(device(dave), fromBob.id, 'everyone'), 'an outsider deleting'), 'NOT_FOUND');
      assert.equal(refused(await edit(device(alice), fromCarol.id, 'owner edit'), 'the owner editing another’s message'), 'FORBIDDEN');
      await setRole(server.baseUrl, alice.token, group.id, bob.id, 'admin');
      const byAdmin = ok(await deleteMessage(device(bob, 1), fromCarol.id, 'everyone'), 'an admin deleting a member’s message').message!;
      assert.equal(byAdmin.deletedBy, bob.id);
      assert.equal(byAdmin.from, carol.id);

      await settle([...logs, outsider].map((log) => log.socket));
      const bobsSecond = logs[3]!;
      for (const log of logs) {
        const edits = log.of<MessageEditEvent>('MESSAGE_EDIT', group.id);
        assert.deepEqual(edits, log === logs[2] ? [] : [{ message: edited }], `edit on ${log.socket.id}`);
        const deletes = log.of<MessageDeleteEvent>('MESSAGE_DELETE', group.id);
        assert.deepEqual(deletes, log === bobsSecond ? [] : [{ scope: 'everyone', message: byAdmin }], `delete on ${log.socket.id}`);
      }
      await assertNothingAbout([outsider], group.id, 'an outsider');
      assert.deepEqual(await history(carol, group.id), [byAdmin, edited]);
      assert.deepEqual((await syncAll(server.baseUrl, carol.token, cursor)).messages, [edited, byAdmin]);
    });

    test('a sender deletes for everyone within the delete window only; past it, for themself', async () => {
      const { alice, bob, conversationId } = await directPair();
      const old = { id: newId(), conversationId, senderId: alice.id, text: 'three days ago', clientMessageId: null, createdAt: new Date(Date.now() - 3 * 86_400_000) };
      assert.equal((await server.app.storage.messages.create(old)).outcome, 'stored');
      const late = await deleteMessage(device(alice), old.id, 'everyone');
      assert.equal(refused(late, 'a late delete'), 'FORBIDDEN');
      assert.match(late.ok ? '' : late.error.message, /2 days/);
      assert.equal(refused(await deleteMessage(device(bob), old.id, 'everyone'), 'the recipient deleting for everyone'), 'FORBIDDEN');
      ok(await deleteMessage(device(alice), old.id, 'me'), 'delete for me');
      assert.ok((await history(bob, conversationId)).some((message) => message.id === old.id && message.text === 'three days ago'));

      // A retry of a send whose message was deleted since is answered with the tombstone, and stores nothing.
      const send = { to: bob.id, text: 'sent twice', clientMessageId: randomUUID() };
      const sent = (await sendOk(device(alice), send)).message;
      const tombstone = ok(await deleteMessage(device(alice), sent.id, 'everyone'), 'delete').message;
      const logs = logsOf(bob);
      assert.deepEqual((await sendOk(device(alice, 1), send)).message, tombstone);
      await assertNothingAbout(logs, conversationId, 'a retry of a deleted message');
    });
  });
}
