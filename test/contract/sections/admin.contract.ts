import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { V7Generator } from 'uuidv7';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

/** What admins read: every account, and how many messages were stored lately. */
export function adminContract(ctx: ContractContext): void {
  const { newMessage, direct } = chatFixtures(ctx);

  test('list finds a name or email prefix case-insensitively, any status or one, newest first, after a user', async () => {
    const tag = `l${randomBytes(4).toString('hex')}`;
    const amy = await ctx.createUser({ name: `${tag} Amy` });
    const byEmail = await ctx.createUser({ name: 'Somebody Else', email: `${tag}.x-${randomBytes(3).toString('hex')}@example.com` });
    const zed = await ctx.createUser({ name: `${tag.toUpperCase()} Zed` });
    await ctx.storage.users.setStatus(zed.id, 'banned');
    const ids = (users: { id: string }[]) => users.map((user) => user.id);
    const list = (filter: { query?: string; status?: 'active' | 'banned'; after?: string; limit?: number }) => ctx.storage.users.list({ limit: 10, ...filter });

    const found = await list({ query: tag.toUpperCase() });
    assert.deepEqual(ids(found), [zed.id, byEmail.id, amy.id]);
    assert.deepEqual(found[0], { ...zed, status: 'banned' });
    assert.deepEqual(ids(await list({ query: tag, after: zed.id, limit: 1 })), [byEmail.id]);
    assert.deepEqual(ids(await list({ query: tag, status: 'banned' })), [zed.id]);
    assert.deepEqual(ids(await list({ query: tag, status: 'active' })), [byEmail.id, amy.id]);
    assert.deepEqual(await list({ query: `%${tag.slice(1)}` }), []);
    assert.deepEqual(await list({ query: `${tag}_` }), []);
    const newest = await list({ limit: 1 });
    assert.ok(newest[0]!.id >= zed.id, 'no query: every account, newest first');
  });

  test('countCreated counts the messages whose ids were made in a time range, its end left out', async () => {
    const { a, id } = await direct();
    // Times of their own, long past: the database holds other messages, made now.
    const at = Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 1e11);
    for (const ms of [at - 1, at, at + 5000, at + 10_000]) await ctx.storage.messages.create({ ...newMessage(id, a.id), id: new V7Generator().generateOrResetWithTs(ms).toString() });
    assert.equal(await ctx.storage.messages.countCreated({ from: new Date(at), to: new Date(at + 10_000) }), 2);
    assert.equal(await ctx.storage.messages.countCreated({ from: new Date(at + 10_001), to: new Date(at + 20_000) }), 0);
  });
}
