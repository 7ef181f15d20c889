import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { mongoUriFor, type DatabaseKind } from './databases.js';
import { TEST_JWT_SECRET } from './tokens.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A clean environment for a child process of the app (server or CLI) on `kind`: nothing of the test
 * runner's own configuration leaks in (a DATABASE_URL or MONGO_URI would change which database it opens).
 */
export function childEnv(kind: DatabaseKind, dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    ...extra,
  };
  if (kind === 'postgres') {
    // The test runner's database unless `extra` names another (a scratch database).
    const url = extra['DATABASE_URL'] ?? process.env['DATABASE_URL'];
    if (!url) throw new Error('DATABASE_URL is not set');
    env['DATABASE_URL'] = url;
  }
  if (kind === 'mongo') env['MONGO_URI'] = extra['MONGO_URI'] ?? mongoUriFor(dataDir);
  return env;
}

/** Spawns `node --import tsx <entry> ...args` from the project root, where `entry` is relative to it. */
export function spawnTs(entry: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output and resolves when it exits. */
export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the operator CLI (src/cli.ts) to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return finished(spawnTs('src/cli.ts', args, env));
}

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves when the process has exited, with its output. */
  exited: Promise<Finished>;
  baseUrl: string;
}

/**
 * Starts the real server (`src/main.ts`) on `kind` and `dataDir` on a free local port, with its JSON logs at
 * info on stdout, and resolves once it listens. `extra` adds or overrides environment variables.
 */
export async function spawnServer(kind: DatabaseKind, dataDir: string, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawnTs('src/main.ts', [], childEnv(kind, dataDir, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra }));
  const exited = finished(child);
  try {
    return { child, exited, baseUrl: `http://127.0.0.1:${await listeningPort(child)}` };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${(await exited).stderr}`);
  }
}

/** The entries of a server's JSON log (its stdout) at level error or above. */
export function errorLogs(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((entry) => typeof entry['level'] === 'number' && entry['level'] >= 50);
}

/**
 * Resolves with the port from the server's JSON `"msg":"listening"` log line (needs LOG_LEVEL info
 * and LOG_PRETTY false); rejects if the process exits first.
 */
export function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`the server exited with ${code} before listening`));
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let entry: { msg?: unknown; port?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'listening' && typeof entry.port === 'number') {
        child.off('exit', onExit);
        resolve(entry.port);
      }
    });
  });
}
