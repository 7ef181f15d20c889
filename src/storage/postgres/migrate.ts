import { Migrator, type Kysely } from 'kysely';
import type { Logger } from '../../shared/logger.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

/**
 * Brings the schema up to date. Kysely's PostgreSQL migrator holds an advisory lock for the whole run,
 * so two processes starting at once apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<Database>, logger: Logger): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === 'Success') logger.info({ migration: result.migrationName }, 'applied migration');
    if (result.status === 'Error') logger.error({ migration: result.migrationName }, 'migration failed');
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
