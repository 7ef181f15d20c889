/**
 * Copies all data from one database to another, between any two backends:
 *   npm run migrate:copy -- --from <url or DATA_DIR> --to <url or DATA_DIR> [--state <file>]
 * A URL is postgres://... or mongodb://...; anything else is a DATA_DIR with its embedded database.
 * Stop the servers on both first. Resumable: run the same command again after an interruption.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createLogger } from './shared/logger.js';
import { copyData } from './storage/copy/copy-data.js';

const usage = 'usage: npm run migrate:copy -- --from <postgres://...|mongodb://...|DATA_DIR> --to <postgres://...|mongodb://...|DATA_DIR> [--state <file>]';

let args;
try {
  args = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, state: { type: 'string' } }, strict: true }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (!args.from || !args.to) {
  console.error(usage);
  process.exit(2);
}
const statePath = args.state ?? `migrate-copy-${createHash('sha256').update(`${args.from}\n${args.to}`).digest('hex').slice(0, 12)}.state.json`;
const logger = createLogger({ level: 'info', pretty: process.stdout.isTTY });
try {
  const counts = await copyData({ from: args.from, to: args.to, statePath, logger });
  await rm(statePath, { force: true });
  console.log(`copied and verified: ${Object.entries(counts).map(([table, rows]) => `${table} ${rows}`).join(', ')}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  console.error(`where the copy stands is kept in ${statePath}: run the same command again to go on`);
  process.exitCode = 1;
}
