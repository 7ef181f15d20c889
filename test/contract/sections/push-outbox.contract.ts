import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { MAX_DEVICES_PER_PUSH, type DuePush, type NewPush } from '../../../src/push/push-store.js';
import type { ContractContext } from '../storage-contract.js';

const expoToken = () => `ExponentPushToken[${randomUUID()}]`;

/**
 * Every push here is due and leased in January 1970, so claims at those times never touch pushes other
 * sections leave due now, and every assertion looks at this test's own pushes only. A claim at the
 * present would take these too: the suite has a database of its own, out of reach of running apps.
 */
const T = 1_000_000_000;
const at = (offsetMs: number) => new Date(T + offsetMs);
const LEASE = 30_000;

export function pushOutboxContract(ctx: ContractContext): void {
  const outbox = () => ctx.storage.pushOutbox;

  /** A user signed in on `devices` sessions, each with a registered token; the tokens go when the test ends. */
  const userWithDevices = async (t: TestContext, devices: number, userId?: string) => {
    const user = userId ?? (await ctx.createUser()).id;
    const tokens: string[] = [];
    for (let i = 0; i < devices; i += 1) tokens.push(await registerToken(t, user));
    return { userId: user, tokens };
  };
  const registerToken = async (t: TestContext, userId: string, token = expoToken(), sessionOverrides = {}) => {
    const session = await ctx.storage.sessions.create(ctx.newSession(userId, sessionOverrides), ctx.tokenHash());
    assert.equal(await ctx.storage.pushTokens.register({ token, userId, sessionId: session.id, deviceId: null, updatedAt: new Date() }), true);
    t.after(() => outbox().removeToken(token, new Date(8.64e15)));
    return token;
  };
  const newPush = (userId: string, overrides: Partial<NewPush> = {}): NewPush => ({
    userId,
    kind: 'message',
    content: { title: 'Alice', body: `text ${randomUUID()}`, data: { type: 'message', messageId: randomUUID() }, priority: 'default', badge: 1 },
    dueAt: at(0),
    expiresAt: at(86_400_000),
    coalesceKey: null,
    ...overrides,
  });
  /** The pushes of `userIds` a claim at `now` leases (to `now` + 30 s). */
  const claim = async (userIds: string[], now = at(0)) =>
    (await outbox().claimDue(now, new Date(now.getTime() + LEASE), 10_000)).filter((push) => userIds.includes(push.userId));
  const claimReceipts = async (tokens: string[], now: Date) =>
    (await outbox().claimReceiptsDue(now, new Date(now.getTime() + LEASE), 10_000)).filter((push) => tokens.includes(push.token));
  const tokensOf = (pushes: DuePush[]) => pushes.map((push) => push.token).sort();

  test('enqueue queues one push per token of the user\'s live sessions, leaving out expired ones and other users', async (t) => {
    const { userId, tokens } = await userWithDevices(t, 2);
    await registerToken(t, userId, expoToken(), { expiresAt: new Date(Date.now() - 1000) });
    const stranger = await userWithDevices(t, 1);
    const push = newPush(userId, { kind: 'call', content: { data: { type: 'call' }, priority: 'high', channelId: 'calls' } });
    assert.equal(await outbox().enqueue(push), 2);
    assert.equal(await outbox().enqueue(newPush((await ctx.createUser()).id)), 0);
    const claimed = await claim([userId, stranger.userId]);
    assert.deepEqual(tokensOf(claimed), [...tokens].sort());
    for (const due of claimed) {
      assert.deepEqual(due, { id: due.id, token: due.token, userId, kind: 'call', content: push.content, attempts: 0, expiresAt: push.expiresAt });
    }
    assert.notEqual(claimed[0]?.id, claimed[1]?.id);
  });

  test('pushes of one token with the same key merge: the newest content wins, the first due time stays', async (t) => {
    const { userId, tokens } = await userWithDevices(t, 1);
    const first = newPush(userId, { coalesceKey: 'message:a' });
    const newest = newPush(userId, { coalesceKey: 'message:a', dueAt: at(5000), expiresAt: at(90_000_000) });
    assert.equal(await outbox().enqueue(first), 1);
    assert.equal(await outbox().enqueue(newest), 1);
    await outbox().enqueue(newPush(userId, { coalesceKey: 'message:b' }));
    await outbox().enqueue(newPush(userId));
    await outbox().enqueue(newPush(userId));
    const claimed = await claim([userId]);
    assert.equal(claimed.length, 4);
    const merged = claimed.filter((push) => push.content.body === newest.content.body);
    assert.deepEqual(merged.map((push) => [push.token, push.expiresAt]), [[tokens[0], newest.expiresAt]]);
    assert.equal(claimed.some((push) => push.content.body === first.content.body), false);
  });

  test('enqueueMany queues the pushes of many users in one call, each as enqueue would', async (t) => {
    const alice = await userWithDevices(t, 2);
    const bob = await userWithDevices(t, 1);
    const nobody = (await ctx.createUser()).id;
    const pushes = [alice.userId, bob.userId, nobody].map((userId) => newPush(userId, { coalesceKey: 'message:group' }));
    assert.equal(await outbox().enqueueMany(pushes), 3);
    assert.equal(await outbox().enqueueMany([]), 0);
    const claimed = await claim([alice.userId, bob.userId, nobody]);
    assert.deepEqual(tokensOf(claimed), [...alice.tokens, ...bob.tokens].sort());
    for (const due of claimed) {
      const push = pushes.find((candidate) => candidate.userId === due.userId)!;
      assert.deepEqual(due, { id: due.id, token: due.token, userId: push.userId, kind: 'message', content: push.content, attempts: 0, expiresAt: push.expiresAt });
    }
    assert.equal(new Set(claimed.map((push) => push.id)).size, 3);
  });

  test('enqueueMany coalesces as enqueueing one after another would: into queued pushes, and within the call (the last content, the first due time)', async (t) => {
    const alice = await userWithDevices(t, 1);
    const bob = await userWithDevices(t, 1);
    const keyed = (userId: string, dueAt: Date) => newPush(userId, { coalesceKey: 'message:group', dueAt, expiresAt: at(90_000_000) });
    await outbox().enqueue(keyed(alice.userId, at(-2000)));
    const aliceNewest = keyed(alice.userId, at(0));
    const [bobFirst, bobNewest] = [keyed(bob.userId, at(-1000)), keyed(bob.userId, at(0))];
    const unkeyed = [newPush(bob.userId), newPush(bob.userId)];
    // Bob's two keyed pushes are one; his unkeyed ones never merge.
    assert.equal(await outbox().enqueueMany([bobFirst, aliceNewest, unkeyed[0]!, bobNewest, unkeyed[1]!]), 4);

    const seen = (pushes: DuePush[]) => pushes.map((push) => [push.userId, push.content.body, push.expiresAt]);
    assert.deepEqual(seen(await claim([alice.userId, bob.userId], at(-2000))), [[alice.userId, aliceNewest.content.body, aliceNewest.expiresAt]]);
    assert.deepEqual(seen(await claim([alice.userId, bob.userId], at(-1000))), [[bob.userId, bobNewest.content.body, bobNewest.expiresAt]]);
    const rest = await claim([alice.userId, bob.userId], at(0));
    assert.deepEqual(rest.map((push) => push.content.body).sort(), unkeyed.map((push) => push.content.body).sort());
  });

  test(`a push goes to the ${MAX_DEVICES_PER_PUSH} most recently registered tokens of its user at most`, async (t) => {
    const users = [(await ctx.createUser()).id, (await ctx.createUser()).id];
    const newest: string[] = [];
    for (const userId of users) {
      const tokens: string[] = [];
      for (let i = 0; i < MAX_DEVICES_PER_PUSH + 2; i += 1) {
        const session = await ctx.storage.sessions.create(ctx.newSession(userId), ctx.tokenHash());
        const token = expoToken();
        const updatedAt = new Date(Date.now() - 60_000 + i * 1000);
        assert.equal(await ctx.storage.pushTokens.register({ token, userId, sessionId: session.id, deviceId: null, updatedAt }), true);
        t.after(() => outbox().removeToken(token, new Date(8.64e15)));
        tokens.push(token);
      }
      newest.push(...tokens.slice(2));
    }
    assert.equal(await outbox().enqueue(newPush(users[0]!)), MAX_DEVICES_PER_PUSH);
    assert.equal(await outbox().enqueueMany([newPush(users[1]!)]), MAX_DEVICES_PER_PUSH);
    assert.deepEqual(tokensOf(await claim(users)), newest.sort());
  });

  test('concurrent enqueueMany calls over the same users and key, in different orders, neither deadlock nor duplicate a push', async (t) => {
    const users = await Promise.all(Array.from({ length: 20 }, () => userWithDevices(t, 2)));
    const userIds = users.map((user) => user.userId);
    const orders = Array.from({ length: 8 }, (_, i) => {
      const rotated = [...userIds.slice(i * 3), ...userIds.slice(0, i * 3)];
      return i % 2 === 0 ? rotated : rotated.reverse();
    });
    const counts = await Promise.all(orders.map((order) => outbox().enqueueMany(order.map((userId) => newPush(userId, { coalesceKey: 'message:group' })))));
    assert.deepEqual(counts, orders.map(() => 40));
    const claimed = await claim(userIds);
    assert.deepEqual(tokensOf(claimed), users.flatMap((user) => user.tokens).sort(), 'one push per token');
  });

  test('claimDue leases due pushes oldest first; concurrent claims never lease the same push', async (t) => {
    const { userId } = await userWithDevices(t, 4);
    await Promise.all(Array.from({ length: 50 }, (_, i) => outbox().enqueue(newPush(userId, { dueAt: at(-i * 1000) }))));
    await outbox().enqueue(newPush(userId, { dueAt: at(1) }));
    const claims = await Promise.all(Array.from({ length: 4 }, () => outbox().claimDue(at(0), at(LEASE), 10_000)));
    const leased = claims.flat().filter((push) => push.userId === userId).map((push) => push.id);
    assert.equal(leased.length, 200, 'every due push is leased once, the ones due later are not');
    assert.equal(new Set(leased).size, 200);
    assert.deepEqual(await claim([userId]), [], 'leased pushes are not leased again');
    assert.equal((await claim([userId], at(1))).length, 4, 'the pushes due later, once due');

    // Oldest due first.
    const { userId: other } = await userWithDevices(t, 1);
    for (const offset of [-1000, -3000, -2000]) await outbox().enqueue(newPush(other, { dueAt: at(offset), content: { data: { offset }, priority: 'default' } }));
    const ordered = await claim([other]);
    assert.deepEqual(ordered.map((push) => push.content.data['offset']), [-3000, -2000, -1000]);
  });

  test('a lease that ran out is taken over', async (t) => {
    const { userId } = await userWithDevices(t, 1);
    await outbox().enqueue(newPush(userId));
    const [leased] = await claim([userId]);
    assert.ok(leased);
    assert.deepEqual(await claim([userId], at(LEASE - 1)), []);
    assert.deepEqual(await claim([userId], at(LEASE)), [leased]);
  });

  test('retryAt releases the push, counts the attempt and makes it due again then', async (t) => {
    const { userId } = await userWithDevices(t, 1);
    await outbox().enqueue(newPush(userId));
    const [leased] = await claim([userId]);
    assert.ok(leased);
    await outbox().retryAt(leased.id, at(60_000));
    assert.deepEqual(await claim([userId], at(59_999)), []);
    assert.deepEqual(await claim([userId], at(60_000)), [{ ...leased, attempts: 1 }]);
    await outbox().retryAt(leased.id, at(61_000));
    assert.deepEqual(await claim([userId], at(61_000)), [{ ...leased, attempts: 2 }]);
  });

  test('markSent moves a push to its receipt check: claimReceiptsDue leases it when due, checkReceiptAt defers it, finish ends it', async (t) => {
    const { userId, tokens } = await userWithDevices(t, 1);
    await outbox().enqueue(newPush(userId, { coalesceKey: 'message:a' }));
    const [leased] = await claim([userId]);
    assert.ok(leased);
    const sent = { id: leased.id, token: leased.token, ticketId: randomUUID(), sentAt: at(100) };
    await outbox().markSent(sent.id, sent.ticketId, sent.sentAt, at(10_000));
    assert.deepEqual(await claim([userId], at(LEASE + 1)), [], 'a sent push is not sent again');
    // Once sent, a push with the same key is a new one.
    assert.equal(await outbox().enqueue(newPush(userId, { coalesceKey: 'message:a' })), 1);
    assert.equal((await claim([userId])).length, 1);

    assert.deepEqual(await claimReceipts(tokens, at(9_999)), []);
    assert.deepEqual(await claimReceipts(tokens, at(10_000)), [sent]);
    assert.deepEqual(await claimReceipts(tokens, at(10_000)), [], 'leased');
    await outbox().checkReceiptAt(sent.id, at(20_000));
    assert.deepEqual(await claimReceipts(tokens, at(19_999)), []);
    assert.deepEqual(await claimReceipts(tokens, at(20_000)), [sent]);
    await outbox().finish(sent.id);
    assert.deepEqual(await claimReceipts(tokens, at(1_000_000)), []);
  });

  test('finish ends an unsent push (dropped or failed for good)', async (t) => {
    const { userId } = await userWithDevices(t, 1);
    await outbox().enqueue(newPush(userId));
    const [leased] = await claim([userId]);
    assert.ok(leased);
    await outbox().finish(leased.id);
    assert.deepEqual(await claim([userId], at(LEASE)), []);
  });

  test('a push merged into one being sent is sent afterwards, not lost', async (t) => {
    const { userId, tokens } = await userWithDevices(t, 1);
    await outbox().enqueue(newPush(userId, { coalesceKey: 'message:a' }));
    const [sending] = await claim([userId]);
    assert.ok(sending);
    const newer = newPush(userId, { coalesceKey: 'message:a' });
    assert.equal(await outbox().enqueue(newer), 1);
    const ticketId = randomUUID();
    await outbox().markSent(sending.id, ticketId, at(100), at(10_000));
    const [receipt] = await claimReceipts(tokens, at(10_000));
    assert.deepEqual(receipt && { ...receipt, id: sending.id }, { id: sending.id, token: tokens[0], ticketId, sentAt: at(100) });
    assert.deepEqual(await claim([userId], at(100)), [{ ...sending, content: newer.content }]);

    // The same holds for a push finished while a newer one merged into it (dropped because it expired).
    const newest = newPush(userId, { coalesceKey: 'message:a' });
    await outbox().enqueue(newest);
    await outbox().finish(sending.id);
    assert.deepEqual(await claim([userId], at(200)), [{ ...sending, content: newest.content }]);
    await outbox().finish(sending.id);
    assert.deepEqual(await claim([userId], at(LEASE + 300)), []);
  });

  test('removeToken removes the token and its pushes, unless it was registered again after the report', async (t) => {
    const { userId } = await ctx.createUser().then((user) => ({ userId: user.id }));
    const session = await ctx.storage.sessions.create(ctx.newSession(userId), ctx.tokenHash());
    const token = expoToken();
    const registeredAt = new Date(Date.now() - 60_000);
    assert.equal(await ctx.storage.pushTokens.register({ token, userId, sessionId: session.id, deviceId: null, updatedAt: registeredAt }), true);
    t.after(() => outbox().removeToken(token, new Date(8.64e15)));
    await outbox().enqueue(newPush(userId));
    assert.equal(await outbox().removeToken(token, new Date(registeredAt.getTime() - 1)), false);
    assert.equal((await ctx.storage.pushTokens.listByUser(userId)).length, 1);
    assert.equal(await outbox().removeToken(token, registeredAt), true);
    assert.deepEqual(await ctx.storage.pushTokens.listByUser(userId), []);
    assert.deepEqual(await claim([userId]), []);
    assert.equal(await outbox().removeToken(token, new Date()), false);
  });

  test('a token that moves to another user drops the previous user\'s queued pushes; within one user they stay', async (t) => {
    const alice = await userWithDevices(t, 1);
    const token = alice.tokens[0]!;
    await outbox().enqueue(newPush(alice.userId, { coalesceKey: 'message:a' }));
    await outbox().enqueue(newPush(alice.userId));
    await registerToken(t, alice.userId, token);
    const bob = (await ctx.createUser()).id;
    await outbox().enqueue(newPush(alice.userId, { dueAt: at(1000) }));
    assert.equal((await claim([alice.userId])).length, 2, 'moving to another session of the same user keeps them');

    await registerToken(t, bob, token);
    assert.deepEqual(await claim([alice.userId], at(LEASE + 1000)), []);
    assert.equal(await outbox().enqueue(newPush(alice.userId)), 0);
    assert.equal(await outbox().enqueue(newPush(bob)), 1);
    assert.deepEqual(tokensOf(await claim([bob])), [token]);
  });
}
