import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { callEventOk, callUser, device as callDevice, OFFER } from '../support/calls.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { startFakeExpo } from '../support/fake-expo.js';
import { login, registerPushToken, registerUser } from '../support/http.js';
import { offlineUser, received as receivedBy, seen } from '../support/push.js';

// expo-server-sdk reads EXPO_BASE_URL when it loads: set it before anything imports the app.
const expo = await startFakeExpo();
process.env['EXPO_BASE_URL'] = expo.url;
const { useTestApp } = await import('../support/test-app.js');
after(() => expo.close());

// Long enough for a test to send a few messages inside one window, or to cancel a call before it times out.
const COALESCE_MS = 1_000;
const RING_TIMEOUT_MS = 2_000;
const PUSH_ENV = {
  PUSH_POLL_MS: '25',
  PUSH_COALESCE_MS: String(COALESCE_MS),
  CALL_RING_TIMEOUT_MS: String(RING_TIMEOUT_MS),
  RATE_LIMIT_AUTH_PER_IP: '100000',
};

const received = (token: string, count?: number) => receivedBy(expo, token, count);

for (const target of databaseTargets()) {
  describe(`push notifications (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, PUSH_ENV, { privateDatabase: true });

    test('an offline recipient gets a push with the sender as title, the text as body, the unread count as badge', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const { message } = await sendOk(device(alice), { to: bob.id, text: 'Are you there?' });

      const [push] = await received(bob.token);
      assert.deepEqual(seen(push!), {
        title: 'Alice',
        body: 'Are you there?',
        badge: 1,
        data: { type: 'message', messageId: message.id, conversationId: message.conversationId, from: alice.id },
        priority: 'high',
        sound: 'default',
        channelId: 'messages',
        collapseId: `message:${alice.id}`,
      });
    });

    test('a recipient with a connected device gets no push', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const bobsToken = await registerPushToken(server.baseUrl, bob.token);
      const carol = await offlineUser(server.baseUrl, 'Carol');

      await sendOk(device(alice), { to: bob.id, text: 'you are online' });
      // Queued later, so sent after any push for Bob's message: once Carol has hers, Bob's would be there.
      await sendOk(device(alice), { to: carol.id, text: 'you are not' });
      await received(carol.token);
      assert.deepEqual(expo.pushesTo(bobsToken), []);
    });

    test('messages from one sender within the coalescing window become one push: the newest, with the newest badge', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const carol = await offlineUser(server.baseUrl, 'Carol');
      await sendOk(device(alice), { to: bob.id, text: 'one' });
      await sendOk(device(alice), { to: bob.id, text: 'two' });
      const { message: last } = await sendOk(device(alice), { to: bob.id, text: 'three' });
      // Due after Alice's messages to Bob: once Carol has hers, any other push for Bob would be there.
      await sendOk(device(alice), { to: carol.id, text: 'hi Carol' });
      await received(carol.token);

      assert.deepEqual(
        expo.pushesTo(bob.token).map((push) => [push.title, push.body, push.badge, push.data]),
        [['Alice', 'three', 3, { type: 'message', messageId: last.id, conversationId: last.conversationId, from: alice.id }]],
      );
    });

    test('a call pushes to every device of the callee: high priority, a TTL within the ring timeout, the call in its data', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const phone = await registerPushToken(server.baseUrl, bob.accessToken);
      const tablet = await registerPushToken(server.baseUrl, (await login(server.baseUrl, { email: bob.email, password: bob.password })).accessToken);

      const call = await callEventOk(callDevice(alice), 'CALL_REQUEST', { to: bob.user.id, type: 'video', offer: OFFER });
      const rings = [...(await received(phone)), ...(await received(tablet))];
      for (const ring of rings) {
        assert.deepEqual(seen(ring), {
          title: 'Incoming video call',
          body: 'Alice',
          data: { type: 'call', callId: call.id, callType: 'video', from: { id: alice.id, name: 'Alice' } },
          priority: 'high',
          sound: 'default',
          channelId: 'calls',
          categoryId: 'incoming_call',
          collapseId: `call:${call.id}`,
        });
        assert.ok(ring.ttl !== undefined && ring.ttl > 0 && ring.ttl <= RING_TIMEOUT_MS / 1000, `ttl ${ring.ttl}`);
      }

      // The caller hangs up before anyone answers: every device is told to stop ringing, silently.
      await callEventOk(callDevice(alice), 'CALL_ENDED', { callId: call.id });
      for (const token of [phone, tablet]) {
        const [, stop] = await received(token, 2);
        assert.deepEqual(seen(stop!), { data: { type: 'call_ended', callId: call.id, reason: 'cancelled' }, priority: 'high', _contentAvailable: true });
      }
    });

    test('a call nobody answers stops ringing and leaves a visible missed-call push', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const call = await callEventOk(callDevice(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio', offer: OFFER });

      const [ring, ...afterwards] = await received(bob.token, 3);
      assert.equal(ring!.title, 'Incoming audio call');
      // Both are due at the timeout, in no particular order.
      const stop = afterwards.find((push) => push.data?.['type'] === 'call_ended');
      const missed = afterwards.find((push) => push.data?.['type'] === 'missed_call');
      assert.deepEqual(stop?.data, { type: 'call_ended', callId: call.id, reason: 'timeout' });
      assert.deepEqual(seen(missed!), {
        title: 'Missed call',
        body: 'Alice',
        data: { type: 'missed_call', callId: call.id, from: { id: alice.id, name: 'Alice' } },
        priority: 'default',
        channelId: 'calls',
        collapseId: `call:${call.id}`,
      });
    });
  });

  describe(`push notifications without preview, and without polling (${target.kind})`, { skip: target.skip }, () => {
    // A poll every 10 minutes: a push goes out only because the worker wakes up when it falls due.
    const server = useTestApp(target.kind, { ...PUSH_ENV, PUSH_PREVIEW: 'false', PUSH_POLL_MS: '600000' }, { privateDatabase: true });

    test('a push waiting out its coalescing window is sent when it falls due, not at the next poll', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const sentAt = Date.now();
      await sendOk(device(alice), { to: bob.id, text: 'hello' });
      const [push] = await received(bob.token);
      assert.ok(push!.receivedAt.getTime() - sentAt >= COALESCE_MS - 50, 'not before its window closed');
    });

    test('PUSH_PREVIEW=false: the notification says "New message", never the text', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      await sendOk(device(alice), { to: bob.id, text: 'the secret plan' });

      const [push] = await received(bob.token);
      assert.deepEqual([push!.title, push!.body], ['Alice', 'New message']);
      assert.ok(!JSON.stringify(push).includes('secret'), 'the text is nowhere in the push');
    });
  });
}
