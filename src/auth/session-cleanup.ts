import type { Logger } from '../shared/logger.js';
import { inBatches, periodicTask, type PeriodicTask } from '../shared/periodic.js';
import type { SessionsRepository } from '../storage/ports.js';

export interface SessionCleanupSettings {
  sessions: SessionsRepository;
  logger: Logger;
  intervalSeconds: number;
  /** How long an ended session is kept before it is deleted. */
  retentionSeconds: number;
  now?: () => Date;
}

export type SessionCleanup = PeriodicTask;

/** Sessions deleted per statement: each batch is a short transaction, whatever the backlog. */
const BATCH = 500;

/**
 * Deletes sessions (and their refresh tokens) that expired or were revoked more than the retention ago,
 * so neither table grows without bound. Failures are logged and retried at the next interval.
 */
export function createSessionCleanup(settings: SessionCleanupSettings): SessionCleanup {
  const now = settings.now ?? (() => new Date());
  return periodicTask(
    settings.intervalSeconds,
    async (stopping) => {
      const endedBefore = new Date(now().getTime() - settings.retentionSeconds * 1000);
      const deleted = await inBatches(BATCH, (limit) => settings.sessions.deleteEnded(endedBefore, limit), stopping);
      if (deleted > 0) settings.logger.info({ deleted }, 'deleted ended sessions');
    },
    (error) => settings.logger.error({ err: error }, 'session cleanup failed'),
  );
}
