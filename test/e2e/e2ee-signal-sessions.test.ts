import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DevicesChangedEvent } from '../../src/protocol/keys.js';
import { chatUser, device, sendOk, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { nextMatching } from '../support/groups.js';
import { login } from '../support/http.js';
import { claimBundles, registerDevice } from '../support/keys.js';
import { SignalDevice } from '../support/signal-device.js';
import { useTestApp } from '../support/test-app.js';

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface SignedInDevice {
  keys: SignalDevice;
  token: string;
}

/** Signs the user in once more (a session of its own) and registers a libsignal device for it. */
async function signalDevice(baseUrl: string, user: ChatUser, deviceId: number): Promise<SignedInDevice> {
  const session = await login(baseUrl, { email: user.email, password: 'correct horse battery' });
  const keys = new SignalDevice(user.id, deviceId);
  await registerDevice(baseUrl, session.accessToken, keys.registration(5));
  return { keys, token: session.accessToken };
}

/**
 * Real libsignal devices start sessions (PQXDH with one-time prekeys) from the bundles the directory
 * hands out, and the receiving device decrypts the first message with the private keys only it holds.
 * The ciphertexts are handed over by the test itself: encrypted chat messages are not carried yet.
 */
for (const target of databaseTargets()) {
  describe(`Signal sessions through the key directory (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    async function sessionsWith(from: SignedInDevice, userId: string): Promise<void> {
      for (const bundle of await claimBundles(server.baseUrl, from.token, userId)) {
        assert.equal(bundle.oneTimePreKey?.lastResort, false);
        await from.keys.startSession(bundle);
      }
    }

    async function exchange(from: SignedInDevice, to: SignedInDevice, message: string): Promise<void> {
      const address = { userId: to.keys.userId, deviceId: String(to.keys.deviceId) };
      assert.ok(from.keys.hasSession(address.userId, address.deviceId), `no session ${from.keys.userId}.${from.keys.deviceId} -> ${address.userId}.${address.deviceId}`);
      const ciphertext = await from.keys.encrypt(to.keys.address, utf8.encode(message));
      assert.equal(Buffer.from(ciphertext.body, 'base64').includes(Buffer.from(message)), false);
      assert.equal(text(await to.keys.decrypt(from.keys.userId, String(from.keys.deviceId), ciphertext)), message);
    }

    test('Alice and Bob, two devices each, start sessions from claimed bundles both ways; a device added later is found after the change event', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      await sendOk(device(alice), { to: bob.id, text: 'let us talk privately' });
      const [alice1, alice2, bob1, bob2] = [
        await signalDevice(server.baseUrl, alice, 1),
        await signalDevice(server.baseUrl, alice, 2),
        await signalDevice(server.baseUrl, bob, 1),
        await signalDevice(server.baseUrl, bob, 2),
      ] as const;

      await sessionsWith(alice1, bob.id);
      await sessionsWith(alice1, alice.id);
      await sessionsWith(bob1, alice.id);
      for (const to of [bob1, bob2, alice2]) await exchange(alice1, to, `hello from alice's phone to ${to.keys.userId}.${to.keys.deviceId}`);
      for (const to of [alice1, alice2]) await exchange(bob1, to, `and back from bob to ${to.keys.deviceId}`);
      await exchange(bob2, alice1, 'a reply on the session alice started');

      const added = nextMatching<DevicesChangedEvent>(device(alice), 'E2EE_DEVICES_CHANGED', (event) => event.userId === bob.id && event.change === 'added');
      const bob3 = await signalDevice(server.baseUrl, bob, 3);
      assert.equal((await added).deviceId, '3');
      const [bundle] = await claimBundles(server.baseUrl, alice1.token, bob.id, ['3']);
      await alice1.keys.startSession(bundle!);
      await exchange(alice1, bob3, 'welcome, new device');
    });
  });
}
