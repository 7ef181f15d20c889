import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/shared/logger.js';
import { migrationProvider } from '../../src/storage/postgres/migrations/index.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { databaseTargets } from '../support/databases.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('migrations on PostgreSQL', { skip: postgres.skip }, () => {
  let database: ScratchDatabase;
  before(async () => {
    database = await createScratchDatabase('call_app_migrations');
  });
  after(() => database.drop());

  test('processes starting at once on an empty database apply each migration exactly once', async () => {
    const logger = createLogger({ level: 'silent', pretty: false });
    const open = () => openPostgresStorage({ databaseUrl: database.url, dataDir: '/nonexistent', logger });
    const storages = await Promise.all([open(), open(), open()]);
    await Promise.all(storages.map((storage) => storage.close()));

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ name: string; count: string }>(
      'select name, count(*) from kysely_migration group by name order by name',
    );
    await client.end();
    assert.deepEqual(
      rows.map((row) => row.name),
      Object.keys(await migrationProvider.getMigrations()).sort(),
    );
    for (const row of rows) assert.equal(row.count, '1', `${row.name} applied once`);
  });
});
