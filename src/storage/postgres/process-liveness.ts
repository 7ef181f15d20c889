import pg from 'pg';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';

import type { ProcessLiveness as PortLiveness } from '../ports.js';

export interface ProcessLiveness extends PortLiveness {
  close(): Promise<void>;
}

/** The embedded database opens in one process at a time: every identity but ours belongs to a stopped process. */
export function singleProcessLiveness(): ProcessLiveness {
  const id = newId();
  return {
    id,
    gone: async (ids) => ids.filter((other) => other !== id),
    close: async () => undefined,
  };
}

const LOCK_KEY = `hashtextextended('call-app-process:' || $1, 0)`;

/**
 * On PostgreSQL each process holds a session advisory lock on its id, on a connection of its own, for as
 * long as it lives. PostgreSQL drops the lock when that connection closes (the process exited or was
 * killed), so a lock another process can take belongs to a process that is gone.
 */
export async function holdProcessLock(databaseUrl: string, logger: Logger): Promise<ProcessLiveness> {
  const id = newId();
  const client = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
  client.on('error', (error) =>
    logger.error({ err: error }, 'lost the connection that holds this process lock: other processes may take it for dead'),
  );
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(${LOCK_KEY})`, [id]);
  } catch (error) {
    await client.end();
    throw error;
  }
  return {
    id,
    async gone(ids) {
      const dead: string[] = [];
      for (const other of ids) {
        if (other === id) continue;
        const { rows } = await client.query<{ free: boolean }>(`select pg_try_advisory_lock(${LOCK_KEY}) as free`, [other]);
        if (!rows[0]?.free) continue;
        dead.push(other);
        await client.query(`select pg_advisory_unlock(${LOCK_KEY})`, [other]);
      }
      return dead;
    },
    close: () => client.end(),
  };
}
