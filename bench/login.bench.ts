/**
 * Foundation figures: cold start of the production build to listening on a fresh PGlite DATA_DIR (first
 * start creates the database) and on an existing one; then login latency and the server's event-loop
 * delay while 50 clients log in concurrently for 10 s (argon2id hashing must not block the loop).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { report } from './support/report.js';
import { startServerProcess } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const CONCURRENCY = 50;
const DURATION_MS = 10_000;

async function coldStartMs(dataDir: string): Promise<number> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_PRETTY: 'false', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const startupMs = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"listening"')) resolve((JSON.parse(line) as { startupMs: number }).startupMs);
    });
  });
  child.kill('SIGTERM');
  await exited;
  return startupMs;
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-bench-cold-'));
const firstStartMs = await coldStartMs(dataDir);
const warmStartMs = await coldStartMs(dataDir);
await rm(dataDir, { recursive: true, force: true });

const server = await startServerProcess('pglite');
const email = `bench-${Date.now()}@example.com`;
const password = 'benchmark password';
const post = (route: string, body: unknown) =>
  fetch(`${server.baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
if ((await post('/api/auth/register', { email, password, name: 'Bench' })).status !== 201) throw new Error('register failed');

await server.eventLoopStats();
const latencies: number[] = [];
let failures = 0;
const deadline = performance.now() + DURATION_MS;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await post('/api/auth/login', { email, password });
      await response.arrayBuffer();
      if (response.status === 200) latencies.push(performance.now() - started);
      else failures += 1;
    }
  }),
);
const loop = await server.eventLoopStats();
await server.stop();

await report('login', {
  coldStartMs: { firstStartFreshDataDir: firstStartMs, startExistingDataDir: warmStartMs },
  login: {
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
    completed: latencies.length,
    failures,
    perSecond: round(latencies.length / (DURATION_MS / 1000)),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  },
  serverEventLoopDelayMs: loop.eventLoopDelayMs,
});
