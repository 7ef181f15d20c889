/**
 * The server as benchmarks run it: the same composition root as src/main.ts, plus an event-loop delay
 * histogram the benchmark reads over IPC ('stats' -> figures, and the histogram starts again).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/shared/logger.js';

const config = loadConfig(process.env);
const logger = createLogger(config.log);
const app = await createApp(config, logger);
const port = await app.start();
const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
logger.info({ port, startupMs: Math.round(performance.now()) }, 'listening');

const ms = (ns: number) => Math.round(ns / 1e4) / 100;
process.on('message', (message) => {
  if (message !== 'stats') return;
  process.send?.({ eventLoopDelayMs: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) } });
  histogram.reset();
});
process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
