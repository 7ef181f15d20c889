import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { startFakeExpo } from '../support/fake-expo.js';
import { registerPushToken } from '../support/http.js';
import { offlineUser, received as receivedBy, seen } from '../support/push.js';

// expo-server-sdk reads EXPO_BASE_URL when it loads: set it before anything imports the app (groups.js does).
const expo = await startFakeExpo();
process.env['EXPO_BASE_URL'] = expo.url;
const { useTestApp } = await import('../support/test-app.js');
const { createGroup, sendToOk } = await import('../support/groups.js');
after(() => expo.close());

// Long enough for a test to send a burst of messages inside one window.
const PUSH_ENV = { PUSH_POLL_MS: '25', PUSH_COALESCE_MS: '1000', RATE_LIMIT_AUTH_PER_IP: '100000' };

const received = (token: string, count?: number) => receivedBy(expo, token, count);

for (const target of databaseTargets()) {
  describe(`push notifications for groups (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, PUSH_ENV, { privateDatabase: true });

    test('a group message pushes to the offline member only: the group title, the sender in the body, the conversation in its data', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const alicesToken = await registerPushToken(server.baseUrl, alice.token);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const bobsToken = await registerPushToken(server.baseUrl, bob.token);
      const carol = await offlineUser(server.baseUrl, 'Carol');
      const group = await createGroup(server.baseUrl, alice.token, 'Climbing', [bob.id, carol.id]);

      const { message } = await sendToOk(device(alice), { conversationId: group.id, text: 'Saturday at 8?' });
      const pushes = await received(carol.token);
      assert.deepEqual(pushes.map(seen), [
        {
          title: 'Climbing',
          body: 'Alice: Saturday at 8?',
          badge: 1,
          data: { type: 'message', messageId: message.id, conversationId: group.id, from: alice.id },
          priority: 'high',
          sound: 'default',
          channelId: 'messages',
          collapseId: `conversation:${group.id}`,
        },
      ]);

      // Queued later, so sent after any push for the group message: once Dave has his, Bob's or Alice's would be there.
      const dave = await offlineUser(server.baseUrl, 'Dave');
      await sendOk(device(alice), { to: dave.id, text: 'hi Dave' });
      await received(dave.token);
      assert.deepEqual(expo.pushesTo(bobsToken), [], 'a connected member gets none');
      assert.deepEqual(expo.pushesTo(alicesToken), [], 'the sender gets none');
    });

    test('a burst of messages from several members is one push per offline member: the newest, with the newest badge', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const carol = await offlineUser(server.baseUrl, 'Carol');
      const dave = await offlineUser(server.baseUrl, 'Dave');
      const group = await createGroup(server.baseUrl, alice.token, 'Climbing', [bob.id, carol.id, dave.id]);

      await sendToOk(device(alice), { conversationId: group.id, text: 'one' });
      await sendToOk(device(bob), { conversationId: group.id, text: 'two' });
      const { message: last } = await sendToOk(device(alice), { conversationId: group.id, text: 'three' });
      const newest = ['Climbing', 'Alice: three', 3, { type: 'message', messageId: last.id, conversationId: group.id, from: alice.id }];
      const shown = (token: string) => expo.pushesTo(token).map((push) => [push.title, push.body, push.badge, push.data]);
      await received(carol.token);
      await received(dave.token);

      // Queued later, so sent after any other push for the burst: once Carol has this one, no more can come.
      const { message: direct } = await sendOk(device(bob), { to: carol.id, text: 'are you coming?' });
      await received(carol.token, 2);
      assert.deepEqual(shown(carol.token), [newest, ['Bob', 'are you coming?', 4, { type: 'message', messageId: direct.id, conversationId: direct.conversationId, from: bob.id }]]);
      assert.deepEqual(shown(dave.token), [newest]);
    });
  });

  describe(`push notifications for groups without preview (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { ...PUSH_ENV, PUSH_PREVIEW: 'false' }, { privateDatabase: true });

    test('PUSH_PREVIEW=false: the body names the sender and says "New message", never the text', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const group = await createGroup(server.baseUrl, alice.token, 'Plans', [bob.id]);
      await sendToOk(device(alice), { conversationId: group.id, text: 'the secret plan' });

      const [push] = await received(bob.token);
      assert.deepEqual([push!.title, push!.body], ['Plans', 'Alice: New message']);
      assert.ok(!JSON.stringify(push).includes('secret'), 'the text is nowhere in the push');
    });
  });
}
