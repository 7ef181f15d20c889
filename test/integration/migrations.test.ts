import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/shared/logger.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { databaseTargets } from '../support/databases.js';

const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('migrations on PostgreSQL', { skip: postgres.skip }, () => {
  const name = `call_app_migrations_${randomBytes(6).toString('hex')}`;
  const adminUrl = process.env['DATABASE_URL']!;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };

  before(() => admin(`CREATE DATABASE ${name}`));
  after(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  test('two processes starting at once on an empty database apply each migration exactly once', async () => {
    const logger = createLogger({ level: 'silent', pretty: false });
    const open = () => openPostgresStorage({ databaseUrl: url.toString(), dataDir: '/nonexistent', logger });
    const storages = await Promise.all([open(), open(), open()]);
    await Promise.all(storages.map((storage) => storage.close()));

    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    const { rows } = await client.query<{ name: string; count: string }>(
      'select name, count(*) from kysely_migration group by name order by name',
    );
    await client.end();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.equal(row.count, '1', `${row.name} applied once`);
  });
});
