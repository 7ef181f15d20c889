import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { PushTokenRecord } from '../../../src/storage/ports.js';
import type { ContractContext } from '../storage-contract.js';

const expoToken = () => `ExponentPushToken[${randomUUID()}]`;
const byToken = (records: PushTokenRecord[]) => [...records].sort((a, b) => a.token.localeCompare(b.token));

export function pushTokensContract(ctx: ContractContext): void {
  test('upsert stores tokens; listByUser lists that user\'s', async () => {
    const user = await ctx.createUser();
    const other = await ctx.createUser();
    const records: PushTokenRecord[] = [
      { token: expoToken(), userId: user.id, deviceId: 'phone', updatedAt: new Date() },
      { token: expoToken(), userId: user.id, deviceId: null, updatedAt: new Date() },
    ];
    for (const record of records) await ctx.storage.pushTokens.upsert(record);
    await ctx.storage.pushTokens.upsert({ token: expoToken(), userId: other.id, deviceId: null, updatedAt: new Date() });
    assert.deepEqual(byToken(await ctx.storage.pushTokens.listByUser(user.id)), byToken(records));
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(newId()), []);
  });

  test('upserting a token another user held moves it, with the new device and time', async () => {
    const alice = await ctx.createUser();
    const bob = await ctx.createUser();
    const token = expoToken();
    await ctx.storage.pushTokens.upsert({ token, userId: alice.id, deviceId: 'old', updatedAt: new Date(Date.now() - 60_000) });
    const moved: PushTokenRecord = { token, userId: bob.id, deviceId: 'new', updatedAt: new Date() };
    await ctx.storage.pushTokens.upsert(moved);
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(alice.id), []);
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(bob.id), [moved]);
    // Upserting it again for the same user keeps one record.
    await ctx.storage.pushTokens.upsert({ ...moved, deviceId: null });
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(bob.id), [{ ...moved, deviceId: null }]);
  });

  test('remove deletes a token; removing an unknown one is fine', async () => {
    const user = await ctx.createUser();
    const kept: PushTokenRecord = { token: expoToken(), userId: user.id, deviceId: null, updatedAt: new Date() };
    const removed = expoToken();
    await ctx.storage.pushTokens.upsert(kept);
    await ctx.storage.pushTokens.upsert({ token: removed, userId: user.id, deviceId: null, updatedAt: new Date() });
    await ctx.storage.pushTokens.remove(removed);
    await ctx.storage.pushTokens.remove(expoToken());
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(user.id), [kept]);
  });
}
