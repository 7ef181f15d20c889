import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import type { DevicesChangedEvent, ToDeviceEvent, ToDeviceSendResponse } from '../../src/protocol/keys.js';
import { chatUser, history, sendOk } from '../support/chat.js';
import { databaseTargets, onlyWithTables } from '../support/databases.js';
import {
  decryptMine,
  e2eeDevice,
  encryptFor,
  ensureSessions,
  pendingToDevice,
  sendEncrypted,
  sendToDevices,
  tablesContaining,
  type E2eeDevice,
} from '../support/e2ee.js';
import { createGroup, nextMatching } from '../support/groups.js';
import { request } from '../support/http.js';
import { emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const address = (device: E2eeDevice) => ({ userId: device.userId, deviceId: device.deviceId });

/**
 * End-to-end encrypted chat through the server with the real libsignal: sessions start from bundles the
 * key directory hands out, messages travel as CHAT_MESSAGE ciphertexts, sender keys as to-device messages.
 */
for (const target of databaseTargets()) {
  describe(`end-to-end encrypted chat with libsignal (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);
    const tag = randomBytes(6).toString('hex');
    const phrases: string[] = [];
    const phrase = (words: string) => {
      const secret = `${words} ${tag}`;
      phrases.push(secret);
      return secret;
    };

    /** Sends `plaintext` encrypted for `recipients` and asserts each of them decrypts it; returns the message id. */
    async function exchange(from: E2eeDevice, to: string, recipients: readonly E2eeDevice[], plaintext: string): Promise<string> {
      for (const userId of new Set(recipients.map((device) => device.userId))) await ensureSessions(server.baseUrl, from, userId);
      // The message id is known only from the ack, so each recipient waits for the next encrypted message.
      const arrivals = recipients.map((device) => nextMatching<ChatMessageEvent>(device.socket, 'CHAT_MESSAGE', (event) => event.message.encrypted !== undefined));
      const sent = await sendEncrypted(from, { to }, await encryptFor(from, recipients.map(address), plaintext));
      assert.equal(sent.text, '');
      for (const [index, arrival] of arrivals.entries()) {
        const { message } = await arrival;
        assert.equal(message.id, sent.id);
        assert.equal(await decryptMine(recipients[index]!, message), plaintext);
      }
      return sent.id;
    }

    test('Alice and Bob, two devices each, exchange encrypted direct messages both ways; a device added later gets messages after the change event', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 0);
      const bob = await chatUser(server.baseUrl, 'Bob', 0);
      const [a1, a2, b1, b2] = [
        await e2eeDevice(server.baseUrl, alice, 1),
        await e2eeDevice(server.baseUrl, alice, 2),
        await e2eeDevice(server.baseUrl, bob, 1),
        await e2eeDevice(server.baseUrl, bob, 2),
      ] as const;

      const first = await exchange(a1, bob.id, [b1, b2, a2], phrase('meet me at the old lighthouse'));
      await exchange(b1, alice.id, [a1, a2, b2], phrase('the lighthouse at nine'));
      await exchange(a2, bob.id, [b1, b2, a1], phrase('bring the blue notebook'));
      await exchange(b2, alice.id, [a1, a2, b1], phrase('notebook is packed'));

      const stored = (await history(server.baseUrl, b1.token, alice.id)).messages.find((message) => message.id === first)!;
      assert.equal(stored.text, '');
      assert.equal(stored.encrypted?.ciphertexts?.length, 3, 'history keeps the payload as sent');

      const added = nextMatching<DevicesChangedEvent>(a1.socket, 'E2EE_DEVICES_CHANGED', (event) => event.userId === bob.id && event.change === 'added');
      const b3 = await e2eeDevice(server.baseUrl, bob, 3);
      assert.equal((await added).deviceId, '3');
      await exchange(a1, bob.id, [b1, b2, b3, a2], phrase('welcome to the new phone'));
      await exchange(b3, alice.id, [a1, a2, b1, b2], phrase('new phone says hello'));
    });

    test('a retried encrypted send is recognised; another payload under the same clientMessageId is refused', async () => {
      const carol = await chatUser(server.baseUrl, 'Carol', 0);
      const dave = await chatUser(server.baseUrl, 'Dave', 0);
      const c1 = await e2eeDevice(server.baseUrl, carol, 1);
      const d1 = await e2eeDevice(server.baseUrl, dave, 1);
      await ensureSessions(server.baseUrl, c1, dave.id);
      const encrypted = await encryptFor(c1, [address(d1)], phrase('only once please'));
      const clientMessageId = randomUUID();
      const arrival = nextMatching<ChatMessageEvent>(d1.socket, 'CHAT_MESSAGE', () => true);
      const sent = await sendEncrypted(c1, { to: dave.id }, encrypted, clientMessageId);
      // jsonb stores the keys in its own order: a retry with the same payload is still the same message.
      const retried = await sendEncrypted(c1, { to: dave.id }, { ciphertexts: encrypted.ciphertexts!, senderDeviceId: encrypted.senderDeviceId, scheme: encrypted.scheme }, clientMessageId);
      assert.equal(retried.id, sent.id);
      assert.equal(await decryptMine(d1, (await arrival).message), phrases.at(-1));
      const other = await encryptFor(c1, [address(d1)], 'something else');
      const refused = await emitAck<AckResponse>(c1.socket, 'CHAT_MESSAGE', { to: dave.id, encrypted: other, clientMessageId });
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.error.code, 'VALIDATION_FAILED');
    });

    test('an encrypted group of three: sender keys go out as to-device messages, each delivered once, then every member decrypts every group message', async () => {
      const users = [await chatUser(server.baseUrl, 'Gwen', 0), await chatUser(server.baseUrl, 'Hal', 0), await chatUser(server.baseUrl, 'Ivy', 0)];
      const devices = await Promise.all(users.map((user) => e2eeDevice(server.baseUrl, user, 1)));
      const group = await createGroup(server.baseUrl, devices[0]!.token, 'Secret plans', [users[1]!.id, users[2]!.id]);
      const distributions = new Map<E2eeDevice, string>();

      for (const sender of devices) {
        const distributionId = randomUUID();
        distributions.set(sender, distributionId);
        const skdm = await sender.keys.senderKeyDistribution(distributionId);
        const others = devices.filter((device) => device !== sender);
        const shares = [];
        for (const other of others) {
          await ensureSessions(server.baseUrl, sender, other.userId);
          shares.push({ ...address(other), ...(await sender.keys.encrypt(other.keys.address, skdm)) });
        }
        const arrivals = others.map((other) => nextEvent<ToDeviceEvent>(other.socket, 'E2EE_TO_DEVICE'));
        const ids = await sendToDevices(server.baseUrl, sender, shares);
        for (const [index, other] of others.entries()) {
          const { message } = await arrivals[index]!;
          assert.equal(message.id, ids[index]);
          assert.deepEqual([message.from, message.fromDeviceId], [sender.userId, sender.deviceId]);
          assert.deepEqual((await pendingToDevice(server.baseUrl, other)).map((pending) => pending.id), [message.id], 'queued until acknowledged');
          const distribution = await other.keys.decrypt(message.from, message.fromDeviceId, message);
          await other.keys.acceptSenderKey(message.from, message.fromDeviceId, distribution);
          const ack = await request(server.baseUrl, 'POST', '/api/keys/to-device/ack', { token: other.token, body: { ids: [message.id] } });
          assert.deepEqual(ack.body, { removed: 1 });
          assert.deepEqual(await pendingToDevice(server.baseUrl, other), [], 'gone once acknowledged: never delivered again');
        }
      }

      for (const sender of devices) {
        const secret = phrase(`group secret from ${sender.userId.slice(-4)}`);
        const distributionId = distributions.get(sender)!;
        const others = devices.filter((device) => device !== sender);
        const arrivals = others.map((other) => nextMatching<ChatMessageEvent>(other.socket, 'CHAT_MESSAGE', (event) => event.message.conversationId === group.id));
        const body = await sender.keys.groupEncrypt(distributionId, utf8.encode(secret));
        const sent = await sendEncrypted(sender, { conversationId: group.id }, { scheme: 'signal-sender-key', senderDeviceId: sender.deviceId, groupCiphertext: { body, distributionId } });
        for (const [index, other] of others.entries()) {
          const { message } = await arrivals[index]!;
          assert.equal(message.id, sent.id);
          assert.equal(text(await other.keys.groupDecrypt(message.from, message.encrypted!.senderDeviceId, message.encrypted!.groupCiphertext!.body)), secret);
        }
      }
    });

    test('malformed or oversized encrypted payloads and to-device messages are refused with clear errors', async () => {
      const user = await chatUser(server.baseUrl, 'Mallory', 0);
      const peer = await chatUser(server.baseUrl, 'Peer', 0);
      const mallory = await e2eeDevice(server.baseUrl, user, 1);
      const good = { scheme: 'signal', senderDeviceId: '1', ciphertexts: [{ userId: peer.id, deviceId: '1', type: 3, body: 'AAAA' }] };
      const refusal = async (payload: unknown) => {
        const ack = await emitAck<AckResponse>(mallory.socket, 'CHAT_MESSAGE', payload);
        assert.equal(ack.ok, false, JSON.stringify(payload).slice(0, 200));
        return !ack.ok ? ack.error : undefined;
      };
      assert.equal((await refusal({ to: peer.id, text: 'both', encrypted: good }))?.code, 'VALIDATION_FAILED');
      assert.equal((await refusal({ to: peer.id }))?.code, 'VALIDATION_FAILED');
      assert.equal((await refusal({ to: peer.id, encrypted: { ...good, ciphertexts: [{ ...good.ciphertexts[0], body: 'not base64!' }] } }))?.code, 'VALIDATION_FAILED');
      assert.equal((await refusal({ to: peer.id, encrypted: { ...good, groupCiphertext: { body: 'AAAA' } } }))?.code, 'VALIDATION_FAILED');
      assert.equal((await refusal({ to: peer.id, encrypted: { ...good, ciphertexts: [{ ...good.ciphertexts[0], body: 'A'.repeat(40_000) }] } }))?.code, 'PAYLOAD_TOO_LARGE');
      const many = Array.from({ length: 51 }, (_, i) => ({ ...good.ciphertexts[0]!, deviceId: String(i) }));
      assert.equal((await refusal({ to: peer.id, encrypted: { ...good, ciphertexts: many } }))?.code, 'PAYLOAD_TOO_LARGE');

      const toDevice = (messages: unknown) => request<ToDeviceSendResponse>(server.baseUrl, 'POST', '/api/keys/to-device', { token: mallory.token, body: { messages } });
      const nowhere = await toDevice([{ userId: peer.id, deviceId: '1', type: 3, body: 'AAAA' }]);
      assert.deepEqual(nowhere.body, { results: [{ queued: false, reason: 'noSuchDevice' }] });
      assert.equal((await toDevice([{ userId: peer.id, deviceId: '1', type: 3, body: 'A'.repeat(70_000) }])).status, 413);
      assert.equal((await toDevice([{ userId: peer.id, deviceId: 'x y', type: 3, body: 'AAAA' }])).status, 400);
    });

    test('the stored rows hold none of the phrases the devices exchanged', { skip: onlyWithTables(target.kind) }, async () => {
      // The control: a phrase sent in plain text is found, so the search does look where messages are kept.
      const plain = await chatUser(server.baseUrl, 'Plain', 1);
      const other = await chatUser(server.baseUrl, 'Other', 0);
      const control = `sent in the clear ${tag}`;
      await sendOk(plain.devices[0]!, { to: other.id, text: control });
      assert.ok(phrases.length >= 9, 'the earlier tests sent their phrases');
      await server.stop();
      const location = { kind: target.kind, databaseUrl: process.env['DATABASE_URL'], dataDir: server.dataDir };
      assert.deepEqual(await tablesContaining(location, [control]), ['messages']);
      assert.deepEqual(await tablesContaining(location, phrases), []);
    });
  });
}
