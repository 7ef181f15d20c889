import { rm } from 'node:fs/promises';
import { createLogger } from '../../src/shared/logger.js';
import type { Storage } from '../../src/storage/ports.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { databaseTargets, freshPgliteDataDir } from '../support/databases.js';
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

function openPostgres(): Promise<Storage> {
  return openPostgresStorage({ databaseUrl: process.env['DATABASE_URL'], dataDir: '/nonexistent/unused-with-postgres', logger });
}

for (const target of databaseTargets()) {
  storageContract(target.kind, target.kind === 'pglite' ? openPglite : openPostgres, { skip: target.skip });
}

// There is no MongoDB adapter yet: with MONGO_URI set this must show as skipped, never as passed.
storageContract('mongodb', () => Promise.reject(new Error('no MongoDB adapter yet')), {
  skip: process.env['MONGO_URI'] ? 'no MongoDB adapter yet' : 'MONGO_URI is not set: MongoDB tests skipped',
});
