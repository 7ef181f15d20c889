import { existsSync } from 'node:fs';
import { createApp } from './app.js';
import { configOrExit, stopOnSignals } from './serve.js';
import { createLogger } from './shared/logger.js';

if (existsSync('.env')) process.loadEnvFile('.env');

const config = configOrExit();
const logger = createLogger(config.log);
const app = await createApp(config, logger);
const port = await app.start();
logger.info({ port, startupMs: Math.round(performance.now()) }, 'listening');
stopOnSignals(app, logger);
