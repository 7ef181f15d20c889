import { rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { dropMongoDatabaseFor, freshDataDir, mongoUriFor, type DatabaseKind } from './databases.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';
import { closeAllSockets } from './sockets.js';
import { TEST_JWT_SECRET } from './tokens.js';

export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  /** The app's DATA_DIR (its PGlite database when kind is 'pglite'). */
  dataDir: string;
  /** Stops the app; safe to call more than once. Removes the data dir only if startTestApp made it. */
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /**
   * Run on this existing data dir instead of a fresh one, e.g. to restart an app on the same PGlite
   * database. The caller owns it: stop() leaves it in place.
   */
  dataDir?: string;
  /** The app logs here instead of a logger built from LOG_LEVEL (a suite that reads the lines). */
  logger?: Logger;
}

/**
 * Configuration that puts the budgets out of the way, for suites that send many events with a few users
 * (property runs, fuzzing): every per-user chat and group budget and the per-connection ones.
 */
export const BUDGETS_OUT_OF_THE_WAY: Record<string, string> = {
  CHAT_MESSAGES_PER_WINDOW: '100000',
  CHAT_TYPING_PER_WINDOW: '100000',
  CHAT_RECEIPTS_PER_WINDOW: '100000',
  CHAT_CHANGES_PER_WINDOW: '100000',
  CHAT_REACTIONS_PER_WINDOW: '100000',
  PRESENCE_SUBSCRIBES_PER_MINUTE: '100000',
  SOCKET_EVENTS_PER_WINDOW: '100000',
  SOCKET_BYTES_PER_WINDOW: String(1024 ** 3),
  GROUPS_CREATED_PER_HOUR: '100000',
  GROUP_MEMBERS_ADDED_PER_HOUR: '100000',
};

/**
 * The real app on an ephemeral port, built by the same composition root as production, on the given
 * database. `env` overrides configuration the way environment variables would.
 */
export async function startTestApp(kind: DatabaseKind, env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await freshDataDir(kind));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent',
    LOG_PRETTY: 'false',
    ...(kind === 'postgres' ? { DATABASE_URL: requiredEnv('DATABASE_URL') } : {}),
    ...(kind === 'mongo' ? { MONGO_URI: mongoUriFor(dataDir) } : {}),
    ...env,
  });
  const app = await createApp(config, options.logger ?? createLogger(config.log));
  const port = await app.start();
  let stopped: Promise<void> | undefined;
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    stop() {
      stopped ??= (async () => {
        await app.stop();
        if (!ownsDataDir) return;
        await rm(dataDir, { recursive: true, force: true });
        if (kind === 'mongo') await dropMongoDatabaseFor(dataDir);
      })();
      return stopped;
    },
  };
}

/** The app a suite runs against, from useTestApp: read it in hooks and tests, not while the suite is declared. */
export interface SuiteApp {
  readonly app: App;
  readonly config: Config;
  readonly baseUrl: string;
  /** The app's DATA_DIR, kept from the first start to the end of the suite (also while the app is stopped). */
  readonly dataDir: string;
  /** Stops the app mid-suite, e.g. to hand its PGlite database to a CLI run; the data dir stays. */
  stop(): Promise<void>;
  /** Starts the app again after stop(), on the same data dir and env (on another port: read baseUrl afresh). */
  start(): Promise<void>;
}

/**
 * startTestApp for the enclosing describe(): its `before` starts the app on a fresh data dir, its `after`
 * closes every test socket, stops the app and removes the data dir. node:test runs hooks in the order they
 * are added, so the suite's own hooks added after this call see the app running.
 */
export function useTestApp(
  kind: DatabaseKind,
  settings: Record<string, string> | (() => Record<string, string>) = {},
  options: { privateDatabase?: boolean; logger?: Logger } = {},
): SuiteApp {
  let env: Record<string, string> = {};
  let dataDir: string | undefined;
  let running: TestApp | undefined;
  let scratch: ScratchDatabase | undefined;
  const current = (): TestApp => {
    if (!running) throw new Error('the test app is not running (read it in a hook or test, between start and stop)');
    return running;
  };
  before(async () => {
    // A function is read now, after the hooks added before this one (a server whose address it names).
    env = typeof settings === 'function' ? settings() : settings;
    dataDir = await freshDataDir(kind);
    // Work other test apps must not pick up from a shared database (the push outbox: their workers would
    // send it elsewhere) needs a database of its own. PGlite and MongoDB (one database per data dir) always have one.
    if (options.privateDatabase && kind === 'postgres') {
      scratch = await createScratchDatabase('call_app_test');
      env = { ...env, DATABASE_URL: scratch.url };
    }
    running = await startTestApp(kind, env, { dataDir, ...(options.logger ? { logger: options.logger } : {}) });
  });
  after(async () => {
    closeAllSockets();
    await running?.stop();
    running = undefined;
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    if (dataDir !== undefined && kind === 'mongo') await dropMongoDatabaseFor(dataDir);
    await scratch?.drop();
  });
  return {
    get app() {
      return current().app;
    },
    get config() {
      return current().config;
    },
    get baseUrl() {
      return current().baseUrl;
    },
    get dataDir() {
      if (dataDir === undefined) throw new Error('the test app has not started yet');
      return dataDir;
    },
    async stop() {
      const stopping = running;
      running = undefined;
      await stopping?.stop();
    },
    async start() {
      if (running) throw new Error('the test app is already running');
      if (dataDir === undefined) throw new Error('the test app has not started yet');
      running = await startTestApp(kind, env, { dataDir, ...(options.logger ? { logger: options.logger } : {}) });
    },
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
