import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

export function usersContract(ctx: ContractContext): void {
  test('create returns the stored user with defaults: role user, status active', async () => {
    const input = ctx.newUser();
    const user = await ctx.storage.users.create(input);
    assert.deepEqual(user, { ...input, role: 'user', status: 'active', lastSeenAt: null });
  });

  test('create with a taken email returns null and leaves the first user alone', async () => {
    const first = await ctx.createUser();
    const second = ctx.newUser({ email: first.email, name: 'Impostor' });
    assert.equal(await ctx.storage.users.create(second), null);
    assert.deepEqual(await ctx.storage.users.findByEmail(first.email), first);
    assert.equal(await ctx.storage.users.findById(second.id), null);
  });

  test('concurrent creates with one email: exactly one succeeds', async () => {
    const email = ctx.newUser().email;
    const results = await Promise.all(Array.from({ length: 5 }, () => ctx.storage.users.create(ctx.newUser({ email }))));
    assert.equal(results.filter((result) => result !== null).length, 1);
  });

  test('findById and findByEmail find the user; unknown ones give null', async () => {
    const user = await ctx.createUser();
    assert.deepEqual(await ctx.storage.users.findById(user.id), user);
    assert.deepEqual(await ctx.storage.users.findByEmail(user.email), user);
    assert.equal(await ctx.storage.users.findById(newId()), null);
    assert.equal(await ctx.storage.users.findByEmail(ctx.newUser().email), null);
  });

  test('setRole and setStatus return the updated user; unknown ids give null', async () => {
    const user = await ctx.createUser();
    assert.deepEqual(await ctx.storage.users.setRole(user.id, 'admin'), { ...user, role: 'admin' });
    assert.deepEqual(await ctx.storage.users.setStatus(user.id, 'banned'), { ...user, role: 'admin', status: 'banned' });
    assert.deepEqual(await ctx.storage.users.setStatus(user.id, 'deleted'), { ...user, role: 'admin', status: 'deleted' });
    assert.deepEqual(await ctx.storage.users.findById(user.id), { ...user, role: 'admin', status: 'deleted' });
    assert.equal(await ctx.storage.users.setRole(newId(), 'admin'), null);
    assert.equal(await ctx.storage.users.setStatus(newId(), 'banned'), null);
  });

  test('updatePasswordHash replaces the hash of that user only', async () => {
    const user = await ctx.createUser();
    const other = await ctx.createUser();
    await ctx.storage.users.updatePasswordHash(user.id, '$argon2id$new-hash');
    assert.deepEqual(await ctx.storage.users.findById(user.id), { ...user, passwordHash: '$argon2id$new-hash' });
    assert.deepEqual(await ctx.storage.users.findById(other.id), other);
  });
}
