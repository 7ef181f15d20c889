import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { CallEndedEvent } from '../../src/protocol/call-events.js';
import { acceptedCall, ANSWER, callEvent, callEventOk, callUser, device, ringingCall, storedCall, until, type CallUser } from '../support/calls.js';
import { databaseTargets, freshDataDir } from '../support/databases.js';
import { childEnv, finished, listeningPort, spawnTs } from '../support/processes.js';
import { closeAllSockets, nextEvent } from '../support/sockets.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { startTestApp } from '../support/test-app.js';

/** Both parties' view of a call after the restart: failed, server_restart, with the times that apply. */
async function assertFailedByRestart(baseUrl: string, parties: CallUser[], callId: string, answered: boolean): Promise<void> {
  for (const party of parties) {
    const call = await storedCall(baseUrl, party.tokens[0]!, callId);
    assert.deepEqual([call.status, call.endReason], ['failed', 'server_restart']);
    assert.ok(call.endedAt);
    if (answered) {
      assert.ok(call.answeredAt);
      assert.equal(call.durationSeconds, Math.floor((Date.parse(call.endedAt) - Date.parse(call.answeredAt)) / 1000));
    } else {
      assert.deepEqual([call.answeredAt, call.durationSeconds], [null, null]);
    }
  }
}

for (const target of databaseTargets()) {
  describe(`calls across a server restart (${target.kind})`, { skip: target.skip }, () => {
    test('a killed server leaves its calls failed/server_restart, closed by the next one at start-up', async () => {
      const dataDir = await freshDataDir(target.kind);
      const child = spawnTs('src/main.ts', [], childEnv(target.kind, dataDir, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }));
      const exited = finished(child);
      try {
        const baseUrl = `http://127.0.0.1:${await listeningPort(child)}`;
        const [alice, bob, carol, dave] = await Promise.all(['Alice', 'Bob', 'Carol', 'Dave'].map((name) => callUser(baseUrl, name)));
        const talking = await acceptedCall(alice!, bob!);
        const ringing = await ringingCall(carol!, dave!);
        closeAllSockets();
        child.kill('SIGKILL');
        assert.equal((await exited).signal, 'SIGKILL');

        const next = await startTestApp(target.kind, {}, { dataDir });
        try {
          await assertFailedByRestart(next.baseUrl, [alice!, bob!], talking.id, true);
          await assertFailedByRestart(next.baseUrl, [carol!, dave!], ringing.id, false);
        } finally {
          await next.stop();
        }
      } finally {
        child.kill('SIGKILL');
        await exited;
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    test('a server that stops ends its calls first and tells both parties', async () => {
      const dataDir = await freshDataDir(target.kind);
      try {
        const server = await startTestApp(target.kind, {}, { dataDir });
        const alice = await callUser(server.baseUrl, 'Alice');
        const bob = await callUser(server.baseUrl, 'Bob');
        const { id } = await acceptedCall(alice, bob);
        const told = [alice, bob].map((user) => nextEvent<CallEndedEvent>(device(user), 'CALL_ENDED'));
        await server.stop();
        for (const ended of await Promise.all(told)) assert.deepEqual(ended, { callId: id, reason: 'server_restart' });
        closeAllSockets();

        const next = await startTestApp(target.kind, {}, { dataDir });
        try {
          await assertFailedByRestart(next.baseUrl, [alice, bob], id, true);
        } finally {
          await next.stop();
        }
      } finally {
        closeAllSockets();
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    if (target.kind === 'postgres') {
      test('a call requested as the server stops is ended too, both told, never left ringing (PostgreSQL: a lock holds the request)', async () => {
        // The lock would hold up every other suite on a shared database.
        const scratch = await createScratchDatabase('call_app_test');
        const server = await startTestApp(target.kind, { DATABASE_URL: scratch.url });
        const db = new pg.Client({ connectionString: server.config.databaseUrl });
        await db.connect();
        try {
          const alice = await callUser(server.baseUrl, 'Alice');
          const bob = await callUser(server.baseUrl, 'Bob');
          // The request is under way (past the shutdown check) but cannot read its parties yet.
          await db.query('BEGIN');
          await db.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
          const acked = callEvent(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' }).catch((error: Error) => error);
          await until('the request waits for the lock', async () => {
            const waiting = await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%from "users"%'`);
            return waiting.rowCount! > 0;
          });
          const rang = nextEvent(device(bob), 'CALL_REQUEST');
          const told = [alice, bob].map((user) => nextEvent<CallEndedEvent>(device(user), 'CALL_ENDED'));
          const stopped = server.stop();
          await db.query('COMMIT');
          await stopped;

          const { rows } = await db.query('SELECT status, end_reason FROM calls WHERE caller_id = $1', [alice.id]);
          assert.deepEqual(rows, [{ status: 'failed', end_reason: 'server_restart' }]);
          const ack = await acked;
          assert.ok(!(ack instanceof Error) && ack.ok && ack.call.status === 'ringing', String(ack instanceof Error ? ack : JSON.stringify(ack)));
          await rang;
          for (const ended of await Promise.all(told)) assert.deepEqual(ended, { callId: ack.call.id, reason: 'server_restart' });
        } finally {
          closeAllSockets();
          await db.end();
          await server.stop();
          await scratch.drop();
        }
      });

      test('a server starting on the same database leaves the calls of a running one alone', async () => {
        const first = await startTestApp(target.kind);
        try {
          const alice = await callUser(first.baseUrl, 'Alice');
          const bob = await callUser(first.baseUrl, 'Bob');
          const { id } = await ringingCall(alice, bob);
          const second = await startTestApp(target.kind);
          await second.stop();
          const call = await callEventOk(device(bob), 'CALL_ACCEPT', { callId: id, answer: ANSWER });
          assert.equal(call.status, 'accepted');
          await callEventOk(device(bob), 'CALL_ENDED', { callId: id });
        } finally {
          closeAllSockets();
          await first.stop();
        }
      });
    }
  });
}
