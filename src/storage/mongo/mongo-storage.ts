import { MongoClient } from 'mongodb';
import type { Logger } from '../../shared/logger.js';
import type { Storage } from '../ports.js';
import { createAbuseReportsRepository } from './abuse-reports-repository.js';
import { createAccountEventsRepository } from './account-events-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createCallQualityRepository } from './call-quality-repository.js';
import { createBlocksRepository } from './blocks-repository.js';
import { createCallsRepository } from './calls-repository.js';
import { createChatChangesRepository } from './chat-changes-repository.js';
import { prepareCollections } from './collections-setup.js';
import { createConversationsRepository } from './conversations-repository.js';
import { createDeviceKeysRepository } from './device-keys-repository.js';
import { createGroupCallsRepository } from './group-calls-repository.js';
import { createMediaRepository } from './media-repository.js';
import { createMessagesRepository } from './messages-repository.js';
import { mongoDatabase, type MongoDatabase } from './mongo-database.js';
import { redactUri } from './mongo-uri.js';
import { startHeartbeat } from './process-liveness.js';
import { createPushOutboxRepository } from './push-outbox-repository.js';
import { createPushTokensRepository } from './push-tokens-repository.js';
import { createSessionsRepository } from './sessions-repository.js';
import { createUsersRepository } from './users-repository.js';

export interface MongoStorageOptions {
  /** A MongoDB connection string; the database is the one its path names. */
  uri: string;
  logger: Logger;
  /** How long to look for a server before giving up, at start-up and per operation. */
  serverSelectionTimeoutMs?: number;
}

export class MongoStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MongoStartError';
  }
}

/**
 * Connects (failing within serverSelectionTimeoutMs when no server answers), checks that the server
 * runs multi-document transactions, and prepares the collections. The caller owns the client.
 */
export async function connectMongo(options: Pick<MongoStorageOptions, 'uri' | 'serverSelectionTimeoutMs'>): Promise<MongoDatabase> {
  const where = redactUri(options.uri);
  let client: MongoClient;
  try {
    client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
      readConcern: { level: 'majority' },
      writeConcern: { w: 'majority' },
      appName: 'call-app-backend',
    });
  } catch (error) {
    throw new MongoStartError(`MONGO_URI ${where} is not a valid MongoDB connection string: ${(error as Error).message}`);
  }
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new MongoStartError(`MongoDB at ${where} did not answer within ${options.serverSelectionTimeoutMs ?? 10_000} ms: ${(error as Error).message}`);
  }
  try {
    // Transactions need a replica set member or a mongos: a standalone server has neither a set name nor isdbgrid.
    const hello = await client.db('admin').command({ hello: 1 });
    if (!hello['setName'] && hello['msg'] !== 'isdbgrid') {
      throw new MongoStartError(
        `MongoDB at ${where} is a standalone server: this app needs multi-document transactions, which MongoDB runs only on a replica set (a single-node one is enough: start mongod with --replSet and run rs.initiate()) or a sharded cluster`,
      );
    }
    const mongo = mongoDatabase(client, client.db());
    await prepareCollections(mongo.db);
    return mongo;
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** Opens the MongoDB storage: connection, start-up checks, collections and indexes, this process's heartbeat. */
export async function openMongoStorage(options: MongoStorageOptions): Promise<Storage> {
  const mongo = await connectMongo(options);
  const liveness = await startHeartbeat(mongo, options.logger).catch(async (error: unknown) => {
    await mongo.client.close();
    throw error;
  });
  const messages = createMessagesRepository(mongo, { logger: options.logger });
  return {
    processes: liveness,
    users: createUsersRepository(mongo),
    sessions: createSessionsRepository(mongo),
    pushTokens: createPushTokensRepository(mongo),
    pushOutbox: createPushOutboxRepository(mongo),
    messages,
    conversations: createConversationsRepository(mongo),
    blocks: createBlocksRepository(mongo),
    abuseReports: createAbuseReportsRepository(mongo),
    chatChanges: createChatChangesRepository(mongo),
    calls: createCallsRepository(mongo, liveness),
    groupCalls: createGroupCallsRepository(mongo, liveness),
    accountEvents: createAccountEventsRepository(mongo),
    deviceKeys: createDeviceKeysRepository(mongo),
    media: createMediaRepository(mongo),
    audit: createAuditRepository(mongo),
    callQuality: createCallQualityRepository(mongo),
    async ping() {
      await mongo.db.command({ ping: 1 });
    },
    async close() {
      await messages.drain();
      await liveness.close();
      await mongo.client.close();
    },
  };
}
