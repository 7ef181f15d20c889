import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { createLogger } from '../../src/shared/logger.js';

const execFileAsync = promisify(execFile);

export type DatabaseKind = 'pglite' | 'postgres' | 'mongo';

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** Why this target does not run here, for node:test's `skip`; undefined when it runs. */
  skip: string | undefined;
}

const inCi = process.env['CI'] === 'true';

/** The MongoDB server tests may use: TEST_MONGO_URI, else MONGO_URI. */
export const testMongoUri = (): string | undefined => process.env['TEST_MONGO_URI'] || process.env['MONGO_URI'] || undefined;

/**
 * The storage backends a test runs against: PGlite always, PostgreSQL when DATABASE_URL is set, MongoDB
 * when TEST_MONGO_URI (or MONGO_URI) is. In CI a missing DATABASE_URL is an error, not a skip (no MongoDB
 * server runs there).
 */
export function databaseTargets(): DatabaseTarget[] {
  const url = process.env['DATABASE_URL'];
  if (!url && inCi) throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL tests cannot run');
  return [
    { kind: 'pglite', skip: undefined },
    { kind: 'postgres', skip: url ? undefined : 'DATABASE_URL is not set: PostgreSQL tests skipped' },
    { kind: 'mongo', skip: testMongoUri() ? undefined : 'TEST_MONGO_URI (or MONGO_URI) is not set: MongoDB tests skipped' },
  ];
}

/** The skip of a test that looks inside the PostgreSQL tables, on `kind`. */
export const onlyWithTables = (kind: DatabaseKind) => (kind === 'mongo' ? 'reads the PostgreSQL tables directly: not on MongoDB' : undefined);

/** The PostgreSQL targets only: for suites that look inside the PostgreSQL schema or open its adapter themselves. */
export const postgresTargets = (): DatabaseTarget[] => databaseTargets().filter((target) => target.kind !== 'mongo');

/**
 * MONGO_URI for the app whose DATA_DIR is `dataDir`: the test server with a database of that app's own,
 * named after the data dir (so an app restarted on the same data dir finds its data, as on PGlite).
 * With credentials and no authSource, they keep authenticating against the database the URI named.
 */
export function mongoUriFor(dataDir: string): string {
  const uri = testMongoUri();
  if (!uri) throw new Error('TEST_MONGO_URI (or MONGO_URI) is not set');
  const match = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(uri);
  if (!match) throw new Error('TEST_MONGO_URI is not a mongodb:// connection string');
  const [, scheme, hosts, database, query] = match as unknown as [string, string, string, string | undefined, string | undefined];
  const params = new URLSearchParams(query ?? '');
  if (hosts.includes('@') && !params.has('authSource')) params.set('authSource', database || 'admin');
  const name = `call_app_test_${path.basename(dataDir).replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60);
  const rest = params.toString();
  return `${scheme}${hosts}/${name}${rest ? `?${rest}` : ''}`;
}

/** Drops the MongoDB database of the app whose DATA_DIR was `dataDir`. */
export async function dropMongoDatabaseFor(dataDir: string): Promise<void> {
  const client = new MongoClient(mongoUriFor(dataDir), { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}

const MIGRATIONS_DIR = new URL('../../src/storage/postgres/migrations/', import.meta.url);

/**
 * A fresh PGlite data directory with the schema already migrated. Creating a PGlite cluster takes
 * seconds, so one migrated template per schema version is made once and copied for each test app.
 */
export async function freshPgliteDataDir(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) hash.update(file).update(await readFile(new URL(file, MIGRATIONS_DIR)));
  const template = path.join(tmpdir(), `call-app-test-pglite-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(template)) {
    const building = await mkdtemp(path.join(tmpdir(), 'call-app-test-pglite-build-'));
    const storage = await openPostgresStorage({ databaseUrl: undefined, dataDir: building, logger: createLogger({ level: 'silent', pretty: false }) });
    await storage.close();
    // Another test process may have won the race: its template is as good as ours.
    await rename(building, template).catch(() => rm(building, { recursive: true, force: true }));
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-test-data-'));
  // cp(1): node's fs.cp takes ~10x as long for the template's thousand files.
  await execFileAsync('cp', ['-R', path.join(template, 'pglite'), path.join(dataDir, 'pglite')]);
  return dataDir;
}

/**
 * A fresh DATA_DIR for an app on `kind`: with PGlite it holds the database; with PostgreSQL or MongoDB
 * it is an empty directory (no database copy to make).
 */
export function freshDataDir(kind: DatabaseKind): Promise<string> {
  return kind === 'pglite' ? freshPgliteDataDir() : mkdtemp(path.join(tmpdir(), 'call-app-test-data-'));
}
