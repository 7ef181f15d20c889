/**
 * `npm run start:cluster -- N`: N processes of the server on one machine, as one, on PORT. The primary
 * process accepts every connection and hands it to a worker with @socket.io/sticky, which sends every
 * request of one Socket.io session to the worker that opened it (long-polling works), and a new session
 * to the worker with the fewest; the workers share state through Redis (REDIS_URL) and one PostgreSQL
 * database (DATABASE_URL), both required. A worker that dies is replaced; SIGTERM or SIGINT stops the
 * workers gracefully, then the primary. See docs/deploy.md for several machines.
 *
 * Each worker keeps a slot (0..N-1; a replacement takes the dead worker's) and, with METRICS_PORT, serves
 * its own /metrics on METRICS_PORT + slot: the shared PORT would answer a scrape from whichever worker.
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { setupMaster, setupWorker } from '@socket.io/sticky';
import { createApp } from './app.js';
import type { Config } from './config/config.js';
import { configOrExit, stopOnSignals } from './serve.js';
import { createLogger } from './shared/logger.js';

if (existsSync('.env')) process.loadEnvFile('.env');

const config = configOrExit();
const logger = createLogger(config.log);
/** The environment variable that tells a worker its slot. */
const SLOT = 'CLUSTER_WORKER_SLOT';

/** A worker's configuration: the metrics server of slot `slot` listens on METRICS_PORT + slot. */
function workerConfig(slot: number): Config {
  const server = config.metrics.server;
  return server ? { ...config, metrics: { ...config.metrics, server: { ...server, port: server.port + slot } } } : config;
}

if (cluster.isPrimary) {
  const count = Number(process.argv[2] ?? availableParallelism());
  if (!Number.isInteger(count) || count < 1) {
    console.error('usage: npm run start:cluster -- <number of processes>');
    process.exit(2);
  }
  if (!config.redisUrl || !config.databaseUrl) {
    console.error('start:cluster needs REDIS_URL (the processes share state through it) and DATABASE_URL (the embedded database opens in one process only)');
    process.exit(1);
  }
  // Buffers (the first bytes of each connection) cross to the workers as Buffers, not JSON.
  cluster.setupPrimary({ serialization: 'advanced' });
  const server = createServer();
  setupMaster(server, { loadBalancingMethod: 'least-connection' });
  if (!config.metrics.server) logger.warn('METRICS_PORT is not set: a scrape of /metrics on PORT answers for one worker, whichever gets it');
  const slots = new Map<number, number>();
  const fork = (slot: number) => slots.set(cluster.fork({ [SLOT]: String(slot) }).id, slot);
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      }
      return;
    }
    logger.error({ worker: worker.id, code, signal }, 'a worker died; starting another');
    const slot = slots.get(worker.id) ?? 0;
    slots.delete(worker.id);
    fork(slot);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down the workers');
      server.close();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    });
  }
  for (let slot = 0; slot < count; slot += 1) fork(slot);
  server.listen(config.port, config.host, () => logger.info({ port: config.port, processes: count }, 'listening'));
} else {
  const app = await createApp(workerConfig(Number(process.env[SLOT] ?? 0)), logger);
  setupWorker(app.io);
  await app.start({ listen: false });
  logger.info({ worker: cluster.worker?.id, metricsPort: app.metricsServer ? (app.metricsServer.address() as AddressInfo).port : undefined }, 'worker ready');
  stopOnSignals(app, logger);
}
