import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import { chatUser, device } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { startFakeExpo } from '../support/fake-expo.js';
import { offlineUser, received } from '../support/push.js';
import { emitAck } from '../support/sockets.js';

// expo-server-sdk reads EXPO_BASE_URL when it loads: set it before anything imports the app.
const expo = await startFakeExpo();
process.env['EXPO_BASE_URL'] = expo.url;
const { useTestApp } = await import('../support/test-app.js');
after(() => expo.close());

for (const target of databaseTargets()) {
  describe(`pushes of encrypted messages (${target.kind})`, { skip: target.skip }, () => {
    // Previews are on: an encrypted message still says "New message" only.
    const server = useTestApp(target.kind, { PUSH_POLL_MS: '25', PUSH_COALESCE_MS: '0' }, { privateDatabase: true });

    test('an offline recipient of an encrypted message gets "New message", never anything of the payload', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await offlineUser(server.baseUrl, 'Bob');
      const encrypted = { scheme: 'signal', senderDeviceId: '1', ciphertexts: [{ userId: bob.id, deviceId: '1', type: 3, body: Buffer.from('opaque bytes').toString('base64') }] };
      const ack = await emitAck<AckResponse<ChatMessageEvent>>(device(alice), 'CHAT_MESSAGE', { to: bob.id, encrypted });
      assert.ok(ack.ok, JSON.stringify(ack));
      const [push] = await received(expo, bob.token);
      assert.equal(push!.title, 'Alice');
      assert.equal(push!.body, 'New message');
      assert.equal(JSON.stringify(push).includes(encrypted.ciphertexts[0]!.body), false);
    });
  });
}
