import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import type { NewMessage, Storage } from '../../src/storage/ports.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { databaseTargets } from '../support/databases.js';

const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

/**
 * Sync against transactions that commit out of order, which only a server with concurrent sessions
 * shows (PGlite runs one statement at a time): a transaction is held open from a second connection.
 */
describe('chat changes on PostgreSQL', { skip: postgres.skip }, () => {
  let storage: Storage;
  let locker: pg.Client;
  before(async () => {
    const databaseUrl = process.env['DATABASE_URL'];
    storage = await openPostgresStorage({ databaseUrl, dataDir: '/nonexistent', logger: createLogger({ level: 'silent', pretty: false }) });
    locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
  });
  after(async () => {
    await locker.end();
    await storage.close();
  });

  const createUser = async () => {
    const user = await storage.users.create({ id: newId(), email: `sync-${newId()}@example.com`, name: 'Sync', passwordHash: 'x', createdAt: new Date() });
    return user!;
  };
  const message = (conversationId: string, senderId: string): NewMessage => ({
    id: newId(),
    conversationId,
    senderId,
    text: 'racing',
    clientMessageId: null,
    createdAt: new Date(),
  });

  test('a change whose transaction began before a cursor was handed out comes after that cursor, and holds back nothing else', async () => {
    const [owner, reader] = [await createUser(), await createUser()];
    const groupId = newId();
    await storage.conversations.createGroup({ id: groupId, title: 'Race', ownerId: owner.id, memberIds: [reader.id], createdAt: new Date() });
    const start = await storage.chatChanges.head();

    // The owner's message is inserted by a transaction that stays open: it has the lower transaction id.
    const slow = message(groupId, owner.id);
    await locker.query('begin');
    await locker.query('insert into messages (id, conversation_id, sender_id, text, created_at) values ($1, $2, $3, $4, $5)', [
      slow.id,
      groupId,
      owner.id,
      slow.text,
      slow.createdAt,
    ]);
    try {
      // A later transaction commits meanwhile, and sync hands out cursors past it.
      const fast = message(groupId, reader.id);
      assert.equal((await storage.messages.create(fast)).outcome, 'stored');
      const headMeanwhile = await storage.chatChanges.head();
      const first = await storage.chatChanges.after(reader.id, start, 100);
      assert.deepEqual(first?.messages.map((m) => m.id), [fast.id], 'the open transaction does not hold back what committed');
      assert.equal(first?.hasMore, false);

      await locker.query('commit');
      const { rows } = await locker.query<{ id: string }>('select id from messages where id = any($1) order by change_xid', [[slow.id, fast.id]]);
      assert.deepEqual(
        rows.map((row) => row.id),
        [slow.id, fast.id],
        'the slow message has the lower transaction id, yet committed last',
      );
      for (const cursor of [first!.cursor, headMeanwhile]) {
        const next = await storage.chatChanges.after(reader.id, cursor, 100);
        assert.deepEqual(next?.messages.map((m) => m.id), [slow.id]);
        assert.deepEqual((await storage.chatChanges.after(reader.id, next!.cursor, 100))?.messages, []);
      }
    } finally {
      await locker.query('rollback').catch(() => undefined);
    }
  });
});
