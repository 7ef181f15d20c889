import type { Logger } from '../shared/logger.js';
import type { SessionsRepository } from '../storage/ports.js';

export interface SessionCleanupSettings {
  sessions: SessionsRepository;
  logger: Logger;
  intervalSeconds: number;
  /** How long an ended session is kept before it is deleted. */
  retentionSeconds: number;
  now?: () => Date;
}

export interface SessionCleanup {
  /** Runs a cleanup now, then one every interval. */
  start(): void;
  /** Stops the schedule and waits for a cleanup in progress (so storage can close after it). */
  stop(): Promise<void>;
}

/** Sessions deleted per statement: each batch is a short transaction, whatever the backlog. */
const BATCH = 500;
/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Deletes sessions (and their refresh tokens) that expired or were revoked more than the retention ago,
 * so neither table grows without bound. Failures are logged and retried at the next interval.
 */
export function createSessionCleanup(settings: SessionCleanupSettings): SessionCleanup {
  const now = settings.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  async function prune(): Promise<number> {
    const endedBefore = new Date(now().getTime() - settings.retentionSeconds * 1000);
    let deleted = 0;
    for (;;) {
      const batch = await settings.sessions.deleteEnded(endedBefore, BATCH);
      deleted += batch;
      if (batch < BATCH || stopped) return deleted;
    }
  }

  function run(): void {
    running = prune()
      .then(
        (deleted) => {
          if (deleted > 0) settings.logger.info({ deleted }, 'deleted ended sessions');
        },
        (error: unknown) => settings.logger.error({ err: error }, 'session cleanup failed'),
      )
      .finally(() => {
        running = undefined;
        if (stopped) return;
        timer = setTimeout(run, Math.min(settings.intervalSeconds * 1000, MAX_DELAY_MS));
        timer.unref();
      });
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
