import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import type { NewPush, PushStore } from '../../src/push/push-store.js';
import { createLogger } from '../../src/shared/logger.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { until } from '../support/calls.js';
import { postgresTargets, freshDataDir } from '../support/databases.js';
import { startFakeExpo, type FakeExpo } from '../support/fake-expo.js';
import { registerUser, request } from '../support/http.js';
import { createScratchDatabase } from '../support/scratch-database.js';

// expo-server-sdk reads EXPO_BASE_URL when it loads: set it before anything imports the app.
const expo = await startFakeExpo();
process.env['EXPO_BASE_URL'] = expo.url;
const { useTestApp } = await import('../support/test-app.js');
const { spawnServer } = await import('../support/processes.js');
after(() => expo.close());

const PUSH_ENV = { PUSH_POLL_MS: '25', PUSH_RECEIPT_DELAY: '1s', RATE_LIMIT_AUTH_PER_IP: '100000' };

/** A fresh user signed in on one device that registered a fresh Expo token. */
async function device(baseUrl: string): Promise<{ userId: string; token: string }> {
  const user = await registerUser(baseUrl, 'Recipient');
  const token = `ExponentPushToken[${randomUUID()}]`;
  const result = await request(baseUrl, 'POST', '/api/auth/expo-push-token', { token: user.accessToken, body: { token } });
  assert.equal(result.status, 200);
  return { userId: user.user.id, token };
}

function newPush(userId: string, overrides: Partial<NewPush> = {}): NewPush {
  return {
    userId,
    kind: 'message',
    content: { title: 'Ada', body: 'hello', data: { type: 'message', marker: randomUUID() }, priority: 'default' },
    dueAt: new Date(),
    expiresAt: new Date(Date.now() + 60 * 60 * 1000),
    coalesceKey: null,
    ...overrides,
  };
}


async function receiptAskedFor(fake: FakeExpo, token: string, count = 1): Promise<void> {
  await until(`receipts asked for ${count} pushes`, async () => {
    const asked = new Set(fake.receiptRequests.flat());
    return fake.pushesTo(token).filter((push) => push.ticketId !== undefined && asked.has(push.ticketId)).length >= count;
  });
}

for (const target of postgresTargets()) {
  describe(`push delivery (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, PUSH_ENV, { privateDatabase: true });
    const outbox = (): PushStore => server.app.storage.pushOutbox;
    const tokensOf = async (userId: string) => (await server.app.storage.pushTokens.listByUser(userId)).map((record) => record.token);

    test('a queued push is sent once, with its content and the seconds it has left as TTL', async () => {
      const { userId, token } = await device(server.baseUrl);
      const content = {
        title: 'Ada',
        body: 'Are you there?',
        data: { type: 'message', messageId: randomUUID(), from: randomUUID() },
        priority: 'high' as const,
        sound: 'default' as const,
        badge: 3,
        channelId: 'messages',
        categoryId: 'incoming_call',
        collapseId: 'message:ada',
        contentAvailable: true,
      };
      assert.equal(await outbox().enqueue(newPush(userId, { content, expiresAt: new Date(Date.now() + 600_000) })), 1);
      await receiptAskedFor(expo, token);

      const received = expo.pushesTo(token);
      assert.equal(received.length, 1);
      const { receivedAt, ticketId, ttl, ...message } = received[0]!;
      const { contentAvailable, ...rest } = content;
      assert.deepEqual(message, { to: token, ...rest, _contentAvailable: contentAvailable });
      assert.ok(ttl !== undefined && ttl > 590 && ttl <= 600, `ttl ${ttl}`);
    });

    test('429, then 500, then success: delivered exactly once', async () => {
      const { userId, token } = await device(server.baseUrl);
      const before = expo.sendRequests.length;
      expo.failSends([429, 500]);
      await outbox().enqueue(newPush(userId));
      await receiptAskedFor(expo, token);

      assert.equal(expo.pushesTo(token).length, 1);
      assert.deepEqual(expo.sendRequests.slice(before).map((sent) => sent.status), [429, 500, 200]);
    });

    test('429 with Retry-After (the SDK retrying it too): delivered exactly once, not before Retry-After ran out', async () => {
      const { userId, token } = await device(server.baseUrl);
      const before = expo.sendRequests.length;
      // More than the worker's first backoff (at most 1.5 s) plus the SDK's two quick retries, so only a worker
      // that honours Retry-After waits this long.
      expo.failSends([429, 429, 429], { retryAfterSeconds: 3 });
      await outbox().enqueue(newPush(userId));
      await receiptAskedFor(expo, token);

      const received = expo.pushesTo(token);
      assert.equal(received.length, 1);
      const sends = expo.sendRequests.slice(before);
      assert.deepEqual(sends.map((sent) => sent.status), [429, 429, 429, 200]);
      const waited = received[0]!.receivedAt.getTime() - sends[0]!.receivedAt.getTime();
      assert.ok(waited >= 3000, `delivered ${waited} ms after the first 429`);
    });

    test('DeviceNotRegistered on the ticket removes the token', async () => {
      const { userId, token } = await device(server.baseUrl);
      const other = await device(server.baseUrl);
      expo.ticketError(token, 'DeviceNotRegistered');
      await outbox().enqueue(newPush(userId));
      await outbox().enqueue(newPush(other.userId));
      await until('the token is removed', async () => (await tokensOf(userId)).length === 0);
      assert.equal(expo.pushesTo(token).length, 1);
      // Another device's push and token are unaffected.
      await receiptAskedFor(expo, other.token);
      assert.deepEqual(await tokensOf(other.userId), [other.token]);
    });

    test('DeviceNotRegistered on the receipt removes the token', async () => {
      const { userId, token } = await device(server.baseUrl);
      expo.receiptError(token, 'DeviceNotRegistered');
      await outbox().enqueue(newPush(userId));
      await receiptAskedFor(expo, token);
      await until('the token is removed', async () => (await tokensOf(userId)).length === 0);
      assert.equal(expo.pushesTo(token).length, 1);
    });

    test('an expired push is dropped, never sent', async () => {
      const { userId, token } = await device(server.baseUrl);
      const now = Date.now();
      const expired = newPush(userId, { dueAt: new Date(now - 2000), expiresAt: new Date(now - 1000) });
      const live = newPush(userId, { dueAt: new Date(now - 1000) });
      await outbox().enqueue(expired);
      await outbox().enqueue(live);
      // The expired push was due first, so it was settled before the live one was sent.
      await receiptAskedFor(expo, token);
      assert.deepEqual(
        expo.pushesTo(token).map((push) => push.data?.['marker']),
        [live.content.data['marker']],
      );
    });

    test('many pushes go out in one gzipped request', async () => {
      const { userId, token } = await device(server.baseUrl);
      const dueAt = new Date(Date.now() + 500);
      const pushes = Array.from({ length: 30 }, (_, i) => newPush(userId, { dueAt, content: { body: `${i} ${'x'.repeat(300)}`, data: { i }, priority: 'default' } }));
      const before = expo.sendRequests.length;
      for (const push of pushes) await outbox().enqueue(push);
      await receiptAskedFor(expo, token, pushes.length);

      assert.deepEqual(
        expo.pushesTo(token).map((push) => push.body).sort(),
        pushes.map((push) => push.content.body).sort(),
      );
      assert.ok(expo.sendRequests.slice(before).some((sent) => sent.gzip && sent.messages > 1), 'a gzipped request with several messages');
    });
  });
}

/**
 * Queues pushes straight into a database (the embedded one only while no app runs on it, as it allows one
 * process at a time): PostgreSQL at `databaseUrl`, else PGlite in `dataDir`.
 */
async function enqueueInto(databaseUrl: string | undefined, dataDir: string, pushes: NewPush[]): Promise<void> {
  const storage = await openPostgresStorage({
    databaseUrl,
    dataDir,
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  try {
    for (const push of pushes) await storage.pushOutbox.enqueue(push);
  } finally {
    await storage.close();
  }
}

describe('push delivery across server processes', () => {
  test('a server killed with SIGKILL while its pushes are queued sends them after it starts again (pglite)', async () => {
    const dataDir = await freshDataDir('pglite');
    const env = { ...PUSH_ENV, EXPO_BASE_URL: expo.url };
    try {
      const first = await spawnServer('pglite', dataDir, env);
      const { userId, token } = await device(first.baseUrl);
      first.child.kill('SIGTERM');
      await first.exited;
      const pushes = Array.from({ length: 3 }, () => newPush(userId));
      await enqueueInto(undefined, dataDir, pushes);

      expo.failSends(Array.from({ length: 1000 }, () => 500));
      const failing = await spawnServer('pglite', dataDir, env);
      let output = '';
      failing.child.stdout!.on('data', (chunk: string | Buffer) => (output += chunk.toString()));
      await until('each push was put back after a 500', async () => output.split('push not sent; retrying').length - 1 >= pushes.length);
      failing.child.kill('SIGKILL');
      assert.equal((await failing.exited).signal, 'SIGKILL');
      assert.equal(expo.pushesTo(token).length, 0);

      expo.failSends([]);
      const restarted = await spawnServer('pglite', dataDir, env);
      await receiptAskedFor(expo, token, pushes.length);
      restarted.child.kill('SIGTERM');
      await restarted.exited;
      assert.deepEqual(
        expo.pushesTo(token).map((push) => push.data?.['marker']).sort(),
        pushes.map((push) => push.content.data['marker']).sort(),
      );
    } finally {
      expo.failSends([]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  const postgres = postgresTargets().find((target) => target.kind === 'postgres')!;
  test('two server processes on one PostgreSQL database send each of 200 pushes exactly once', { skip: postgres.skip }, async () => {
    const dataDirs = await Promise.all([freshDataDir('postgres'), freshDataDir('postgres')]);
    // A database of their own: the workers of other test apps must not take these pushes.
    const database = await createScratchDatabase('call_app_test_push');
    // A few pushes per second each, so both processes are sending while the queue drains.
    const env = { ...PUSH_ENV, PUSH_POLL_MS: '10', PUSH_MAX_PER_SECOND: '100', EXPO_BASE_URL: expo.url, DATABASE_URL: database.url };
    try {
      const servers = await Promise.all(dataDirs.map((dataDir) => spawnServer('postgres', dataDir, env)));
      const { userId, token } = await device(servers[0]!.baseUrl);
      const pushes = Array.from({ length: 200 }, (_, i) => newPush(userId, { content: { body: `push ${i}`, data: { i }, priority: 'default' } }));
      await enqueueInto(database.url, dataDirs[0]!, pushes);
      await until('all 200 were sent', async () => expo.pushesTo(token).length >= pushes.length, 30_000);
      for (const server of servers) server.child.kill('SIGTERM');
      await Promise.all(servers.map((server) => server.exited));

      const bodies = expo.pushesTo(token).map((push) => push.body);
      assert.equal(bodies.length, pushes.length);
      assert.deepEqual(new Set(bodies), new Set(pushes.map((push) => push.content.body)));
    } finally {
      await Promise.all(dataDirs.map((dataDir) => rm(dataDir, { recursive: true, force: true })));
      await database.drop();
    }
  });
});
