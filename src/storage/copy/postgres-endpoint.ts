import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../../shared/logger.js';
import { startEmbeddedPostgres } from '../postgres/embedded-postgres.js';
import { migrateToLatest } from '../postgres/migrate.js';
import type { Database } from '../postgres/schema.js';
import type { CopyEndpoint, Row } from './tables.js';

/** The change position columns: never copied, the target's defaults set them (see tables.ts). */
const CHANGE_POSITION = new Set(['change_xid', 'change_pos']);

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A value as jsonb_populate_recordset reads it back into its column: bytea as its hex text form. */
const toJson = (row: Row) =>
  Object.fromEntries(Object.entries(row).map(([column, value]) => [column, Buffer.isBuffer(value) || value instanceof Uint8Array ? `\\x${Buffer.from(value).toString('hex')}` : value]));

/**
 * PostgreSQL at a postgres:// URL, or the embedded PGlite database of a DATA_DIR, migrated to the
 * current schema first (as the server would at start-up).
 */
export async function openPostgresEndpoint(location: { databaseUrl: string } | { dataDir: string }, name: string, logger: Logger): Promise<CopyEndpoint> {
  const embedded = 'dataDir' in location ? await startEmbeddedPostgres(`${location.dataDir}/pglite`) : undefined;
  const pool = new pg.Pool(embedded ? { ...embedded.connection, max: 1 } : { connectionString: (location as { databaseUrl: string }).databaseUrl, max: 2 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db, logger);
  } catch (error) {
    await db.destroy();
    await embedded?.stop();
    throw error;
  }
  const columnsOf = new Map<string, string[]>();
  const columns = async (table: string) => {
    if (!columnsOf.has(table)) {
      const { rows } = await pool.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`,
        [table],
      );
      columnsOf.set(table, rows.map((row) => row.column_name).filter((column) => !CHANGE_POSITION.has(column)));
    }
    return columnsOf.get(table)!;
  };
  return {
    name,
    async read(table, after, limit) {
      const key = table.key.map(ident).join(', ');
      const where = after ? `where (${key}) > (${table.key.map((_, index) => `$${index + 1}`).join(', ')})` : '';
      const { rows } = await pool.query<Row>(`select * from ${ident(table.name)} ${where} order by ${key} limit ${Number(limit)}`, after ?? []);
      for (const row of rows) for (const column of CHANGE_POSITION) delete row[column];
      const last = rows.at(-1);
      return { rows, last: last ? table.key.map((column) => last[column]) : after };
    },
    async write(table, rows) {
      if (rows.length === 0) return;
      const list = (await columns(table.name)).map(ident).join(', ');
      await pool.query(
        `insert into ${ident(table.name)} (${list}) select ${list} from jsonb_populate_recordset(null::${ident(table.name)}, $1::jsonb) on conflict do nothing`,
        [JSON.stringify(rows.map(toJson))],
      );
    },
    async count(table) {
      const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(table.name)}`.execute(db);
      return Number(rows[0]!.n);
    },
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
