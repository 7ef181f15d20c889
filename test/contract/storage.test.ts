import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/shared/logger.js';
import type { Storage } from '../../src/storage/ports.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { openMongoStorage } from '../../src/storage/mongo/mongo-storage.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { databaseTargets, dropMongoDatabaseFor, freshPgliteDataDir, mongoUriFor, type DatabaseKind } from '../support/databases.js';
import { storageContract } from './storage-contract.js';

const logger = createLogger({ level: 'silent', pretty: false });

async function openPglite(): Promise<Storage> {
  const dataDir = await freshPgliteDataDir();
  const storage = await openPostgresStorage({ databaseUrl: undefined, dataDir, logger });
  return {
    ...storage,
    async close() {
      await storage.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A database of its own on DATABASE_URL's server, dropped when the storage closes: the push workers of
 * test apps running beside this suite on the shared database would take the pushes it leaves due.
 */
async function openPostgres(): Promise<Storage> {
  const database = await createScratchDatabase('call_app_contract');
  const storage = await openPostgresStorage({ databaseUrl: database.url, dataDir: '/nonexistent/unused-with-postgres', logger });
  return {
    ...storage,
    async close() {
      await storage.close();
      await database.drop();
    },
  };
}

/** A database of its own on the MongoDB test server, dropped when the storage closes. */
async function openMongo(): Promise<Storage> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-contract-'));
  const storage = await openMongoStorage({ uri: mongoUriFor(dataDir), logger, serverSelectionTimeoutMs: 5000 });
  return {
    ...storage,
    async close() {
      await storage.close();
      await dropMongoDatabaseFor(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const openers = { pglite: openPglite, postgres: openPostgres, mongo: openMongo } satisfies Record<DatabaseKind, () => Promise<Storage>>;

for (const target of databaseTargets()) storageContract(target.kind, openers[target.kind], { skip: target.skip });
