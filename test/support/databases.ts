import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { createLogger } from '../../src/shared/logger.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** Why this target does not run here, for node:test's `skip`; undefined when it runs. */
  skip: string | undefined;
}

const inCi = process.env['CI'] === 'true';

/**
 * The storage backends a test runs against: PGlite always, PostgreSQL when DATABASE_URL is set. In CI a
 * missing DATABASE_URL is an error, not a skip.
 */
export function databaseTargets(): DatabaseTarget[] {
  const url = process.env['DATABASE_URL'];
  if (!url && inCi) throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL tests cannot run');
  return [
    { kind: 'pglite', skip: undefined },
    { kind: 'postgres', skip: url ? undefined : 'DATABASE_URL is not set: PostgreSQL tests skipped' },
  ];
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
  await cp(path.join(template, 'pglite'), path.join(dataDir, 'pglite'), { recursive: true });
  return dataDir;
}

/**
 * A fresh DATA_DIR for an app on `kind`: with PGlite it holds the database; with PostgreSQL it is an
 * empty directory (no database copy to make).
 */
export function freshDataDir(kind: DatabaseKind): Promise<string> {
  return kind === 'pglite' ? freshPgliteDataDir() : mkdtemp(path.join(tmpdir(), 'call-app-test-data-'));
}
