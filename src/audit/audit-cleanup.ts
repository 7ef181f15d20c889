import type { Logger } from '../shared/logger.js';
import { inBatches, periodicTask, type PeriodicTask } from '../shared/periodic.js';
import type { AuditStore } from './audit-store.js';

export interface AuditCleanupSettings {
  store: AuditStore;
  logger: Logger;
  intervalSeconds: number;
  /** How long an entry is kept; 0 keeps every entry (the cleanup does nothing). */
  retentionDays: number;
  now?: () => Date;
}

/** Entries deleted per statement: each batch is a short transaction, whatever the backlog. */
const BATCH = 1000;

/**
 * Deletes audit entries older than the retention, in the background, in batches, so that a large backlog
 * never holds a long lock on the table requests append to. Several processes may run it at once: each
 * batch deletes what is still there. Failures are logged and retried at the next interval.
 */
export function createAuditCleanup(settings: AuditCleanupSettings): PeriodicTask {
  const now = settings.now ?? (() => new Date());
  return periodicTask(
    settings.intervalSeconds,
    async (stopping) => {
      if (settings.retentionDays === 0) return;
      const before = new Date(now().getTime() - settings.retentionDays * 86_400_000);
      const deleted = await inBatches(BATCH, (limit) => settings.store.deleteOlderThan(before, limit), stopping);
      if (deleted > 0) settings.logger.info({ deleted }, 'deleted audit entries past their retention');
    },
    (error) => settings.logger.error({ err: error }, 'audit cleanup failed'),
  );
}
