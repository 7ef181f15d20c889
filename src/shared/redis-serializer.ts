import type { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { AppError } from './app-error.js';
import { KeyedQueue, type Serializer } from './keyed-queue.js';
import type { Logger } from './logger.js';

/** A holder that dies keeps a key for at most this long; a live one refreshes its lock long before. */
const LOCK_TIMEOUT_MS = 10_000;
/** How long a task waits for the key before it fails as UNAVAILABLE. */
const ACQUIRE_TIMEOUT_MS = 5_000;

/**
 * Runs the tasks of one key one at a time across every process: in arrival order within a process (a
 * KeyedQueue, so this process's tasks never contend in Redis), and under a Redis lock on the key
 * (redis-semaphore's Mutex) against the other processes'.
 */
export class RedisSerializer implements Serializer {
  private readonly local = new KeyedQueue();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const mutex = new Mutex(this.redis, `${this.prefix}${key}`, {
        lockTimeout: LOCK_TIMEOUT_MS,
        acquireTimeout: ACQUIRE_TIMEOUT_MS,
        retryInterval: 5,
        onLockLost: (error) => this.logger.error({ err: error, key }, 'lost the lock of a task still running: another process may run the key meanwhile'),
      });
      try {
        await mutex.acquire();
      } catch (error) {
        this.logger.warn({ err: error, key }, 'could not take the lock of a task');
        throw new AppError('UNAVAILABLE', 'The server is busy; try again in a moment');
      }
      try {
        return await task();
      } finally {
        await mutex.release().catch((error: unknown) => this.logger.warn({ err: error, key }, 'could not release the lock of a task; it runs out by itself'));
      }
    });
  }
}
