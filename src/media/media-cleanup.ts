import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';
import { inBatches, periodicTask, type PeriodicTask } from '../shared/periodic.js';
import type { MediaStore } from './media-store.js';
import type { MediaService } from './media-service.js';

export interface MediaCleanupSettings {
  media: MediaService;
  store: MediaStore;
  tempDir: string;
  logger: Logger;
  intervalSeconds: number;
  /** Uploads never attached are removed this long after they were made. */
  orphanTtlSeconds: number;
  now?: () => Date;
}

/** Records marked per statement: each batch is a short transaction, whatever the backlog. */
const BATCH = 500;
/** A temporary file this old belongs to no upload still under way (requests time out long before). */
const TEMP_FILE_MAX_AGE_MS = 60 * 60 * 1000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Every interval, off the request path: marks uploads never attached (after the orphan TTL) and media
 * whose message went, removes the blobs and records of everything marked (by these, by deleted accounts
 * and by removals that failed half-way), and deletes temporary files that no upload under way holds:
 * those of processes that are gone (a crash mid-upload) and any older than an hour.
 */
export function createMediaCleanup(settings: MediaCleanupSettings): PeriodicTask {
  const now = settings.now ?? (() => new Date());

  async function sweepTempFiles(): Promise<number> {
    const names = await readdir(settings.tempDir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(settings.tempDir, name);
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      const old = async () => now().getTime() - (await stat(file)).mtimeMs > TEMP_FILE_MAX_AGE_MS;
      if ((pid !== process.pid && !isAlive(pid)) || (await old().catch(() => false))) {
        await rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  return periodicTask(
    settings.intervalSeconds,
    async (stopping) => {
      const createdBefore = new Date(now().getTime() - settings.orphanTtlSeconds * 1000);
      const orphans = await inBatches(BATCH, (limit) => settings.store.discardUnattached(createdBefore, limit), stopping);
      const removed = await settings.media.removeDiscarded(stopping);
      const tempFiles = await sweepTempFiles();
      if (removed > 0 || tempFiles > 0) settings.logger.info({ orphans, removed, tempFiles }, 'removed media');
    },
    (error) => settings.logger.error({ err: error }, 'media cleanup failed'),
  );
}
