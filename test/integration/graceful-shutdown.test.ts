import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { AuthResponse } from '../../src/protocol/auth.js';
import { createLogger } from '../../src/shared/logger.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { databaseTargets, freshDataDir } from '../support/databases.js';
import { PASSWORD, request, uniqueEmail, type HttpResult } from '../support/http.js';
import { childEnv, finished, listeningPort, spawnTs } from '../support/processes.js';

const BURST = 40;

for (const target of databaseTargets()) {
  describe(`graceful shutdown (${target.kind})`, { skip: target.skip }, () => {
    test('SIGTERM during a burst of registrations: exit code 0 and every 2xx account is stored', async () => {
      const dataDir = await freshDataDir(target.kind);
      try {
        const child = spawnTs('src/main.ts', [], childEnv(target.kind, dataDir, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }));
        const exited = finished(child);
        const baseUrl = `http://127.0.0.1:${await listeningPort(child)}`;

        // SIGTERM as soon as the first registration succeeds, while the others are still in flight.
        let settled = 0;
        let settledAtSignal: number | undefined;
        const attempts = Array.from({ length: BURST }, async () => {
          const email = uniqueEmail('burst');
          const result = await request<AuthResponse>(baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Burst' } }).catch(
            (error: unknown) => error as Error,
          );
          settled++;
          if (settledAtSignal === undefined && !(result instanceof Error) && result.status === 201) {
            settledAtSignal = settled;
            child.kill('SIGTERM');
          }
          return { email, result };
        });
        const outcomes = await Promise.all(attempts);
        const lastAnswer = performance.now();
        const exit = await exited;

        assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
        // Idle keep-alive connections must not hold the shutdown up until their timeout (~5 s).
        const lingered = performance.now() - lastAnswer;
        assert.ok(lingered < 2000, `the process took ${Math.round(lingered)} ms to exit after the last answer`);
        assert.ok(settledAtSignal !== undefined, 'no registration succeeded');
        assert.ok(settledAtSignal < BURST, 'SIGTERM came after the burst had finished: nothing was in flight');
        const responses = outcomes.filter((outcome): outcome is { email: string; result: HttpResult<AuthResponse> } => !(outcome.result instanceof Error));
        for (const { result } of responses) assert.ok(result.status < 500, `an in-flight request failed: ${result.status} ${JSON.stringify(result.body)}`);
        const stored = responses.filter(({ result }) => result.status >= 200 && result.status < 300);
        assert.ok(stored.length >= settledAtSignal, 'requests in flight at SIGTERM were answered');

        const storage = await openPostgresStorage({
          databaseUrl: target.kind === 'postgres' ? process.env['DATABASE_URL'] : undefined,
          dataDir,
          logger: createLogger({ level: 'silent', pretty: false }),
        });
        try {
          for (const { email, result } of stored) {
            assert.equal((await storage.users.findByEmail(email))?.id, result.body.user.id, `${email} answered 201 but is not stored`);
          }
        } finally {
          await storage.close();
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}
