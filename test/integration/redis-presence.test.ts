import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/shared/logger.js';
import { connectRedis } from '../../src/shared/redis.js';
import { RedisPresenceTracker } from '../../src/users/redis-presence-tracker.js';
import { redisServerSkip, startTestRedis, type TestRedis } from '../support/redis-server.js';

const TTL_MS = 600;
const logger = createLogger({ level: 'silent', pretty: false });

/** A tracker as one process has it, with the changes it reports (each report of users gone offline taking `offlineTakesMs`). */
async function processOn(redis: TestRedis, prefix: string, { offlineTakesMs = 0 } = {}) {
  const client = await connectRedis(redis.url, logger, 'test', { commandTimeoutMs: 500 });
  const tracker = new RedisPresenceTracker({ client, prefix, logger, processTtlMs: TTL_MS });
  const offline: string[] = [];
  const online: string[] = [];
  tracker.start({
    wentOffline: async (ids) => {
      await new Promise((resolve) => setTimeout(resolve, offlineTakesMs));
      offline.push(...ids);
    },
    cameOnline: async (ids) => void online.push(...ids),
  });
  return { client, tracker, offline, online };
}

const eventually = async (what: string, holds: () => boolean | Promise<boolean>, timeoutMs = 5 * TTL_MS) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('presence counted in Redis by several processes', { skip: redisServerSkip() }, () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  let prefix = 0;
  const nextPrefix = () => `presence-test-${(prefix += 1)}:`;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await redis.close();
  });
  const twoProcesses = async () => {
    const keys = nextPrefix();
    const pair = [await processOn(redis, keys), await processOn(redis, keys)] as const;
    clients.push(...pair.map((one) => one.client));
    return pair;
  };

  test('a user is online from the first connection on any process to the last on all of them', async () => {
    const [one, two] = await twoProcesses();
    assert.equal(await one.tracker.connected('u'), true);
    assert.equal(await two.tracker.connected('u'), false);
    assert.equal(await one.tracker.connected('u'), false);
    assert.deepEqual(await two.tracker.onlineAmong(['u', 'v']), new Set(['u']));
    assert.equal(await two.tracker.onlineCount(), 1, 'a user connected to two processes is one user online');
    assert.equal(await one.tracker.disconnected('u'), false);
    assert.equal(await one.tracker.disconnected('u'), false);
    assert.equal(await one.tracker.disconnected('u'), false, 'a disconnect without a connection here changes nothing');
    assert.equal(await two.tracker.disconnected('u'), true);
    assert.deepEqual(await one.tracker.onlineAmong(['u']), new Set());
    assert.equal(await one.tracker.onlineCount(), 0);
    await Promise.all([one.tracker.stop(), two.tracker.stop()]);
  });

  test('the users of a process that stops renewing its heartbeat are discounted once by a survivor, who reports who went offline', async () => {
    const keys = nextPrefix();
    const survivors = [await processOn(redis, keys), await processOn(redis, keys)];
    const dying = await processOn(redis, keys);
    clients.push(...[...survivors, dying].map((one) => one.client));
    await dying.tracker.connected('alone');
    await dying.tracker.connected('shared');
    await survivors[0]!.tracker.connected('shared');
    // Dies without a goodbye: its timer stops and nothing more is written.
    dying.client.disconnect();
    await eventually('the dead process is discounted', async () => (await survivors[0]!.tracker.onlineAmong(['alone'])).size === 0);
    await eventually('the survivors report it', () => survivors.flatMap((one) => one.offline).length > 0);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    assert.deepEqual(
      survivors.flatMap((one) => one.offline),
      ['alone'],
      'reported by one survivor, once; "shared" is still online elsewhere',
    );
    assert.deepEqual(await survivors[1]!.tracker.onlineAmong(['alone', 'shared']), new Set(['shared']));
    assert.equal(await survivors[1]!.tracker.onlineCount(), 1);
    await Promise.all(survivors.map((one) => one.tracker.stop()));
  });

  test('a survivor slow to report the users of a dead process is not taken for dead meanwhile', async () => {
    const keys = nextPrefix();
    const slow = await processOn(redis, keys, { offlineTakesMs: 4 * TTL_MS });
    const dying = await processOn(redis, keys);
    clients.push(slow.client, dying.client);
    await slow.tracker.connected('on the slow one');
    await dying.tracker.connected('gone');
    dying.client.disconnect();
    await eventually('the slow process takes the dead one', async () => (await slow.tracker.onlineAmong(['gone'])).size === 0);
    // Started once the slow one has taken the dead process, which only the slow one reports.
    const other = await processOn(redis, keys);
    clients.push(other.client);
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
    assert.deepEqual(other.offline, [], 'the slow process renewed its heartbeat while it reported');
    assert.deepEqual(await other.tracker.onlineAmong(['on the slow one']), new Set(['on the slow one']));
    await eventually('the slow report ends', () => slow.offline.length > 0, 8 * TTL_MS);
    assert.deepEqual(slow.offline, ['gone']);
    await Promise.all([slow.tracker.stop(), other.tracker.stop()]);
  });

  test('after Redis restarts empty, each process counts its connections again and reports them online', async () => {
    const [one, two] = await twoProcesses();
    await one.tracker.connected('a');
    await two.tracker.connected('b');
    await redis.stop();
    // A write while Redis is away fails; the connection is still counted here.
    await assert.rejects(one.tracker.connected('c'));
    await redis.start();
    await eventually('everyone is counted again', async () => (await two.tracker.onlineAmong(['a', 'b', 'c'])).size === 3, 10_000);
    // Announced by the look after counting again, which may still be waiting out the outage.
    await eventually('everyone is reported online', () => new Set([...one.online, ...two.online]).size === 3);
    assert.deepEqual(new Set([...one.online, ...two.online]), new Set(['a', 'b', 'c']));
    assert.equal(await one.tracker.onlineCount(), 3, 'the online set is written again too');
    assert.equal(await one.tracker.disconnected('a'), true);
    assert.equal(await one.tracker.disconnected('c'), true);
    assert.equal(await two.tracker.disconnected('b'), true);
    await Promise.all([one.tracker.stop(), two.tracker.stop()]);
  });
});
