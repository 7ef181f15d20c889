import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freshPgliteDataDir } from '../../test/support/databases.js';
import type { EventLoopDelay } from './process-stats.js';

export interface ServerProcess {
  baseUrl: string;
  /** Milliseconds from spawn to the "listening" log line, as the process measured its own start. */
  startupMs: number;
  child: ChildProcess;
  /** The process's event-loop delay since the last call (or since it started listening). */
  eventLoopStats(): Promise<{ eventLoopDelayMs: EventLoopDelay }>;
  /** Its resident set size now, in bytes. */
  rss(): Promise<number>;
  /** CPU time its threads have used since it started, in microseconds (PGlite's worker thread included). */
  cpuMicros(): Promise<number>;
  stop(): Promise<number | null>;
}

export type BenchDatabase = 'pglite' | 'postgres';

/** Asks a child serving process-stats.ts one question over IPC. */
function ask<T>(child: ChildProcess, question: 'eventLoop' | 'rss' | 'cpu', key: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      child.off('message', listener);
      resolve(message[key] as T);
    };
    child.on('message', listener);
    child.send(question);
  });
}

/**
 * Spawns `entry` (run by tsx), waits for its JSON "listening" line and wraps it. With BENCH_CPU_PROF set
 * to a directory, each process writes V8 CPU profiles there when it stops (one per thread: the main
 * thread's is the largest).
 */
async function spawnListening(entry: string, env: NodeJS.ProcessEnv, cleanUp: () => Promise<void>): Promise<ServerProcess> {
  const profileDir = process.env['BENCH_CPU_PROF'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const listening = await new Promise<{ port: number; startupMs: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${path.basename(entry)} exited with ${code} before listening`)));
    lines.on('line', (line) => {
      if (line.includes('"listening"')) resolve(JSON.parse(line) as { port: number; startupMs: number });
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${listening.port}`,
    startupMs: listening.startupMs,
    child,
    eventLoopStats: async () => ({ eventLoopDelayMs: await ask<EventLoopDelay>(child, 'eventLoop', 'eventLoop') }),
    rss: () => ask<number>(child, 'rss', 'rss'),
    cpuMicros: () => ask<number>(child, 'cpu', 'cpu'),
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await cleanUp();
      return code;
    },
  };
}

/**
 * Runs the real server (bench-server.ts: the production composition root plus process stats) as its own
 * process, so the load generator does not share its event loop. `pglite` uses `dataDir`, or a fresh one
 * (already migrated) that is removed on stop.
 */
export async function startServerProcess(
  database: BenchDatabase,
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<ServerProcess> {
  if (database === 'postgres' && !process.env['DATABASE_URL']) throw new Error('set DATABASE_URL to benchmark PostgreSQL');
  // A copy of a migrated template: creating a PGlite cluster takes seconds.
  const dataDir = options.dataDir ?? (database === 'pglite' ? await freshPgliteDataDir() : await mkdtemp(path.join(tmpdir(), 'call-app-bench-')));
  const entry = new URL('./bench-server.ts', import.meta.url).pathname;
  const serverEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET: 'benchmark-secret-that-is-at-least-32-bytes',
    // The accounts are made once per run, which can outlast the default 15 minutes.
    JWT_ACCESS_TTL: '1d',
    CORS_ORIGINS: 'http://localhost',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    RATE_LIMIT_AUTH_PER_IP: '1000000',
    RATE_LIMIT_LOGIN_FAILURES: '1000000',
    CALL_REQUESTS_PER_MINUTE: '1000000',
    CALL_SIGNALING_PER_MINUTE: '1000000',
    CHAT_MESSAGES_PER_WINDOW: '1000000000',
    GROUPS_CREATED_PER_HOUR: '1000000',
    GROUP_MEMBERS_ADDED_PER_HOUR: '1000000',
    // A benchmark client sends as fast as the server answers: the per-connection budgets would measure themselves.
    SOCKET_EVENTS_PER_WINDOW: '1000000000',
    SOCKET_BYTES_PER_WINDOW: '1000000000000',
    SOCKET_MAX_PENDING_EVENTS: '1000000',
    SOCKET_MAX_CONNECTIONS_PER_USER: '1000000',
    // An empty variable counts as unset (see loadConfig): PGlite unless asked for PostgreSQL.
    ...(database === 'pglite' ? { DATABASE_URL: '' } : {}),
    ...env,
  };
  const owned = options.dataDir === undefined;
  return spawnListening(entry, serverEnv, async () => {
    if (owned) await rm(dataDir, { recursive: true, force: true });
  });
}

/** Runs the bare Socket.io relay (relay-server.ts) as its own process. */
export function startRelayProcess(): Promise<ServerProcess> {
  return spawnListening(new URL('./relay-server.ts', import.meta.url).pathname, { ...process.env, NODE_ENV: 'production' }, async () => undefined);
}
