import type { App } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import type { Logger } from './shared/logger.js';

/** The configuration from the environment; a bad one prints what is wrong and exits. */
export function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** SIGTERM or SIGINT stops `app` gracefully (once), then exits. */
export function stopOnSignals(app: App, logger: Logger): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      app.stop().then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
