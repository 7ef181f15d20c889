import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';
import type { Config } from './config.js';

const SECRET_FILE = 'jwt-secret';

/**
 * Outside production a missing JWT_SECRET is generated once and kept in DATA_DIR, so tokens survive a
 * restart of a laptop server. (loadConfig already refused a missing secret in production.)
 */
export async function resolveJwtSecret(config: Config, logger: Logger): Promise<string> {
  if (config.jwt.secret) return config.jwt.secret;
  const file = path.join(config.dataDir, SECRET_FILE);
  const kept = await readKept(file);
  if (kept !== undefined && kept.length >= 32) return kept;
  const secret = randomBytes(48).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  // Written aside, then linked in place: processes starting together (cluster workers) all end up
  // with the one secret that was linked first, never a half-written one.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, secret, { mode: 0o600 });
  try {
    if (kept === undefined) await link(draft, file);
    else await rename(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readKept(file))!;
  } finally {
    await rm(draft, { force: true });
  }
  logger.warn({ file }, 'JWT_SECRET is not set: generated a random secret and kept it in DATA_DIR (set JWT_SECRET in production)');
  return secret;
}

/** The kept secret, undefined when there is none. */
async function readKept(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
