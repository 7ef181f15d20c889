import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnDaemon, untilAnswering, type Daemon } from './daemon.js';

/** A redis-server of a test's own, so stopping or restarting it disturbs nobody else's. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGKILL: whatever it held is gone, as it keeps nothing on disk) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** stop() then, after `downMs`, start(). */
  restart(downMs?: number): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** Why a private redis-server cannot run here, or undefined. */
export function redisServerMissing(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'the redis-server binary is not installed';
  }
}

/** redisServerMissing for node:test's `skip`; in CI (CI=true) a missing redis-server is an error, not a skip. */
export function redisServerSkip(): string | undefined {
  const missing = redisServerMissing();
  if (missing && process.env['CI'] === 'true') throw new Error(`CI=true but ${missing}`);
  return missing && `${missing}: skipped`;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => undefined);
  });
}

/** Starts redis-server on a free port, without persistence. */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'call-app-test-redis-'));
  let daemon: Daemon | undefined;
  const start = async () => {
    daemon = spawnDaemon('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], dir);
    await untilAnswering(daemon, `redis-server on port ${port}`, () => answersPing(port), 10_000);
  };
  const stop = async () => {
    await daemon?.end('SIGKILL');
    daemon = undefined;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      await stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
  };
}
