import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

/** What the users repository offers other users: search, public profiles, last seen. */
export function peopleContract(ctx: ContractContext): void {
  test('search matches a name prefix or word prefixes case-insensitively, or a whole email, active users only, by name then id', async () => {
    const tag = `p${randomBytes(4).toString('hex')}`;
    const searcher = await ctx.createUser({ name: `${tag} Searcher` });
    const zed = await ctx.createUser({ name: `${tag.toUpperCase()} zed` });
    const amy = await ctx.createUser({ name: `${tag} Amy` });
    const email = `${tag}.mail-${randomBytes(4).toString('hex')}@example.com`;
    const byEmail = await ctx.createUser({ name: 'Somebody Else', email });
    const banned = await ctx.createUser({ name: `${tag} Banned` });
    await ctx.storage.users.setStatus(banned.id, 'banned');
    const person = (user: typeof amy) => ({ id: user.id, name: user.name, lastSeenAt: null });
    const search = (query: string, page: { after?: string; limit?: number } = {}) =>
      ctx.storage.users.search(query, { limit: 10, excludeId: searcher.id, ...page });

    const found = await search(tag);
    assert.deepEqual(found, [person(amy), person(zed)]);
    const [first] = await search(tag, { limit: 1 });
    assert.deepEqual([first, ...(await search(tag, { after: first!.id }))], found);
    assert.deepEqual(await search(`ZE ${tag}`), [person(zed)]);
    // LIKE wildcards are plain characters.
    assert.deepEqual(await search(`%${tag.slice(1)}`), []);
    // An email matches whole or not at all: no prefix of it finds its owner.
    assert.deepEqual(await search(email.toUpperCase()), [person(byEmail)]);
    for (const part of [tag, `${tag}.mail`, email.slice(0, -1)]) assert.deepEqual(await search(part), part === tag ? found : [], part);
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
