import type { Config } from '../config/config.js';
import type { Logger } from '../shared/logger.js';
import { openMongoStorage } from './mongo/mongo-storage.js';
import type { Storage } from './ports.js';
import { openPostgresStorage } from './postgres/postgres-storage.js';

/** The storage the configuration names: MongoDB with MONGO_URI, else PostgreSQL (DATABASE_URL) or the embedded PGlite. */
export function openStorage(config: Config, logger: Logger): Promise<Storage> {
  if (config.mongo) return openMongoStorage({ uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger });
  return openPostgresStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
}
