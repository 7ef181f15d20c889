import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** How long start-up waits for Redis before it gives up. */
const CONNECT_TIMEOUT_MS = 10_000;
/** While Redis is away, one error line per this period per connection, not one per reconnect attempt. */
const ERROR_LOG_EVERY_MS = 10_000;

/** `url` without its password, for messages. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * A connection to Redis that reconnects for as long as the process runs (commands sent meanwhile wait
 * briefly, then fail, so a caller is never held for long). Resolves once connected; start-up fails with
 * a message naming the server when it cannot be reached in time.
 *
 * `commandTimeoutMs` bounds every command, also one waiting for the connection to come back (without
 * it, a command waits for two more reconnection attempts, seconds apart once Redis has been away a
 * while). Not for a connection that sends blocking reads (the Socket.io adapter's, whose copies would
 * inherit it).
 */
export async function connectRedis(url: string, logger: Logger, role: string, options: { commandTimeoutMs?: number } = {}): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: `call-app:${role}`,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 2,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  });
  let lastLogged = 0;
  client.on('error', (error) => {
    if (Date.now() - lastLogged < ERROR_LOG_EVERY_MS) return;
    lastLogged = Date.now();
    logger.warn({ err: error, role }, 'Redis connection error; reconnecting');
  });
  client.on('ready', () => {
    if (lastLogged > 0) logger.info({ role }, 'Redis connection is back');
    lastLogged = 0;
  });
  const timeout = setTimeout(() => client.disconnect(), CONNECT_TIMEOUT_MS);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at ${redactedUrl(url)}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timeout);
  }
  return client;
}
