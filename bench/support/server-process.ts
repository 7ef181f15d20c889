import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  baseUrl: string;
  /** Milliseconds from spawn to the "listening" log line, as the server measured its own start. */
  startupMs: number;
  child: ChildProcess;
  /** The server's event-loop delay since the last call (or since it started listening). */
  eventLoopStats(): Promise<{ eventLoopDelayMs: { p50: number; p99: number; max: number } }>;
  stop(): Promise<number | null>;
}

export type BenchDatabase = 'pglite' | 'postgres';

/**
 * Runs the real server (bench-server.ts: the production composition root plus an event-loop monitor)
 * as its own process, so the load generator does not share its event loop. `pglite` uses a fresh DATA_DIR.
 */
export async function startServerProcess(database: BenchDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-bench-'));
  if (database === 'postgres' && !process.env['DATABASE_URL']) throw new Error('set DATABASE_URL to benchmark PostgreSQL');
  const entry = new URL('./bench-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: 'benchmark-secret-that-is-at-least-32-bytes',
      CORS_ORIGINS: 'http://localhost',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      RATE_LIMIT_AUTH_PER_IP: '1000000',
      RATE_LIMIT_LOGIN_FAILURES: '1000000',
      CALL_REQUESTS_PER_MINUTE: '1000000',
      // A benchmark client sends as fast as the server answers: the per-connection budgets would measure themselves.
      SOCKET_EVENTS_PER_WINDOW: '1000000000',
      SOCKET_BYTES_PER_WINDOW: '1000000000000',
      // An empty variable counts as unset (see loadConfig): PGlite unless asked for PostgreSQL.
      ...(database === 'pglite' ? { DATABASE_URL: '' } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const listening = await new Promise<{ port: number; startupMs: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    lines.on('line', (line) => {
      if (!line.includes('"listening"')) return;
      const entry = JSON.parse(line) as { port: number; startupMs: number };
      resolve(entry);
    });
  });
  lines.on('line', () => undefined);
  return {
    baseUrl: `http://127.0.0.1:${listening.port}`,
    startupMs: listening.startupMs,
    child,
    eventLoopStats: () =>
      new Promise((resolve) => {
        child.once('message', (message) => resolve(message as Awaited<ReturnType<ServerProcess['eventLoopStats']>>));
        child.send('stats');
      }),
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
