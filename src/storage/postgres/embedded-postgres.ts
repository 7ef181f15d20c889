import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { lockDataDir } from './embedded-lock.js';
import type { PgliteWorkerData, PgliteWorkerMessage } from './pglite-worker.js';

/** PGlite listens on this "port" only in the name of its socket file, where node-postgres looks for it. */
const SOCKET_PORT = 5432;

export interface EmbeddedPostgres {
  /** node-postgres connection settings for the embedded database. */
  connection: { host: string; port: number; database: string; user: string };
  stop(): Promise<void>;
}

/** Starts PGlite (persistent in `dataDir`) in a worker thread and waits until it accepts connections. */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  const socketDir = await mkdtemp(path.join(tmpdir(), 'call-app-pglite-'));
  const workerData: PgliteWorkerData = {
    dataDir: path.resolve(dataDir),
    socketPath: path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
  };
  const worker = startWorker(workerData);
  const next = () =>
    new Promise<PgliteWorkerMessage>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const first = await next().catch((error: unknown) => ({ type: 'error' as const, message: String(error) }));
  if (first.type !== 'ready') {
    await worker.terminate();
    await rm(socketDir, { recursive: true, force: true });
    await lock.release();
    throw new Error(`The embedded database in ${dataDir} did not start: ${first.type === 'error' ? first.message : first.type}`);
  }
  return {
    connection: { host: socketDir, port: SOCKET_PORT, database: 'postgres', user: 'postgres' },
    async stop() {
      const closed = next();
      worker.postMessage('close');
      await closed;
      await worker.terminate();
      await rm(socketDir, { recursive: true, force: true });
      await lock.release();
    },
  };
}

/**
 * Under tsx (dev, tests) this module is the .ts source, and so is the worker's entry: Node 20 does not
 * carry tsx's loader into workers, so a bootstrap registers it first.
 */
function startWorker(workerData: PgliteWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData });
  const entry = JSON.stringify(new URL('./pglite-worker.ts', import.meta.url).href);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
