import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import { createLogger } from '../../src/shared/logger.js';

const logger = createLogger({ level: 'silent', pretty: false });

test('processes starting together on a fresh DATA_DIR all take the one secret kept there; a kept one too short is replaced', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-jwt-secret-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir });
    const secrets = await Promise.all(Array.from({ length: 20 }, () => resolveJwtSecret(config, logger)));
    assert.equal(new Set(secrets).size, 1, 'one secret for all');
    assert.equal((await readFile(path.join(dataDir, 'jwt-secret'), 'utf8')).trim(), secrets[0]);
    assert.deepEqual(await readdir(dataDir), ['jwt-secret'], 'no draft left behind');
    assert.equal(await resolveJwtSecret(config, logger), secrets[0], 'kept across restarts');

    await writeFile(path.join(dataDir, 'jwt-secret'), 'short');
    const replaced = await resolveJwtSecret(config, logger);
    assert.ok(replaced.length >= 32);
    assert.equal((await readFile(path.join(dataDir, 'jwt-secret'), 'utf8')).trim(), replaced);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
