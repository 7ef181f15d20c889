import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeStandaloneMongod } from '../support/fake-mongod.js';
import { TEST_JWT_SECRET } from '../support/tokens.js';

/** A local port nothing listens on: one the system handed out, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('an unreachable MONGO_URI fails start-up within the server selection timeout, naming the server without its password', async () => {
  const port = await closedPort();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    MONGO_URI: `mongodb://app:hunter2-secret@127.0.0.1:${port}/call_app?replicaSet=rs0`,
    MONGO_SERVER_SELECTION_TIMEOUT_MS: '1000',
  });
  const started = Date.now();
  await assert.rejects(createApp(config, createLogger(config.log)), (error: Error) => {
    assert.match(error.message, new RegExp(`MongoDB at mongodb://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/call_app\\?replicaSet=rs0 did not answer within 1000 ms`));
    assert.doesNotMatch(error.message, /hunter2/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5000, `start-up gave up after ${elapsed} ms`);
});

test('a standalone MongoDB server (no replica set: no transactions) is refused at start-up, saying what to do', async () => {
  const standalone = await startFakeStandaloneMongod();
  try {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', MONGO_URI: standalone.uri, MONGO_SERVER_SELECTION_TIMEOUT_MS: '2000' });
    await assert.rejects(createApp(config, createLogger(config.log)), /MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/call_app is a standalone server: .*replica set.*rs\.initiate\(\)/);
  } finally {
    await standalone.close();
  }
});
