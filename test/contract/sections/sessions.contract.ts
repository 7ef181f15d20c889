import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

const sortedIds = (sessions: { id: string }[]) => sessions.map((session) => session.id).sort();

export function sessionsContract(ctx: ContractContext): void {
  const findSession = async (id: string) => (await ctx.storage.sessions.findWithAccount(id))?.session ?? null;

  test("create returns the session, not revoked; findWithAccount finds it with its account's role and status; unknown ids give null", async () => {
    const user = await ctx.createUser();
    const input = ctx.newSession(user.id);
    const session = await ctx.storage.sessions.create(input, ctx.tokenHash());
    assert.deepEqual(session, { ...input, revokedAt: null, revokedReason: null });
    assert.deepEqual(await ctx.storage.sessions.findWithAccount(session.id), { session, role: 'user', status: 'active' });
    await ctx.storage.users.setRole(user.id, 'admin');
    await ctx.storage.users.setStatus(user.id, 'banned');
    assert.deepEqual(await ctx.storage.sessions.findWithAccount(session.id), { session, role: 'admin', status: 'banned' });
    assert.equal(await ctx.storage.sessions.findWithAccount(newId()), null);
  });

  test('listActiveByUser lists live sessions of that user only, not revoked or expired ones', async () => {
    const user = await ctx.createUser();
    const other = await ctx.createUser();
    const now = new Date();
    const create = (userId: string, overrides = {}) => ctx.storage.sessions.create(ctx.newSession(userId, overrides), ctx.tokenHash());
    const live = [await create(user.id), await create(user.id, { deviceName: null, userAgent: null, ip: null })];
    const revoked = await create(user.id);
    await ctx.storage.sessions.revoke(revoked.id, user.id, 'logout', now);
    await create(user.id, { expiresAt: new Date(now.getTime() - 1000) });
    await create(other.id);

    assert.deepEqual(sortedIds(await ctx.storage.sessions.listActiveByUser(user.id, now)), sortedIds(live));
    // "Expired" is judged against the given time.
    const later = new Date(now.getTime() + 2 * 86_400_000);
    assert.deepEqual(await ctx.storage.sessions.listActiveByUser(user.id, later), []);
    assert.deepEqual(await ctx.storage.sessions.listActiveByUser(newId(), now), []);
  });

  test('consumeToken: consumed once, reused afterwards, unknown for a hash never issued', async () => {
    const user = await ctx.createUser();
    const hash = ctx.tokenHash();
    const session = await ctx.storage.sessions.create(ctx.newSession(user.id), hash);
    const usedAt = new Date(Date.now() + 5000);

    const first = await ctx.storage.sessions.consumeToken(hash, usedAt);
    assert.equal(first.outcome, 'consumed');
    assert.equal(first.outcome === 'consumed' && first.session.id, session.id);
    assert.equal(first.outcome === 'consumed' && first.session.lastUsedAt.getTime(), usedAt.getTime(), 'consuming marks the session used');

    const again = await ctx.storage.sessions.consumeToken(hash, new Date());
    assert.equal(again.outcome, 'reused');
    assert.equal(again.outcome === 'reused' && again.session.id, session.id);

    assert.deepEqual(await ctx.storage.sessions.consumeToken(ctx.tokenHash(), new Date()), { outcome: 'unknown' });
  });

  test('findByTokenHash finds the session of a used or unused token without consuming it', async () => {
    const user = await ctx.createUser();
    const hash = ctx.tokenHash();
    const session = await ctx.storage.sessions.create(ctx.newSession(user.id), hash);
    assert.equal((await ctx.storage.sessions.findByTokenHash(hash))?.id, session.id);
    assert.equal((await ctx.storage.sessions.consumeToken(hash, new Date())).outcome, 'consumed', 'finding did not consume it');
    assert.equal((await ctx.storage.sessions.findByTokenHash(hash))?.id, session.id);
    assert.equal(await ctx.storage.sessions.findByTokenHash(ctx.tokenHash()), null);
  });

  test('addToken adds the next token of the family; the older one stays reused', async () => {
    const user = await ctx.createUser();
    const first = ctx.tokenHash();
    const session = await ctx.storage.sessions.create(ctx.newSession(user.id), first);
    assert.equal((await ctx.storage.sessions.consumeToken(first, new Date())).outcome, 'consumed');
    const second = ctx.tokenHash();
    await ctx.storage.sessions.addToken(session.id, second, new Date());
    const next = await ctx.storage.sessions.consumeToken(second, new Date());
    assert.equal(next.outcome, 'consumed');
    assert.equal(next.outcome === 'consumed' && next.session.id, session.id);
    assert.equal((await ctx.storage.sessions.consumeToken(first, new Date())).outcome, 'reused');
  });

  test('concurrent consumeToken calls with one hash: exactly one is consumed, the rest reused', async () => {
    const user = await ctx.createUser();
    const hash = ctx.tokenHash();
    await ctx.storage.sessions.create(ctx.newSession(user.id), hash);
    const results = await Promise.all(Array.from({ length: 8 }, () => ctx.storage.sessions.consumeToken(hash, new Date())));
    const outcomes = results.map((result) => result.outcome).sort();
    assert.deepEqual(outcomes, ['consumed', ...Array<string>(7).fill('reused')]);
  });

  test('revoke ends one session of its user once; another user cannot revoke it', async () => {
    const user = await ctx.createUser();
    const stranger = await ctx.createUser();
    const session = await ctx.storage.sessions.create(ctx.newSession(user.id), ctx.tokenHash());
    const now = new Date();

    assert.equal(await ctx.storage.sessions.revoke(session.id, stranger.id, 'revoked_by_user', now), false);
    assert.equal((await findSession(session.id))?.revokedAt, null);

    assert.equal(await ctx.storage.sessions.revoke(session.id, user.id, 'logout', now), true);
    const revoked = await findSession(session.id);
    assert.equal(revoked?.revokedAt?.getTime(), now.getTime());
    assert.equal(revoked?.revokedReason, 'logout');
    assert.equal(await ctx.storage.sessions.revoke(session.id, user.id, 'logout', new Date()), false, 'already revoked');
    assert.equal((await findSession(session.id))?.revokedReason, 'logout', 'the first reason stays');
    assert.equal(await ctx.storage.sessions.revoke(newId(), user.id, 'logout', now), false);
  });

  test('revokeAllForUser ends every live session but the kept one and returns their ids', async () => {
    const user = await ctx.createUser();
    const other = await ctx.createUser();
    const create = (userId: string) => ctx.storage.sessions.create(ctx.newSession(userId), ctx.tokenHash());
    const [kept, a, b, earlier] = [await create(user.id), await create(user.id), await create(user.id), await create(user.id)];
    const untouched = await create(other.id);
    const now = new Date();
    await ctx.storage.sessions.revoke(earlier!.id, user.id, 'logout', now);

    const revokedIds = await ctx.storage.sessions.revokeAllForUser(user.id, 'logout_all', now, kept!.id);
    assert.deepEqual(revokedIds.sort(), sortedIds([a!, b!]));
    assert.deepEqual(sortedIds(await ctx.storage.sessions.listActiveByUser(user.id, now)), [kept!.id]);
    assert.equal((await findSession(a!.id))?.revokedReason, 'logout_all');
    assert.equal((await findSession(earlier!.id))?.revokedReason, 'logout', 'an ended session is not ended again');
    assert.equal((await findSession(untouched.id))?.revokedAt, null);

    // Without a session to keep, every one ends.
    assert.deepEqual(await ctx.storage.sessions.revokeAllForUser(user.id, 'banned', now), [kept!.id]);
    assert.deepEqual(await ctx.storage.sessions.listActiveByUser(user.id, now), []);
    assert.deepEqual(await ctx.storage.sessions.revokeAllForUser(user.id, 'banned', now), []);
  });

  test('deleteEnded deletes sessions that expired or were revoked before the cutoff, with their tokens, in batches', async () => {
    const user = await ctx.createUser();
    const now = Date.now();
    const ago = (minutes: number) => new Date(now - minutes * 60_000);
    // The cutoff is an hour ago: far more recent than anything another app's cleanup would delete.
    const cutoff = ago(60);
    const create = async (overrides: { expiresAt?: Date; revokedAt?: Date }) => {
      const hash = ctx.tokenHash();
      const session = await ctx.storage.sessions.create(ctx.newSession(user.id, { createdAt: ago(300), lastUsedAt: ago(300), ...overrides }), hash);
      if (overrides.revokedAt) await ctx.storage.sessions.revoke(session.id, user.id, 'logout', overrides.revokedAt);
      return { id: session.id, hash };
    };
    const gone = [
      await create({ revokedAt: ago(120) }),
      await create({ expiresAt: ago(120) }),
      // Revoked after it had expired: it ended when it expired.
      await create({ expiresAt: ago(120), revokedAt: ago(30) }),
    ];
    const kept = [
      await create({}),
      await create({ revokedAt: ago(30) }),
      await create({ expiresAt: ago(30) }),
      // Revoked just after the cutoff, long before it would have expired.
      await create({ revokedAt: ago(59) }),
    ];

    // Other ended sessions in a shared database may go too, so the counts are lower bounds.
    assert.equal(await ctx.storage.sessions.deleteEnded(cutoff, 1), 1, 'at most `limit` per call');
    let deleted = 1;
    let batch: number;
    do {
      batch = await ctx.storage.sessions.deleteEnded(cutoff, 100);
      deleted += batch;
    } while (batch > 0);
    assert.ok(deleted >= gone.length, `deleted ${deleted}`);

    for (const session of gone) {
      assert.equal(await findSession(session.id), null);
      assert.equal(await ctx.storage.sessions.findByTokenHash(session.hash), null, 'its refresh tokens went with it');
    }
    for (const session of kept) {
      assert.equal((await findSession(session.id))?.id, session.id);
      assert.equal((await ctx.storage.sessions.findByTokenHash(session.hash))?.id, session.id);
    }
    assert.equal(await ctx.storage.sessions.deleteEnded(cutoff, 100), 0);
  });
}
