/**
 * The server as benchmarks run it: the same composition root as src/main.ts, from the production build
 * (dist/) unless BENCH_FROM_SOURCE=1 (the smoke test, which does not build), plus the IPC stats of
 * process-stats.ts.
 */
import { serveProcessStats } from './process-stats.js';

type AppModule = typeof import('../../src/app.js');
type ConfigModule = typeof import('../../src/config/config.js');
type LoggerModule = typeof import('../../src/shared/logger.js');

const root = process.env['BENCH_FROM_SOURCE'] === '1' ? '../../src/' : '../../dist/';
const [{ createApp }, { loadConfig }, { createLogger }] = await Promise.all([
  import(`${root}app.js`) as Promise<AppModule>,
  import(`${root}config/config.js`) as Promise<ConfigModule>,
  import(`${root}shared/logger.js`) as Promise<LoggerModule>,
]);

const config = loadConfig(process.env);
const logger = createLogger(config.log);
const app = await createApp(config, logger);
const port = await app.start();
serveProcessStats();
logger.info({ port, startupMs: Math.round(performance.now()) }, 'listening');

process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
