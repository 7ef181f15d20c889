import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { PushTokenRecord } from '../../../src/storage/ports.js';
import type { ContractContext } from '../storage-contract.js';

const expoToken = () => `ExponentPushToken[${randomUUID()}]`;
const tokensOf = (records: PushTokenRecord[]) => records.map((record) => record.token).sort();

export function pushTokensContract(ctx: ContractContext): void {
  const pushTokens = () => ctx.storage.pushTokens;
  const signedIn = async (userId?: string) => {
    const user = userId ?? (await ctx.createUser()).id;
    const session = await ctx.storage.sessions.create(ctx.newSession(user), ctx.tokenHash());
    return { userId: user, sessionId: session.id };
  };
  const record = (owner: { userId: string; sessionId: string }, deviceId: string | null = null) => ({
    token: expoToken(),
    ...owner,
    deviceId,
    updatedAt: new Date(),
  });
  const register = async (token: PushTokenRecord & { sessionId: string }) => assert.equal(await pushTokens().register(token), true);

  test('register stores a token per session; listByUser lists that user\'s, newest first', async () => {
    const phone = await signedIn();
    const laptop = await signedIn(phone.userId);
    const stranger = await signedIn();
    const older = { ...record(phone, 'phone'), updatedAt: new Date(Date.now() - 60_000) };
    const newer = record(laptop);
    await register(older);
    await register(newer);
    await register(record(stranger));
    assert.deepEqual(await pushTokens().listByUser(phone.userId), [newer, older]);
    assert.deepEqual(await pushTokens().listByUser(newId()), []);
  });

  test('a session holds one token: registering another replaces it; registering the same one again updates it', async () => {
    const phone = await signedIn();
    const other = await signedIn(phone.userId);
    const kept = record(other);
    await register(kept);
    await register(record(phone));
    const rotated = record(phone, 'phone');
    await register(rotated);
    assert.deepEqual(tokensOf(await pushTokens().listByUser(phone.userId)), tokensOf([kept, rotated]));
    const again = { ...rotated, deviceId: null, updatedAt: new Date(Date.now() + 1000) };
    await register(again);
    assert.deepEqual(await pushTokens().listByUser(phone.userId), [again, kept]);
  });

  test('with a deviceId, the user\'s older token for that device goes, whatever session held it; no one else\'s does', async () => {
    const before = await signedIn();
    const after = await signedIn(before.userId);
    const stranger = await signedIn();
    const strangersPhone = record(stranger, 'phone');
    const tablet = record(await signedIn(before.userId), 'tablet');
    const unnamed = record(await signedIn(before.userId));
    for (const token of [record(before, 'phone'), strangersPhone, tablet, unnamed]) await register(token);
    const current = record(after, 'phone');
    await register(current);
    assert.deepEqual(tokensOf(await pushTokens().listByUser(before.userId)), tokensOf([current, tablet, unnamed]));
    assert.deepEqual(await pushTokens().listByUser(stranger.userId), [strangersPhone]);
  });

  test('a token another user or session held moves to the registering session, with its device and time', async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const bobsOtherSession = await signedIn(bob.userId);
    const token = expoToken();
    await register({ token, ...alice, deviceId: 'old', updatedAt: new Date(Date.now() - 60_000) });
    const moved = { token, ...bob, deviceId: 'new', updatedAt: new Date() };
    await register(moved);
    assert.deepEqual(await pushTokens().listByUser(alice.userId), []);
    assert.deepEqual(await pushTokens().listByUser(bob.userId), [moved]);
    const movedAgain = { ...moved, ...bobsOtherSession, deviceId: null };
    await register(movedAgain);
    assert.deepEqual(await pushTokens().listByUser(bob.userId), [movedAgain]);
  });

  test('register refuses a revoked session or one of another user, changing nothing', async () => {
    const user = await signedIn();
    const kept = record(user);
    await register(kept);
    const revoked = await signedIn(user.userId);
    await ctx.storage.sessions.revoke(revoked.sessionId, user.userId, 'logout', new Date());
    const stranger = await signedIn();
    assert.equal(await pushTokens().register({ ...record(revoked), token: kept.token }), false);
    assert.equal(await pushTokens().register({ ...record(user), userId: stranger.userId }), false);
    assert.equal(await pushTokens().register({ ...record(user), sessionId: newId() }), false);
    assert.deepEqual(await pushTokens().listByUser(user.userId), [kept]);
    assert.deepEqual(await pushTokens().listByUser(stranger.userId), []);
  });

  test('removeForUser removes the user\'s token only; another user\'s or an unknown one stays or is ignored', async () => {
    const user = await signedIn();
    const stranger = await signedIn();
    const removed = record(user);
    const kept = record(await signedIn(user.userId));
    const strangers = record(stranger);
    for (const token of [removed, kept, strangers]) await register(token);
    assert.deepEqual(await pushTokens().removeForUser(user.userId, removed.token), removed);
    assert.equal(await pushTokens().removeForUser(user.userId, removed.token), null, 'once');
    assert.equal(await pushTokens().removeForUser(user.userId, strangers.token), null);
    assert.equal(await pushTokens().removeForUser(user.userId, expoToken()), null);
    assert.deepEqual(await pushTokens().listByUser(user.userId), [kept]);
    assert.deepEqual(await pushTokens().listByUser(stranger.userId), [strangers]);
  });

  test('revoking a session deletes its token; revoking all but one keeps that one\'s', async () => {
    const phone = await signedIn();
    const laptop = await signedIn(phone.userId);
    const tablet = await signedIn(phone.userId);
    const stranger = await signedIn();
    const [phones, laptops, tablets, strangers] = [record(phone), record(laptop), record(tablet), record(stranger)];
    for (const token of [phones, laptops, tablets, strangers]) await register(token);
    await ctx.storage.sessions.revoke(phone.sessionId, phone.userId, 'logout', new Date());
    assert.deepEqual(tokensOf(await pushTokens().listByUser(phone.userId)), tokensOf([laptops, tablets]));
    await ctx.storage.sessions.revokeAllForUser(phone.userId, 'logout_all', new Date(), tablet.sessionId);
    assert.deepEqual(await pushTokens().listByUser(phone.userId), [tablets]);
    await ctx.storage.sessions.revokeAllForUser(phone.userId, 'banned', new Date());
    assert.deepEqual(await pushTokens().listByUser(phone.userId), []);
    assert.deepEqual(await pushTokens().listByUser(stranger.userId), [strangers]);
  });
}
