import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept.length >= 32) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(48).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  logger.warn({ file }, 'JWT_SECRET is not set: generated a random secret and kept it in DATA_DIR (set JWT_SECRET in production)');
  return secret;
}
