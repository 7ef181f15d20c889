import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519';
import type { DeviceListResponse, DevicesChangedEvent, PreKeysLowEvent } from '../../src/protocol/keys.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request } from '../support/http.js';
import { claimBundles, putDevice, registerDevice } from '../support/keys.js';
import { signedEcPreKey, SignalDevice } from '../support/signal-device.js';
import { collect, connectSocket, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';
import { nextMatching, settle } from '../support/groups.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const MAX_STORED = 150;
const LOW_THRESHOLD = 5;

for (const target of databaseTargets()) {
  describe(`E2EE key directory (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {
      E2EE_ONE_TIME_PREKEYS_MAX: String(MAX_STORED),
      E2EE_PREKEYS_LOW_THRESHOLD: String(LOW_THRESHOLD),
      E2EE_KEY_UPLOADS_PER_MINUTE: '100',
      E2EE_KEY_CLAIMS_PER_MINUTE: '60',
    });

    test('a device registers public keys; each one-time prekey is claimed once, then the last-resort key, flagged, and the device is told to replenish', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const keys = new SignalDevice(alice.user.id, 1);
      const body = { ...keys.registration(LOW_THRESHOLD + 2), lastResortPreKey: signedEcPreKey(keys, 9000) };
      const own = await registerDevice(server.baseUrl, alice.accessToken, body);
      assert.equal(own.device.deviceId, '1');
      assert.equal(own.device.oneTimePreKeyCount, LOW_THRESHOLD + 2);
      assert.deepEqual(own.device.identityKey, { algorithm: 'xeddsa', publicKey: keys.identityKey });
      const aliceSocket = await connectSocket(server.baseUrl, alice.accessToken);
      const lows = collect<PreKeysLowEvent>(aliceSocket, 'E2EE_PREKEYS_LOW');

      const listed = await request<DeviceListResponse>(server.baseUrl, 'GET', `/api/keys/users/${alice.user.id}/devices`, { token: bob.accessToken });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.devices.map((entry) => [entry.deviceId, entry.identityKey.publicKey]), [['1', keys.identityKey]]);

      const handedOut: number[] = [];
      for (let i = 0; i < LOW_THRESHOLD + 2; i++) {
        const [bundle] = await claimBundles(server.baseUrl, bob.accessToken, alice.user.id);
        assert.equal(bundle!.oneTimePreKey!.lastResort, false);
        assert.equal(bundle!.signedPreKey.signature, body.signedPreKey.signature);
        assert.equal(bundle!.kyberPreKey!.lastResort, true);
        handedOut.push(bundle!.oneTimePreKey!.keyId);
      }
      assert.deepEqual(handedOut, body.oneTimePreKeys.map((key) => key.keyId), 'every one-time key once, in order');
      const [fallback] = await claimBundles(server.baseUrl, bob.accessToken, alice.user.id);
      assert.deepEqual(fallback!.oneTimePreKey, { ...body.lastResortPreKey, lastResort: true });

      await settle([aliceSocket]);
      assert.deepEqual(lows.items.map((low) => low.remaining), [4, 3, 2, 1, 0, 0], 'told below the threshold, after each claim');
      const mine = await request(server.baseUrl, 'GET', '/api/keys/device', { token: alice.accessToken });
      assert.equal(mine.body.device.oneTimePreKeyCount, 0);
      // Replenishing: a new batch is claimed again, and a claim of one's own keys never hands out the caller's device.
      const uploaded = await request(server.baseUrl, 'POST', '/api/keys/device/one-time-prekeys', { token: alice.accessToken, body: { oneTimePreKeys: keys.oneTimePreKeys(3) } });
      assert.deepEqual(uploaded.body, { oneTimePreKeyCount: 3 });
      assert.deepEqual(await claimBundles(server.baseUrl, alice.accessToken, alice.user.id), []);
    });

    test('20 concurrent claims from 20 clients never hand out one one-time prekey twice', async () => {
      const owner = await registerUser(server.baseUrl, 'Owner');
      const keys = new SignalDevice(owner.user.id, 1);
      const body = { ...keys.registration(12), lastResortPreKey: signedEcPreKey(keys, 7777) };
      await registerDevice(server.baseUrl, owner.accessToken, body);
      const claimers = await Promise.all(Array.from({ length: 20 }, (_, i) => registerUser(server.baseUrl, `Claimer ${i}`)));
      const bundles = await Promise.all(claimers.map((claimer) => claimBundles(server.baseUrl, claimer.accessToken, owner.user.id)));
      const oneTime = bundles.map(([bundle]) => bundle!.oneTimePreKey!).filter((key) => !key.lastResort);
      const lastResort = bundles.map(([bundle]) => bundle!.oneTimePreKey!).filter((key) => key.lastResort);
      assert.equal(new Set(oneTime.map((key) => key.keyId)).size, oneTime.length, 'no one-time key twice');
      assert.equal(oneTime.length, 12, 'every one-time key handed out');
      assert.equal(lastResort.length, 8);
      for (const key of lastResort) assert.equal(key.keyId, 7777);
    });

    test('bad key uploads are refused with clear errors and store nothing', async () => {
      const user = await registerUser(server.baseUrl, 'Uploader');
      const keys = new SignalDevice(user.user.id, 1);
      const good = keys.registration(2);
      const refused = (body: unknown) => putDevice(server.baseUrl, user.accessToken, body);

      assertError(await refused({ ...good, identityKey: { ...good.identityKey, publicKey: 'A'.repeat(4000) } }), 413, 'PAYLOAD_TOO_LARGE');
      assertValidationFailed(await refused({ ...good, identityKey: { ...good.identityKey, publicKey: 'not base64!' } }), 'body.identityKey.publicKey');
      assertValidationFailed(await refused({ ...good, identityKey: { ...good.identityKey, algorithm: 'rsa' } }), 'body.identityKey.algorithm');
      assertValidationFailed(await refused({ ...good, signedPreKey: { ...good.signedPreKey, signature: b64(new Uint8Array(64)) } }), 'body.signedPreKey.signature');
      assertValidationFailed(await refused({ ...good, kyberPreKey: { ...good.kyberPreKey, signature: good.signedPreKey.signature } }), 'body.kyberPreKey.signature');
      assertValidationFailed(await refused({ ...good, oneTimePreKeys: [good.oneTimePreKeys[0], good.oneTimePreKeys[0]] }), 'body.oneTimePreKeys');
      assertValidationFailed(await refused({ ...good, deviceId: 'no spaces allowed' }), 'body.deviceId');
      assertError(await refused({ ...good, oneTimePreKeys: keys.oneTimePreKeys(101) }), 413, 'PAYLOAD_TOO_LARGE');
      assertError(await request(server.baseUrl, 'GET', '/api/keys/device', { token: user.accessToken }), 404, 'NOT_FOUND');

      await registerDevice(server.baseUrl, user.accessToken, { ...good, oneTimePreKeys: keys.oneTimePreKeys(100) });
      const upload = (count: number) =>
        request(server.baseUrl, 'POST', '/api/keys/device/one-time-prekeys', { token: user.accessToken, body: { oneTimePreKeys: keys.oneTimePreKeys(count) } });
      const tooMany = assertError(await upload(MAX_STORED - 100 + 1), 409, 'INVALID_STATE');
      assert.match(tooMany.message, new RegExp(`at most ${MAX_STORED}`));
      assert.deepEqual((await upload(MAX_STORED - 100)).body, { oneTimePreKeyCount: MAX_STORED });
      const badOneTime = { ...keys.oneTimePreKeys(1)[0]!, signature: b64(new Uint8Array(64)) };
      const signedRefused = await request(server.baseUrl, 'POST', '/api/keys/device/one-time-prekeys', { token: user.accessToken, body: { oneTimePreKeys: [badOneTime] } });
      assertValidationFailed(signedRefused, 'body.oneTimePreKeys.0.signature');
      const replaced = await request(server.baseUrl, 'PUT', '/api/keys/device/prekeys', {
        token: user.accessToken,
        body: { signedPreKey: { ...signedEcPreKey(keys, 2), signature: signedEcPreKey(keys, 3).signature } },
      });
      assertValidationFailed(replaced, 'body.signedPreKey.signature');

      // Another session of the same user cannot take the device id; a session of its own can register beside it.
      const second = await login(server.baseUrl, { email: user.email, password: user.password });
      const other = new SignalDevice(user.user.id, 1).registration(1);
      assertError(await putDevice(server.baseUrl, second.accessToken, other), 409, 'INVALID_STATE');
      await registerDevice(server.baseUrl, second.accessToken, { ...other, deviceId: '2' });
    });

    test('Ed25519 identity keys: the signature over the signed prekey is checked with @noble/curves', async () => {
      const user = await registerUser(server.baseUrl, 'Ed');
      const secret = ed25519.utils.randomPrivateKey();
      const identity = ed25519.getPublicKey(secret);
      const prekey = new Uint8Array(32).fill(7);
      const body = {
        deviceId: 'ABCDEFGH',
        identityKey: { algorithm: 'ed25519', publicKey: b64(identity) },
        signedPreKey: { keyId: 1, publicKey: b64(prekey), signature: b64(ed25519.sign(prekey, secret)) },
      };
      const tampered = { ...body, signedPreKey: { ...body.signedPreKey, publicKey: b64(new Uint8Array(32).fill(8)) } };
      assertValidationFailed(await putDevice(server.baseUrl, user.accessToken, tampered), 'body.signedPreKey.signature');
      const own = await registerDevice(server.baseUrl, user.accessToken, body);
      assert.equal(own.device.identityKey.algorithm, 'ed25519');
      assert.equal(own.device.kyberPreKey, null);
    });

    test('people who share a conversation hear of device changes; ending a session removes its device', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const stranger = await chatUser(server.baseUrl, 'Stranger');
      await sendOk(device(bob), { to: alice.id, text: 'hi' });
      const strangerHears = collect<DevicesChangedEvent>(device(stranger), 'E2EE_DEVICES_CHANGED');
      const aboutAlice = (change: DevicesChangedEvent['change']) =>
        nextMatching<DevicesChangedEvent>(device(bob), 'E2EE_DEVICES_CHANGED', (event) => event.userId === alice.id && event.change === change);

      const phone = await login(server.baseUrl, { email: alice.email, password: 'correct horse battery' });
      const added = aboutAlice('added');
      await registerDevice(server.baseUrl, phone.accessToken, new SignalDevice(alice.id, 3).registration(2));
      assert.deepEqual(await added, { userId: alice.id, deviceId: '3', change: 'added' });

      const changed = aboutAlice('identityChanged');
      const ownSocketHears = nextEvent<DevicesChangedEvent>(device(alice), 'E2EE_DEVICES_CHANGED');
      await registerDevice(server.baseUrl, phone.accessToken, new SignalDevice(alice.id, 3).registration(2));
      assert.equal((await changed).deviceId, '3');
      assert.equal((await ownSocketHears).change, 'identityChanged', "the owner's other devices hear it too");
      assert.equal((await claimBundles(server.baseUrl, bob.token, alice.id))[0]!.oneTimePreKey!.keyId, 1, 'the old identity\'s one-time keys went');

      const removed = aboutAlice('removed');
      const logout = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: phone.refreshToken } });
      assert.equal(logout.status, 200);
      assert.deepEqual(await removed, { userId: alice.id, deviceId: '3', change: 'removed' });
      const listed = await request<DeviceListResponse>(server.baseUrl, 'GET', `/api/keys/users/${alice.id}/devices`, { token: bob.token });
      assert.deepEqual(listed.body.devices, []);
      assert.deepEqual(await claimBundles(server.baseUrl, bob.token, alice.id), []);
      await settle([device(stranger)]);
      assert.deepEqual(strangerHears.items, [], 'nobody outside her conversations hears of her devices');
    });

    test('unknown users and spent budgets are refused', async () => {
      const user = await registerUser(server.baseUrl, 'Looker');
      const nobody = '01890a5d-ac96-774b-bcce-b302099a8057';
      assertError(await request(server.baseUrl, 'GET', `/api/keys/users/${nobody}/devices`, { token: user.accessToken }), 404, 'NOT_FOUND');
      assertError(await request(server.baseUrl, 'GET', '/api/keys/users/not-an-id/devices', { token: user.accessToken }), 404, 'NOT_FOUND');
      assertError(await request(server.baseUrl, 'GET', '/api/keys/device'), 401, 'UNAUTHORIZED');
      let status = 200;
      for (let i = 0; i < 61 && status === 200; i++) {
        status = (await request(server.baseUrl, 'GET', `/api/keys/users/${user.user.id}/devices`, { token: user.accessToken })).status;
      }
      assert.equal(status, 429);
    });
  });
}
