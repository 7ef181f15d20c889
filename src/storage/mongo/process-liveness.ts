import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import type { ProcessLiveness } from '../ports.js';
import { among } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

const BEAT_EVERY_MS = 10_000;
/** A process whose heartbeat is older than this is taken for dead: three beats missed. */
const DEAD_AFTER_MS = 3 * BEAT_EVERY_MS;

/**
 * On MongoDB each process keeps a heartbeat document (`processes`), written every 10 s with the
 * database's clock; a process whose document is missing or older than 30 s no longer runs (it exited,
 * was killed or lost the database). A TTL index removes the documents of dead processes; `gone` does
 * not wait for it, it compares the beat with the database's clock itself. Stopping deletes our document.
 */
export async function startHeartbeat(mongo: MongoDatabase, logger: Logger): Promise<ProcessLiveness & { close(): Promise<void> }> {
  const id = newId();
  const processes = mongo.collection('processes');
  const beat = () =>
    processes.updateOne({ _id: id }, [{ $set: { beatAt: '$$NOW', expiresAt: { $add: ['$$NOW', DEAD_AFTER_MS * 2] } } }], { upsert: true });
  await beat();
  const timer = setInterval(() => {
    beat().catch((error: unknown) => logger.error({ err: error }, 'could not write this process heartbeat: other processes may take it for dead'));
  }, BEAT_EVERY_MS);
  timer.unref();
  return {
    id,
    async gone(ids) {
      const others = [...new Set(ids)].filter((other) => other !== id);
      if (others.length === 0) return [];
      const alive = await processes
        .aggregate<{ _id: string }>([{ $match: { _id: among(others) } }, { $match: { $expr: { $gt: ['$beatAt', { $subtract: ['$$NOW', DEAD_AFTER_MS] }] } } }, { $project: { _id: 1 } }])
        .toArray();
      const living = new Set(alive.map((doc) => doc._id));
      return others.filter((other) => !living.has(other));
    },
    async close() {
      clearInterval(timer);
      await processes.deleteOne({ _id: id });
    },
  };
}
