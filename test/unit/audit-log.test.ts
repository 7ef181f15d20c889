import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditEntryRecord, AuditStore } from '../../src/audit/audit-store.js';

/** A logger whose lines are kept, parsed. */
function keptLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'error' }, sink), lines };
}

const client = { ip: '192.0.2.1', userAgent: `x${'y'.repeat(400)}` };

test('an entry gets an id and the time, the client as the request gave it (the User-Agent cut to 300 characters)', async () => {
  const stored: AuditEntryRecord[] = [];
  const store: AuditStore = { append: async (entry) => void stored.push(entry), list: async () => [], deleteOlderThan: async () => 0 };
  const at = new Date('2031-01-01T00:00:00.000Z');
  await new AuditLog({ store, logger: keptLogger().logger, now: () => at }).record('login.failed', { actorId: null, targetUserId: 'u', client, details: { reason: 'wrong_password' } });
  assert.equal(stored.length, 1);
  const [entry] = stored;
  assert.match(entry!.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual({ ...entry, id: '' }, { id: '', at, type: 'login.failed', actorId: null, targetUserId: 'u', ip: '192.0.2.1', userAgent: client.userAgent.slice(0, 300), details: { reason: 'wrong_password' } });
});

test('a write that fails does not fail the action: the whole entry is logged instead', async () => {
  const { logger, lines } = keptLogger();
  const store: AuditStore = { append: () => Promise.reject(new Error('database away')), list: async () => [], deleteOlderThan: async () => 0 };
  await new AuditLog({ store, logger }).record('session.logged_out', { actorId: 'u', targetUserId: 'u', client: null, details: { sessionId: 's' } });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['msg'], 'could not record an audit entry');
  assert.deepEqual((lines[0]!['audit'] as Record<string, unknown>)['details'], { sessionId: 's' });
  assert.equal((lines[0]!['err'] as { message: string }).message, 'database away');
});
