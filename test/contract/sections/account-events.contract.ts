import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccountEvent } from '../../../src/storage/ports.js';
import type { ContractContext } from '../storage-contract.js';

export function accountEventsContract(ctx: ContractContext): void {
  /** The events about `userId` recorded since `since`, without their seq. */
  async function eventsOf(userId: string, since: Date): Promise<AccountEvent[]> {
    const { events } = await ctx.storage.accountEvents.since(since);
    return events.filter((event) => event.userId === userId).map(({ seq: _seq, ...event }) => event);
  }

  test('every change of role or status and every revocation is in the feed, in order', async () => {
    const { now: since } = await ctx.storage.accountEvents.since(new Date());
    const user = await ctx.createUser();
    const phone = await ctx.storage.sessions.create(ctx.newSession(user.id), ctx.tokenHash());
    const laptop = await ctx.storage.sessions.create(ctx.newSession(user.id), ctx.tokenHash());
    const tablet = await ctx.storage.sessions.create(ctx.newSession(user.id), ctx.tokenHash());
    await ctx.storage.sessions.revoke(phone.id, user.id, 'logout', new Date());
    await ctx.storage.users.setRole(user.id, 'admin');
    await ctx.storage.users.setStatus(user.id, 'banned');
    const revoked = await ctx.storage.sessions.revokeAllForUser(user.id, 'banned', new Date(), tablet.id);
    assert.deepEqual(revoked, [laptop.id]);
    assert.deepEqual(await eventsOf(user.id, since), [
      { kind: 'sessionsRevoked', userId: user.id, sessionIds: [phone.id] },
      { kind: 'accountChanged', userId: user.id, status: 'active' },
      { kind: 'accountChanged', userId: user.id, status: 'banned' },
      { kind: 'sessionsRevoked', userId: user.id, sessionIds: [laptop.id] },
    ]);
  });

  test('a revocation that changes nothing records nothing', async () => {
    const { now: since } = await ctx.storage.accountEvents.since(new Date());
    const user = await ctx.createUser();
    const session = await ctx.storage.sessions.create(ctx.newSession(user.id), ctx.tokenHash());
    await ctx.storage.sessions.revoke(session.id, user.id, 'logout', new Date());
    assert.equal(await ctx.storage.sessions.revoke(session.id, user.id, 'logout', new Date()), false);
    assert.deepEqual(await ctx.storage.sessions.revokeAllForUser(user.id, 'logout_all', new Date()), []);
    assert.equal((await eventsOf(user.id, since)).length, 1);
  });

  test('since() reads by the database clock; seqs are unique and grow; prune keeps what is newer', async () => {
    const user = await ctx.createUser();
    const before = await ctx.storage.accountEvents.since(new Date());
    await ctx.storage.users.setRole(user.id, 'admin');
    await ctx.storage.users.setRole(user.id, 'user');
    const read = await ctx.storage.accountEvents.since(before.now);
    const seqs = read.events.filter((event) => event.userId === user.id).map((event) => BigInt(event.seq));
    assert.equal(seqs.length, 2);
    assert.ok(seqs[0]! < seqs[1]!);
    assert.ok(read.now >= before.now);
    assert.deepEqual(await eventsOf(user.id, new Date(read.now.getTime() + 1000)), []);
    // (The database may be shared with running servers, whose recent events must stay: nothing newer is pruned.)
    await ctx.storage.accountEvents.prune(before.now);
    assert.equal((await eventsOf(user.id, before.now)).length, 2);
  });
}
