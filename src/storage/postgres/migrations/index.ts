import type { Migration, MigrationProvider } from 'kysely';
import * as accounts from './0001-accounts.js';

/** Every migration, in order. Names sort in the order they must run; never rename or edit a shipped one. */
const migrations: Record<string, Migration> = {
  '0001-accounts': accounts,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
