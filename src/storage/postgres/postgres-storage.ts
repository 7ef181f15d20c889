import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../../shared/logger.js';
import type { Storage } from '../ports.js';
import { createAbuseReportsRepository } from './abuse-reports-repository.js';
import { createAccountEventsRepository } from './account-events-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createBlocksRepository } from './blocks-repository.js';
import { createCallQualityRepository } from './call-quality-repository.js';
import { createCallsRepository } from './calls-repository.js';
import { createGroupCallsRepository } from './group-calls-repository.js';
import { createChatChangesRepository } from './chat-changes-repository.js';
import { createConversationsRepository } from './conversations-repository.js';
import { createDeviceKeysRepository } from './device-keys-repository.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createMediaRepository } from './media-repository.js';
import { createMessagesRepository } from './messages-repository.js';
import { migrateToLatest } from './migrate.js';
import { holdProcessLock, singleProcessLiveness, type ProcessLiveness } from './process-liveness.js';
import { createPushOutboxRepository } from './push-outbox-repository.js';
import { createPushTokensRepository } from './push-tokens-repository.js';
import { PreparingClient } from './prepared-client.js';
import type { Database } from './schema.js';
import { createSessionsRepository } from './sessions-repository.js';
import { createUsersRepository } from './users-repository.js';

export interface PostgresStorageOptions {
  /** A PostgreSQL server; without it the embedded PGlite database in `dataDir` is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  logger: Logger;
}

const BATCH_CONNECTIONS = 4;

/** Opens the database (starting the embedded one if needed), migrates it and returns the storage port. */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const embedded = options.databaseUrl ? undefined : await startEmbeddedPostgres(`${options.dataDir}/pglite`);
  const open = (config: pg.PoolConfig) => {
    const pool = new pg.Pool(config);
    pool.on('error', (error) => options.logger.error({ err: error }, 'idle database connection failed'));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  };
  // PGlite executes one statement at a time whatever the pool size, and a single connection keeps its
  // transactions from interleaving on the multiplexed socket.
  const db = open(embedded ? { ...embedded.connection, max: 1 } : { connectionString: options.databaseUrl, max: 10 });
  let liveness: ProcessLiveness;
  try {
    await migrateToLatest(db, options.logger);
    liveness = options.databaseUrl ? await holdProcessLock(options.databaseUrl, options.logger) : singleProcessLiveness();
  } catch (error) {
    await db.destroy();
    await embedded?.stop();
    throw error;
  }
  // Concurrent message batches: a few in flight keep PostgreSQL's cores busy while one commits; they
  // have connections of their own, whose sessions wait at most 100 ms for a row lock. PGlite runs one
  // statement at a time, on one connection, so nothing else can hold a lock a batch waits for. The batch
  // statement is prepared: planning it took more of PostgreSQL's time than running it.
  const batchDb = embedded ? db : open({ connectionString: options.databaseUrl, max: BATCH_CONNECTIONS, options: '-c lock_timeout=100ms', Client: PreparingClient });
  const messages = createMessagesRepository(db, { batchDb, concurrency: embedded ? 1 : BATCH_CONNECTIONS, logger: options.logger });
  return {
    processes: liveness,
    users: createUsersRepository(db),
    sessions: createSessionsRepository(db),
    pushTokens: createPushTokensRepository(db),
    pushOutbox: createPushOutboxRepository(db),
    messages,
    conversations: createConversationsRepository(db),
    blocks: createBlocksRepository(db),
    abuseReports: createAbuseReportsRepository(db),
    chatChanges: createChatChangesRepository(db),
    calls: createCallsRepository(db, liveness),
    groupCalls: createGroupCallsRepository(db, liveness),
    accountEvents: createAccountEventsRepository(db),
    deviceKeys: createDeviceKeysRepository(db),
    media: createMediaRepository(db),
    audit: createAuditRepository(db),
    callQuality: createCallQualityRepository(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await messages.drain();
      if (batchDb !== db) await batchDb.destroy();
      await liveness.close();
      await db.destroy();
      await embedded?.stop();
    },
  };
}
