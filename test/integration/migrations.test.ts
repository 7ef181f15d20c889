import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import type { Storage } from '../../src/storage/ports.js';
import { startEmbeddedPostgres } from '../../src/storage/postgres/embedded-postgres.js';
import { migrationProvider } from '../../src/storage/postgres/migrations/index.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { storedAs } from '../support/chat.js';
import { databaseTargets, type DatabaseKind } from '../support/databases.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('migrations on PostgreSQL', { skip: postgres.skip }, () => {
  let database: ScratchDatabase;
  before(async () => {
    database = await createScratchDatabase('call_app_migrations');
  });
  after(() => database.drop());

  test('processes starting at once on an empty database apply each migration exactly once', async () => {
    const open = () => openPostgresStorage({ databaseUrl: database.url, dataDir: '/nonexistent', logger });
    const storages = await Promise.all([open(), open(), open()]);
    await Promise.all(storages.map((storage) => storage.close()));

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ name: string; count: string }>(
      'select name, count(*) from kysely_migration group by name order by name',
    );
    await client.end();
    assert.deepEqual(
      rows.map((row) => row.name),
      Object.keys(await migrationProvider.getMigrations()).sort(),
    );
    for (const row of rows) assert.equal(row.count, '1', `${row.name} applied once`);
  });
});

/** A database before the conversation model (schema 0008) and the storage opened on it afterwards. */
interface LegacyDatabase {
  /** A connection to the database as it is now. */
  connect(): Promise<{ db: Kysely<any>; close(): Promise<void> }>;
  /** The storage port, after migrating to the latest schema. */
  open(): Promise<Storage>;
  remove(): Promise<void>;
}

const logger = createLogger({ level: 'silent', pretty: false });

async function legacyDatabase(kind: DatabaseKind): Promise<LegacyDatabase> {
  const connectTo = (pool: pg.Pool) => new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  if (kind === 'postgres') {
    const database = await createScratchDatabase('call_app_conversations');
    return {
      async connect() {
        const db = connectTo(new pg.Pool({ connectionString: database.url, max: 1 }));
        return { db, close: () => db.destroy() };
      },
      open: () => openPostgresStorage({ databaseUrl: database.url, dataDir: '/nonexistent', logger }),
      remove: () => database.drop(),
    };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-test-legacy-'));
  return {
    async connect() {
      const embedded = await startEmbeddedPostgres(path.join(dataDir, 'pglite'));
      const db = connectTo(new pg.Pool({ ...embedded.connection, max: 1 }));
      return {
        db,
        async close() {
          await db.destroy();
          await embedded.stop();
        },
      };
    },
    open: () => openPostgresStorage({ databaseUrl: undefined, dataDir, logger }),
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}

for (const target of databaseTargets()) {
  describe(`the conversation model migration on ${target.kind}`, { skip: target.skip }, () => {
    let legacy: LegacyDatabase;
    before(async () => {
      legacy = await legacyDatabase(target.kind);
    });
    after(() => legacy?.remove());

    test('existing 1:1 messages become direct conversations with members, read positions and contacts', async () => {
      const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 10, minute));
      const [alice, bob, carol, dave] = ['Alice', 'Bob', 'Carol', 'Dave'].map((name) => ({ id: newId(), name }));
      // Alice and Bob: both wrote, each read some; Carol wrote to Alice, who never answered.
      const m = (sender: typeof alice, recipient: typeof alice, minute: number, receipts: { delivered?: number; read?: number } = {}) => ({
        id: newId(),
        sender_id: sender!.id,
        recipient_id: recipient!.id,
        low_user_id: sender!.id < recipient!.id ? sender!.id : recipient!.id,
        high_user_id: sender!.id < recipient!.id ? recipient!.id : sender!.id,
        text: `at ${minute}`,
        client_message_id: `c${minute}`,
        created_at: at(minute),
        delivered_at: receipts.delivered === undefined ? null : at(receipts.delivered),
        read_at: receipts.read === undefined ? null : at(receipts.read),
      });
      const toBob1 = m(alice, bob, 1, { delivered: 2, read: 3 });
      const toAlice = m(bob, alice, 4, { read: 5 });
      const toBob2 = m(alice, bob, 6, { delivered: 7 });
      const toBob3 = m(alice, bob, 8);
      const fromCarol = m(carol, alice, 9);
      const legacyMessages = [toBob1, toAlice, toBob2, toBob3, fromCarol];

      const before = await legacy.connect();
      try {
        await new Migrator({ db: before.db, provider: migrationProvider }).migrateTo('0008-push-outbox');
        await before.db
          .insertInto('users')
          .values([alice, bob, carol, dave].map((user) => ({ ...user, email: `${user!.id}@example.com`, password_hash: 'x', created_at: at(0) })))
          .execute();
        // As the 1:1 adapter wrote them: stream positions per party, one conversation row per user and peer.
        const seq = new Map<string, number>();
        const next = (userId: string) => {
          seq.set(userId, (seq.get(userId) ?? 0) + 1);
          return seq.get(userId)!;
        };
        await before.db
          .insertInto('messages')
          .values(legacyMessages.map((message) => ({ ...message, sender_seq: next(message.sender_id), recipient_seq: next(message.recipient_id) })))
          .execute();
        await before.db
          .insertInto('conversations')
          .values([
            { owner_id: alice!.id, peer_id: bob!.id, last_message_id: toBob3.id, peer_has_written: true },
            { owner_id: bob!.id, peer_id: alice!.id, last_message_id: toBob3.id, peer_has_written: true },
            { owner_id: alice!.id, peer_id: carol!.id, last_message_id: fromCarol.id, peer_has_written: true },
            { owner_id: carol!.id, peer_id: alice!.id, last_message_id: fromCarol.id, peer_has_written: false },
          ])
          .execute();
        await before.db
          .insertInto('chat_streams')
          .values([...seq].map(([user_id, last]) => ({ user_id, seq: last })))
          .execute();
      } finally {
        await before.close();
      }

      const storage = await legacy.open();
      try {
        const stored = (message: typeof toBob1, conversationId: string) => ({
          id: message.id,
          conversationId,
          senderId: message.sender_id,
          recipientId: message.recipient_id,
          text: message.text,
          clientMessageId: message.client_message_id,
          createdAt: message.created_at,
          deliveredAt: message.delivered_at,
          readAt: message.read_at,
          editedAt: null,
          deletedAt: null,
          deletedBy: null,
          replyTo: null,
          reactions: [],
          revision: 0,
        });
        const pair = await storage.conversations.findDirect(bob!.id, alice!.id);
        const fromCarolId = await storage.conversations.findDirect(alice!.id, carol!.id);
        assert.ok(pair && fromCarolId);
        assert.equal(await storage.conversations.findDirect(alice!.id, dave!.id), null);
        // Time-ordered ids: a conversation's id starts with its first message's time.
        assert.equal(pair.slice(0, 18), toBob1.id.slice(0, 18));
        assert.match(pair, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

        const member = (user: typeof alice, read: typeof toBob1 | null) => ({
          userId: user!.id,
          name: user!.name,
          role: 'member',
          joinedAt: at(1),
          lastReadMessageId: read?.id ?? null,
          lastReadAt: read?.read_at ?? null,
        });
        assert.deepEqual(await storage.conversations.find(pair), {
          id: pair,
          type: 'direct',
          title: null,
          createdAt: at(1),
          memberCount: 2,
          members: [member(alice, toAlice), member(bob, toBob1)].sort((a, b) => (a.userId < b.userId ? -1 : 1)),
          lastMessage: stored(toBob3, pair),
        });
        assert.deepEqual(
          await storage.messages.history(pair, { limit: 10 }),
          [toBob3, toBob2, toAlice, toBob1].map((message) => stored(message, pair)),
        );
        assert.deepEqual(await storage.messages.history(fromCarolId, { limit: 10 }), [stored(fromCarol, fromCarolId)]);
        assert.deepEqual(
          (await storage.conversations.listForMember(alice!.id, { limit: 10 })).map((c) => [c.id, c.peerId, c.unreadCount]),
          [
            [fromCarolId, carol!.id, 1],
            [pair, bob!.id, 0],
          ],
        );
        assert.equal((await storage.conversations.findForMember(pair, bob!.id))?.unreadCount, 2);
        assert.equal((await storage.messages.unreadTotals([alice!.id])).get(alice!.id), 1);
        assert.equal((await storage.messages.unreadTotals([bob!.id])).get(bob!.id), 2);
        assert.deepEqual(await storage.messages.contactsAmong(alice!.id, [bob!.id, carol!.id, dave!.id]), new Set([bob!.id, carol!.id]));
        assert.deepEqual(await storage.messages.contactsAmong(carol!.id, [alice!.id]), new Set());

        // The migrated conversations go on as new ones: messages, receipts, sync.
        const head = await storage.chatChanges.head();
        const reply = { id: newId(), conversationId: pair, senderId: bob!.id, text: 'after', clientMessageId: 'after', createdAt: new Date() };
        assert.deepEqual(await storage.messages.create(reply), { outcome: 'stored', created: true, message: storedAs(reply, alice!.id) });
        // A client message id from before the migration is still a retry.
        const retried = await storage.messages.create({ ...reply, id: newId(), clientMessageId: 'c1', senderId: alice!.id });
        assert.deepEqual(retried, { outcome: 'stored', created: false, message: stored(toBob1, pair) });
        assert.equal(await storage.messages.markRead({ readerId: bob!.id, conversationId: pair, upToId: toBob3.id, at: at(30) }), true);
        const synced = await storage.chatChanges.after(alice!.id, head, 100);
        assert.deepEqual(
          synced?.messages.map((message) => message.id),
          [reply.id, toBob2.id, toBob3.id],
        );
        assert.deepEqual(synced?.reads, [{ conversationId: pair, userId: bob!.id, lastReadMessageId: toBob3.id, readAt: at(30) }]);
      } finally {
        await storage.close();
      }

      const afterwards = await legacy.connect();
      try {
        const { rows } = await sql<{ name: string }>`
          select table_name || '.' || column_name as name from information_schema.columns
          where table_schema = current_schema() and (table_name = 'chat_streams'
            or (table_name = 'messages' and column_name in ('low_user_id', 'high_user_id', 'sender_seq', 'recipient_seq')))`.execute(afterwards.db);
        assert.deepEqual(rows, [], 'the per-user streams and the pair columns are gone');
      } finally {
        await afterwards.close();
      }
    });
  });
}
