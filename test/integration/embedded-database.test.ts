import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { freshPgliteDataDir } from '../support/databases.js';
import { registerUser } from '../support/http.js';
import { childEnv, runCli, spawnServer } from '../support/processes.js';

describe('the embedded database belongs to one process at a time (pglite)', () => {
  test('the CLI refuses to open it under a running server, naming that server, and works once it stops', async () => {
    const dataDir = await freshPgliteDataDir();
    try {
      const server = await spawnServer('pglite', dataDir);
      const owner = await registerUser(server.baseUrl, 'Owner');
      const env = childEnv('pglite', dataDir);
      const refused = await runCli(['user:role', owner.email, 'admin'], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`in use by process ${server.child.pid}`));
      assert.match(refused.stderr, /PATCH \/api\/admin\/users/);

      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
      const promoted = await runCli(['user:role', owner.email, 'admin'], env);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, /role admin/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a lock left by a killed server is taken over by the next one', async () => {
    const dataDir = await freshPgliteDataDir();
    try {
      const killed = await spawnServer('pglite', dataDir);
      killed.child.kill('SIGKILL');
      await killed.exited;
      const next = await spawnServer('pglite', dataDir);
      assert.equal((await fetch(`${next.baseUrl}/health`)).status, 200);
      next.child.kill('SIGTERM');
      assert.equal((await next.exited).code, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
