import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

/** What the users repository offers other users: search, public profiles, last seen. */
export function peopleContract(ctx: ContractContext): void {
  test('search matches a name or email prefix case-insensitively, active users only, by name then id', async () => {
    const tag = `p${randomBytes(4).toString('hex')}`;
    const searcher = await ctx.createUser({ name: `${tag} Searcher` });
    const zed = await ctx.createUser({ name: `${tag.toUpperCase()} zed` });
    const amy = await ctx.createUser({ name: `${tag} Amy` });
    const byEmail = await ctx.createUser({ name: 'Somebody Else', email: `${tag}.mail-${randomBytes(4).toString('hex')}@example.com` });
    const banned = await ctx.createUser({ name: `${tag} Banned` });
    await ctx.storage.users.setStatus(banned.id, 'banned');
    const person = (user: typeof amy) => ({ id: user.id, name: user.name, lastSeenAt: null });

    const found = await ctx.storage.users.search(tag, { limit: 10, excludeId: searcher.id });
    assert.deepEqual(found, [person(amy), person(zed), person(byEmail)].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())));
    const [first] = await ctx.storage.users.search(tag, { limit: 1, excludeId: searcher.id });
    const rest = await ctx.storage.users.search(tag, { after: first!.id, limit: 10, excludeId: searcher.id });
    assert.deepEqual([first, ...rest], found);
    assert.deepEqual(await ctx.storage.users.search(`${tag}%`, { limit: 10, excludeId: searcher.id }), []);
  });

  test('findPeople gives the active users among the ids; setLastSeen records the time', async () => {
    const user = await ctx.createUser();
    const deleted = await ctx.createUser();
    await ctx.storage.users.setStatus(deleted.id, 'deleted');
    const at = new Date('2030-02-01T12:00:00.000Z');
    await ctx.storage.users.setLastSeen(user.id, at);
    assert.deepEqual(await ctx.storage.users.findPeople([user.id, deleted.id, newId()]), [{ id: user.id, name: user.name, lastSeenAt: at }]);
    assert.deepEqual(await ctx.storage.users.findPeople([]), []);
  });
}
