import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { DeviceKeysRecord, PreKeyRecord, SignedPreKeyRecord } from '../../../src/storage/ports.js';
import type { ContractContext } from '../storage-contract.js';

const bytes = (length: number) => new Uint8Array(randomBytes(length));
const signed = (keyId: number): SignedPreKeyRecord => ({ keyId, publicKey: bytes(33), signature: bytes(64) });
const oneTime = (keyIds: number[]): PreKeyRecord[] => keyIds.map((keyId) => ({ keyId, publicKey: bytes(33), signature: null }));

/** The key directory: signatures are the service's business, so the keys here are random bytes. */
export function deviceKeysContract(ctx: ContractContext): void {
  const keys = () => ctx.storage.deviceKeys;

  async function deviceOf(deviceId = '1', userId?: string) {
    const user = userId ?? (await ctx.createUser()).id;
    const session = await ctx.storage.sessions.create(ctx.newSession(user), ctx.tokenHash());
    const device: Omit<DeviceKeysRecord, 'createdAt'> = {
      userId: user,
      sessionId: session.id,
      deviceId,
      registrationId: 7,
      identityAlgorithm: 'xeddsa',
      identityKey: bytes(33),
      signedPreKey: signed(1),
      kyberPreKey: null,
      lastResortPreKey: signed(99),
      updatedAt: new Date(),
    };
    return device;
  }

  test('a registered device is read back as stored; a new identity drops its one-time prekeys', async () => {
    const device = await deviceOf();
    const first = await keys().register(device, oneTime([1, 2, 3]), 10);
    assert.equal(first.outcome, 'registered');
    assert.equal(first.outcome === 'registered' && first.oneTimePreKeyCount, 3);
    const stored = await keys().findBySession(device.sessionId);
    assert.deepEqual({ ...stored, createdAt: undefined }, { ...device, createdAt: undefined });
    const again = await keys().register({ ...device, identityKey: bytes(33) }, [], 10);
    assert.equal(again.outcome === 'registered' && again.previous?.deviceId, '1');
    assert.equal(await keys().countOneTimePreKeys(device.sessionId), 0);
  });

  test('one-time prekeys stay within the cap; known ids are skipped', async () => {
    const device = await deviceOf();
    await keys().register(device, oneTime([1, 2]), 4);
    assert.deepEqual(await keys().addOneTimePreKeys(device.sessionId, oneTime([2, 3]), 4), { outcome: 'added', count: 3 });
    assert.deepEqual(await keys().addOneTimePreKeys(device.sessionId, oneTime([4, 5]), 4), { outcome: 'full', count: 3 });
    assert.deepEqual(await keys().addOneTimePreKeys(newId(), oneTime([1]), 4), { outcome: 'noDevice' });
    assert.deepEqual(await keys().register(await deviceOf(), oneTime([1, 2, 3]), 2), { outcome: 'full', count: 0 });
  });

  test("a device id is the user's one device; a revoked session registers nothing", async () => {
    const device = await deviceOf('same');
    await keys().register(device, [], 10);
    const other = await deviceOf('same', device.userId);
    assert.deepEqual(await keys().register(other, [], 10), { outcome: 'deviceIdTaken' });
    await ctx.storage.sessions.revoke(other.sessionId, other.userId, 'logout', new Date());
    assert.deepEqual(await keys().register({ ...other, deviceId: 'other' }, [], 10), { outcome: 'sessionEnded' });
  });

  test('concurrent claims take each one-time prekey once, then the last-resort key', async () => {
    const device = await deviceOf();
    await keys().register(device, oneTime([1, 2, 3, 4, 5]), 10);
    const claimer = newId();
    const claims = await Promise.all(Array.from({ length: 8 }, () => keys().claim(device.userId, { exceptSessionId: claimer, now: new Date() })));
    const handed = claims.map(([bundle]) => bundle!.oneTimePreKey!);
    assert.deepEqual(handed.filter((key) => !key.lastResort).map((key) => key.keyId).sort(), [1, 2, 3, 4, 5]);
    assert.deepEqual(handed.filter((key) => key.lastResort).map((key) => key.keyId), [99, 99, 99]);
    assert.deepEqual(await keys().claim(device.userId, { exceptSessionId: device.sessionId, now: new Date() }), [], 'never the claimer\'s own device');
  });

  test('devices of revoked sessions are neither listed nor claimed, and go with removeBySessions', async () => {
    const device = await deviceOf();
    await keys().register(device, oneTime([1]), 10);
    assert.equal((await keys().listForUser(device.userId, new Date())).length, 1);
    await ctx.storage.sessions.revoke(device.sessionId, device.userId, 'logout', new Date());
    assert.deepEqual(await keys().listForUser(device.userId, new Date()), []);
    assert.deepEqual(await keys().claim(device.userId, { exceptSessionId: newId(), now: new Date() }), []);
    assert.deepEqual((await keys().removeBySessions([device.sessionId])).map((removed) => removed.deviceId), ['1']);
    assert.deepEqual(await keys().removeBySessions([device.sessionId]), []);
  });

  test('to-device messages queue per device up to a bound, oldest first, until acknowledged', async () => {
    const sender = await ctx.createUser();
    const device = await deviceOf();
    await keys().register(device, [], 10);
    const message = (body: string) => ({ id: newId(), userId: device.userId, deviceId: '1', senderId: sender.id, senderDeviceId: 'S', type: 1, body, createdAt: new Date() });
    const [a, b, c] = [message('QQ=='), message('Qg=='), message('Qw==')];
    const nowhere = { ...message('RA=='), deviceId: 'none' };
    const results = await keys().queueToDevice([a, b, nowhere, c], 2, new Date());
    assert.deepEqual(results.map((result) => result.outcome), ['queued', 'queued', 'noSuchDevice', 'queued']);
    assert.deepEqual((await keys().pendingToDevice(device.sessionId, 10)).map((queued) => queued.body), ['QQ==', 'Qg==', 'Qw==']);
    assert.deepEqual((await keys().queueToDevice([message('RQ==')], 2, new Date())).map((result) => result.outcome), ['queueFull']);
    assert.equal(await keys().acknowledgeToDevice(device.sessionId, [a.id, b.id]), 2);
    assert.equal(await keys().acknowledgeToDevice(newId(), [c.id]), 0, "only the device's own session acknowledges");
    assert.deepEqual((await keys().pendingToDevice(device.sessionId, 10)).map((queued) => queued.id), [c.id]);
  });

  test('the audience of a user is everyone sharing a current conversation with them', async () => {
    const [owner, peer, member, stranger] = await Promise.all([ctx.createUser(), ctx.createUser(), ctx.createUser(), ctx.createUser()]);
    await ctx.storage.conversations.ensureDirect(owner.id, peer.id, new Date());
    await ctx.storage.conversations.createGroup({ id: newId(), title: 'g', ownerId: member.id, memberIds: [owner.id], createdAt: new Date() });
    assert.deepEqual((await keys().audienceOf(owner.id)).sort(), [peer.id, member.id].sort());
    assert.deepEqual(await keys().audienceOf(stranger.id), []);
  });
}
