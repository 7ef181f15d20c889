import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { after, before, describe, test } from 'node:test';
import { createRingingCall } from '../../src/calls/call-state-machine.js';
import type { LiveCall } from '../../src/calls/live-calls.js';
import { ringingMembers, type LiveGroupCall } from '../../src/calls/live-group-calls.js';
import { RedisCallTimers } from '../../src/calls/redis-call-timers.js';
import { RedisLiveCalls } from '../../src/calls/redis-live-calls.js';
import { RedisLiveGroupCalls } from '../../src/calls/redis-live-group-calls.js';
import { createGroupCall } from '../../src/calls/group-call-state-machine.js';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import { RedisSerializer } from '../../src/shared/redis-serializer.js';
import { sleep, until } from '../support/calls.js';
import { redisServerSkip, startTestRedis, type TestRedis } from '../support/redis-server.js';

const logger = createLogger({ level: 'silent', pretty: false });

const device = () => ({ sessionId: newId(), socketId: randomBytes(8).toString('hex'), processId: newId(), connected: true });

function liveCall(callerId: string, calleeId: string): LiveCall {
  return {
    call: createRingingCall({ id: newId(), callerId, calleeId, type: 'audio', now: new Date() }),
    offer: null,
    caller: device(),
    callee: null,
    heldFromCaller: [],
    heldFromCallee: {},
  };
}

/**
 * The Redis stores and timers that let several processes share calls, each "process" here being its own
 * instance with its own connection, as two server processes would have.
 */
describe('call state shared through Redis', { skip: redisServerSkip() }, () => {
  const prefix = `test-call-state-${randomBytes(4).toString('hex')}:`;
  let redis: TestRedis;
  let one: Redis;
  let two: Redis;

  before(async () => {
    redis = await startTestRedis();
    one = new Redis(redis.url);
    two = new Redis(redis.url);
  });

  after(async () => {
    one.disconnect();
    two.disconnect();
    await redis.close();
  });

  test('of calls added at once from two processes over a shared user, exactly one wins; the record comes back as stored, Dates included', async () => {
    const [a, b] = [new RedisLiveCalls(one, prefix), new RedisLiveCalls(two, prefix)];
    const shared = newId();
    const calls = Array.from({ length: 10 }, (_, index) => liveCall(index % 2 === 0 ? shared : newId(), index % 2 === 0 ? newId() : shared));
    const added = await Promise.all(calls.map((call, index) => (index % 2 === 0 ? a : b).add(call)));
    assert.equal(added.filter(Boolean).length, 1);
    const winner = calls[added.indexOf(true)]!;
    assert.deepEqual(await b.ofUser(shared), winner);
    assert.ok((await a.get(winner.call.id))?.call.createdAt instanceof Date);
    assert.deepEqual((await a.all()).map((live) => live.call.id), [winner.call.id]);
    await b.remove(winner.call.id);
    assert.equal(await a.ofUser(shared), undefined);
    assert.equal(await a.add(calls[added.indexOf(false)]!), true, 'the user is free once the call is removed');
  });

  test('a group call is found by group, participant and rung member, and the index follows each save', async () => {
    const [a, b] = [new RedisLiveGroupCalls(one, prefix), new RedisLiveGroupCalls(two, prefix)];
    const [starter, rung, other] = [newId(), newId(), newId()];
    const conversationId = newId();
    const call = createGroupCall({ id: newId(), conversationId, startedBy: starter, memberIds: [starter, rung, other], type: 'video', topology: 'mesh', now: new Date() });
    const participant = { ...device(), userId: starter, deviceId: newId(), joinOrder: 0, joinedAt: new Date(), muted: false, camera: true };
    const live: LiveGroupCall = { call, title: 'Group', participants: [participant], ringing: true, removed: [], nextJoinOrder: 1 };
    assert.equal(await a.add(live), true);
    assert.equal(await b.add({ ...live, call: { ...call, id: newId() } }), false, 'a group has one live call');
    assert.equal((await b.ofConversation(conversationId))?.call.id, call.id);
    assert.equal((await b.ofUser(starter))?.call.id, call.id);
    assert.deepEqual((await b.ringingFor(rung)).map((entry) => entry.call.id), [call.id]);
    assert.deepEqual(ringingMembers((await b.get(call.id))!).sort(), [rung, other].sort());

    const stopped = { ...live, ringing: false };
    await b.save(stopped);
    assert.deepEqual(await a.ringingFor(rung), []);
    await a.remove(call.id);
    for (const found of [await b.ofConversation(conversationId), await b.ofUser(starter), await b.get(call.id)]) assert.equal(found, undefined);
  });

  test('a timer fires once, in one of the processes polling, with its attempt; cancelled ones never', async () => {
    const fired: string[] = [];
    const timers = [new RedisCallTimers<string>(one, `${prefix}timers:`, logger), new RedisCallTimers<string>(two, `${prefix}timers:`, logger)];
    for (const [index, instance] of timers.entries()) {
      instance.onExpiry(async (callId, timer, attempt) => {
        fired.push(`${index}:${callId}:${timer}:${attempt}`);
      });
    }
    try {
      await timers[0]!.start('c1', 'ring', 200);
      await timers[1]!.start('c1', 'caller-grace', 200, 2);
      await timers[0]!.start('c2', 'ring', 200);
      await timers[1]!.cancel('c2', 'ring');
      await timers[0]!.start('c3', 'ring', 200);
      await timers[0]!.start('c3', 'callee-grace', 200);
      await timers[1]!.cancelAll('c3');
      await until('both timers of c1 fire', async () => fired.length >= 2, 3000);
      await sleep(500);
      const what = fired.map((entry) => entry.slice(entry.indexOf(':') + 1)).sort();
      assert.deepEqual(what, ['c1:caller-grace:2', 'c1:ring:0']);
    } finally {
      for (const instance of timers) instance.close();
    }
  });

  test('a timer whose process died while running it runs again in another once its lease runs out, with its attempt; one that finished never', async () => {
    const leaseMs = 400;
    const dying = new RedisCallTimers<string>(one, `${prefix}lease-timers:`, logger, leaseMs);
    let survivor: RedisCallTimers<string> | undefined;
    const ran: string[] = [];
    // The first process takes every timer (the other does not poll yet) and never finishes 'hung'.
    dying.onExpiry(async (callId, timer, attempt) => {
      ran.push(`dying:${callId}:${timer}:${attempt}`);
      if (callId === 'hung') await new Promise(() => undefined);
    });
    try {
      await dying.start('hung', 'ring', 50, 3);
      await dying.start('done', 'ring', 50);
      await until('the dying process takes both', async () => ran.length === 2, 3000);
      dying.close();
      survivor = new RedisCallTimers<string>(two, `${prefix}lease-timers:`, logger, leaseMs);
      survivor.onExpiry(async (callId, timer, attempt) => {
        ran.push(`survivor:${callId}:${timer}:${attempt}`);
      });
      await until('the survivor runs the hung one again', async () => ran.length === 3, 3000);
      await sleep(leaseMs * 2);
      assert.deepEqual(ran.sort(), ['dying:done:ring:0', 'dying:hung:ring:3', 'survivor:hung:ring:3']);
    } finally {
      dying.close();
      survivor?.close();
    }
  });

  test("one key's tasks run one at a time across processes, in arrival order within each", async () => {
    const serializers = [new RedisSerializer(one, `${prefix}lock:`, logger), new RedisSerializer(two, `${prefix}lock:`, logger)];
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        serializers[index % 2]!.run('call-1', async () => {
          running += 1;
          most = Math.max(most, running);
          await sleep(5);
          order.push(index);
          running -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
    for (const parity of [0, 1]) {
      const mine = order.filter((index) => index % 2 === parity);
      assert.deepEqual(mine, [...mine].sort((x, y) => x - y), 'each process runs its own in arrival order');
    }
  });
});
