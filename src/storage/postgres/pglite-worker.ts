/**
 * Runs the embedded PGlite database on its own thread and serves it over the PostgreSQL wire protocol
 * on a Unix socket, so the main thread's event loop stays free for sockets and the app speaks
 * node-postgres to both the embedded and a real PostgreSQL.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parentPort, workerData } from 'node:worker_threads';

export interface PgliteWorkerData {
  dataDir: string;
  socketPath: string;
}

export type PgliteWorkerMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('pglite-worker must run in a worker thread');
const { dataDir, socketPath } = workerData as PgliteWorkerData;

try {
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, path: socketPath });
  await server.start();
  port.on('message', async (message: unknown) => {
    if (message !== 'close') return;
    await server.stop();
    await db.close();
    port.postMessage({ type: 'closed' } satisfies PgliteWorkerMessage);
  });
  port.postMessage({ type: 'ready' } satisfies PgliteWorkerMessage);
} catch (error) {
  port.postMessage({ type: 'error', message: (error as Error).message } satisfies PgliteWorkerMessage);
}
