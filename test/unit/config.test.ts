import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const SECRET = 'a-production-secret-of-at-least-32-bytes';
const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: SECRET, CORS_ORIGINS: 'https://app.example' };

/** Asserts loadConfig refuses `env` with a ConfigError whose message matches every pattern. */
function assertRefused(env: NodeJS.ProcessEnv, ...patterns: RegExp[]): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('loadConfig', () => {
  test('an empty environment gives the documented development defaults', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.port, 3000);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.jwt.secret, undefined);
    assert.equal(config.jwt.accessTtlSeconds, 15 * 60);
    assert.equal(config.jwt.refreshTtlSeconds, 30 * 86_400);
    assert.equal(config.trustProxy, false);
    assert.equal(config.log.level, 'info');
    assert.deepEqual(config.rateLimit, {
      windowSeconds: 15 * 60,
      authPerIp: 300,
      loginFailuresPerAccount: 10,
      loginFailuresPerAccountTotal: 100,
      peopleSearchesPerMinute: 30,
    });
    assert.deepEqual(config.sessions, { cleanupIntervalSeconds: 3600, retentionSeconds: 7 * 86_400, accountEventsPollMs: 1000 });
    assert.deepEqual(config.realtime, {
      maxConnectionsPerUser: 10,
      rateWindowSeconds: 10,
      eventsPerWindow: 300,
      bytesPerWindow: 4 * 1024 * 1024,
      maxPendingEvents: 32,
      maxBufferedBytes: 8 * 1024 * 1024,
    });
    assert.equal(config.chat.receiptsPerWindow, 200);
    assert.equal(config.chat.presenceSubscribesPerMinute, 30);
    assert.equal(config.shutdownTimeoutMs, 10_000);
    assert.equal(config.passwordHashConcurrency, Math.max(1, availableParallelism() - 1));
  });

  test('password hashing concurrency is read from the environment, and zero is refused', () => {
    assert.equal(loadConfig({ PASSWORD_HASH_CONCURRENCY: '3' }).passwordHashConcurrency, 3);
    assertRefused({ PASSWORD_HASH_CONCURRENCY: '0' }, /PASSWORD_HASH_CONCURRENCY/);
  });

  test('the socket limits are read from the environment, and zero connections is refused', () => {
    const config = loadConfig({ SOCKET_MAX_CONNECTIONS_PER_USER: '3', SOCKET_RATE_WINDOW: '1m', SOCKET_MAX_BUFFERED_BYTES: '65536' });
    assert.deepEqual([config.realtime.maxConnectionsPerUser, config.realtime.rateWindowSeconds, config.realtime.maxBufferedBytes], [3, 60, 65536]);
    assertRefused({ SOCKET_MAX_CONNECTIONS_PER_USER: '0' }, /SOCKET_MAX_CONNECTIONS_PER_USER/);
  });

  test('development CORS allows local origins only', () => {
    const { corsOrigins } = loadConfig({});
    const allowed = (origin: string) => corsOrigins.some((rule) => (typeof rule === 'string' ? rule === origin : rule.test(origin)));
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8081', 'https://localhost', 'http://[::1]:3000']) assert.ok(allowed(origin), origin);
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'http://evil.example/?localhost:1']) assert.ok(!allowed(origin), origin);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).port, 3000);
    assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).databaseUrl, undefined);
  });

  test('a bad PORT is refused, naming PORT', () => {
    for (const port of ['abc', '70000', '-1', '80.5']) assertRefused({ PORT: port }, /PORT/);
  });

  test('every bad variable is named at once', () => {
    assertRefused({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://db/app' }, /PORT/, /LOG_LEVEL/, /DATABASE_URL/);
  });

  test('MONGO_URI selects MongoDB; with DATABASE_URL too it is refused, naming both', () => {
    const config = loadConfig({ MONGO_URI: 'mongodb://127.0.0.1:27017/app', MONGO_SERVER_SELECTION_TIMEOUT_MS: '2500' });
    assert.deepEqual(config.mongo, { uri: 'mongodb://127.0.0.1:27017/app', serverSelectionTimeoutMs: 2500 });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(loadConfig({}).mongo, undefined);
    assertRefused({ MONGO_URI: 'mongodb://127.0.0.1:27017/app', DATABASE_URL: 'postgres://db/app' }, /MONGO_URI and DATABASE_URL are both set/);
    assertRefused({ MONGO_URI: 'http://127.0.0.1:27017/app' }, /MONGO_URI/);
  });

  test('production requires a JWT_SECRET of at least 32 bytes', () => {
    assertRefused({ ...PRODUCTION, JWT_SECRET: undefined }, /JWT_SECRET/);
    assertRefused({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(31) }, /JWT_SECRET/);
    assert.equal(loadConfig({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(32) }).jwt.secret, 'x'.repeat(32));
  });

  test('a short JWT_SECRET is refused outside production too', () => {
    assertRefused({ JWT_SECRET: 'short' }, /JWT_SECRET/);
  });

  test('production requires CORS_ORIGINS, and uses exactly the listed origins', () => {
    assertRefused({ ...PRODUCTION, CORS_ORIGINS: undefined }, /CORS_ORIGINS/);
    const config = loadConfig({ ...PRODUCTION, CORS_ORIGINS: ' https://app.example , https://admin.example,' });
    assert.equal(config.env, 'production');
    assert.deepEqual(config.corsOrigins, ['https://app.example', 'https://admin.example']);
  });

  test('durations parse to seconds', () => {
    const cases: [string, number][] = [['45s', 45], ['15m', 900], ['12h', 43_200], ['30d', 2_592_000], ['900', 900], [' 15m ', 900]];
    for (const [text, seconds] of cases) {
      assert.equal(loadConfig({ JWT_ACCESS_TTL: text }).jwt.accessTtlSeconds, seconds, text);
      assert.equal(loadConfig({ JWT_REFRESH_TTL: text }).jwt.refreshTtlSeconds, seconds, text);
      assert.equal(loadConfig({ RATE_LIMIT_WINDOW: text }).rateLimit.windowSeconds, seconds, text);
    }
  });

  test('bad durations are refused, naming the variable', () => {
    for (const text of ['15 minutes', '0', '0s', '-5m', '1.5h', '10w', 'm']) assertRefused({ JWT_ACCESS_TTL: text }, /JWT_ACCESS_TTL/);
  });

  test('media is stored on the local disk under DATA_DIR unless told otherwise', () => {
    const local = loadConfig({ DATA_DIR: '/srv/app' }).media;
    assert.deepEqual(local.store, { kind: 'local', dir: '/srv/app/media' });
    assert.equal(local.tempDir, '/srv/app/media/tmp');
    assert.deepEqual(local.maxBytes, { image: 20 * 2 ** 20, audio: 50 * 2 ** 20, video: 100 * 2 ** 20, file: 50 * 2 ** 20 });
    assert.equal(local.urlTtlSeconds, 300);
    const s3 = loadConfig({
      MEDIA_STORE: 's3',
      MEDIA_S3_BUCKET: 'media',
      MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000',
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      MEDIA_S3_ACCESS_KEY_ID: 'key',
      MEDIA_S3_SECRET_ACCESS_KEY: 'secret',
    }).media.store;
    assert.deepEqual(s3, {
      kind: 's3',
      bucket: 'media',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
    assertRefused({ MEDIA_STORE: 's3' }, /MEDIA_S3_BUCKET/);
    assertRefused({ MEDIA_STORE: 's3', MEDIA_S3_BUCKET: 'media', MEDIA_S3_ACCESS_KEY_ID: 'key' }, /MEDIA_S3_SECRET_ACCESS_KEY/);
    assertRefused({ MEDIA_MAX_IMAGE_BYTES: '0' }, /MEDIA_MAX_IMAGE_BYTES/);
  });

  test('TRUST_PROXY takes a boolean, a hop count or an address list', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy, 'loopback, 10.0.0.0/8');
  });

  test('audit entries are kept 180 days and cleaned up hourly by default; 0 keeps them; whole days up to a hundred years', () => {
    assert.deepEqual(loadConfig({}).audit, { retentionDays: 180, cleanupIntervalSeconds: 3600 });
    assert.deepEqual(loadConfig({ AUDIT_RETENTION_DAYS: '0', AUDIT_CLEANUP_INTERVAL: '5m' }).audit, { retentionDays: 0, cleanupIntervalSeconds: 300 });
    for (const days of ['-1', '1.5', '36501', 'forever']) assertRefused({ AUDIT_RETENTION_DAYS: days }, /AUDIT_RETENTION_DAYS/);
    assertRefused({ AUDIT_CLEANUP_INTERVAL: '0' }, /AUDIT_CLEANUP_INTERVAL/);
  });

  test('metrics answer on the app port outside production, and in production only with a token or a port of their own', () => {
    assert.deepEqual(loadConfig({}).metrics, { token: undefined, server: undefined, onMainPort: true, slowQueryMs: 200 });
    assert.equal(loadConfig(PRODUCTION).metrics.onMainPort, false);
    const token = 'a-metrics-token-long-enough';
    assert.deepEqual(loadConfig({ ...PRODUCTION, METRICS_TOKEN: token }).metrics, { token, server: undefined, onMainPort: true, slowQueryMs: 200 });
    assert.deepEqual(loadConfig({ ...PRODUCTION, METRICS_PORT: '9464', SLOW_QUERY_MS: '50' }).metrics, {
      token: undefined,
      server: { port: 9464, host: '127.0.0.1' },
      onMainPort: false,
      slowQueryMs: 50,
    });
    assert.deepEqual(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics.server, { port: 9464, host: '0.0.0.0' });
  });

  test('a short METRICS_TOKEN, or METRICS_HOST without METRICS_PORT, is refused', () => {
    assertRefused({ METRICS_TOKEN: 'short' }, /METRICS_TOKEN/);
    assertRefused({ METRICS_HOST: '0.0.0.0' }, /METRICS_HOST/, /METRICS_PORT/);
  });
});
