import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../../shared/logger.js';
import { redactUri } from '../mongo/mongo-uri.js';
import { openMongoEndpoint } from './mongo-endpoint.js';
import { openPostgresEndpoint } from './postgres-endpoint.js';
import { COPIED_TABLES, type CopyEndpoint } from './tables.js';

const BATCH = 500;

/** Where a copy stands: per table, the last key copied and whether it is done. Saved after every batch. */
interface CopyState {
  from: string;
  to: string;
  tables: Record<string, { after: unknown[] | null; done: boolean; copied: number }>;
}

export class CopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyError';
  }
}

/** postgres:// and postgresql:// are PostgreSQL, mongodb:// and mongodb+srv:// MongoDB, anything else a DATA_DIR with its embedded database. */
export function openEndpoint(location: string, logger: Logger): Promise<CopyEndpoint> {
  if (/^postgres(ql)?:\/\//.test(location)) return openPostgresEndpoint({ databaseUrl: location }, location.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'), logger);
  if (/^mongodb(\+srv)?:\/\//.test(location)) return openMongoEndpoint(location, redactUri(location));
  return openPostgresEndpoint({ dataDir: location }, `${location} (embedded)`, logger);
}

/**
 * Copies every table from one database to another, in batches of 500 in key order, saving after each
 * batch where it stands in `statePath`. Run again after an interruption, it goes on from there (the
 * batch in flight is written again; what is there already stays). Without a state, the target must be
 * empty. At the end the rows of every table are counted on both sides; any difference fails the copy.
 */
export async function copyData(options: { from: string; to: string; statePath: string; logger: Logger }): Promise<Record<string, number>> {
  const { logger, statePath } = options;
  const resuming = existsSync(statePath);
  const source = await openEndpoint(options.from, logger);
  let target: CopyEndpoint | undefined;
  try {
    target = await openEndpoint(options.to, logger);
    const state: CopyState = resuming
      ? (JSON.parse(await readFile(statePath, 'utf8')) as CopyState)
      : { from: source.name, to: target.name, tables: {} };
    if (resuming && (state.from !== source.name || state.to !== target.name)) {
      throw new CopyError(`${statePath} belongs to a copy from ${state.from} to ${state.to}: give that pair, or another --state`);
    }
    if (!resuming) {
      for (const table of COPIED_TABLES) {
        if ((await target.count(table)) > 0) throw new CopyError(`the target ${target.name} already holds ${table.name}: copy into an empty database`);
      }
    }
    const save = async () => {
      await writeFile(`${statePath}.tmp`, JSON.stringify(state, null, 2));
      await rename(`${statePath}.tmp`, statePath);
    };
    for (const table of COPIED_TABLES) {
      const progress = (state.tables[table.name] ??= { after: null, done: false, copied: 0 });
      while (!progress.done) {
        const { rows, last } = await source.read(table, progress.after, BATCH);
        if (rows.length === 0) progress.done = true;
        else {
          await target.write(table, rows);
          progress.copied += rows.length;
          progress.after = last;
        }
        await save();
      }
      logger.info({ table: table.name, rows: progress.copied }, 'copied');
    }
    const counts: Record<string, number> = {};
    const mismatches: string[] = [];
    for (const table of COPIED_TABLES) {
      const [from, to] = await Promise.all([source.count(table), target.count(table)]);
      counts[table.name] = to;
      if (from !== to) mismatches.push(`${table.name}: ${from} in the source, ${to} in the target`);
    }
    if (mismatches.length > 0) throw new CopyError(`the copy does not match the source:\n  ${mismatches.join('\n  ')}`);
    return counts;
  } finally {
    await target?.close();
    await source.close();
  }
}
