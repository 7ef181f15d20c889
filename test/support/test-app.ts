import { rm } from 'node:fs/promises';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { freshDataDir, type DatabaseKind } from './databases.js';

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
}

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

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
    ...env,
  });
  const app = await createApp(config, createLogger(config.log));
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
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
