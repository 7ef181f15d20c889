import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import type { NewMessage, Storage } from '../../src/storage/ports.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import { chatUser, device, history, roundTrip, sendOk, storedAs } from '../support/chat.js';
import { postgresTargets, freshDataDir, type DatabaseKind } from '../support/databases.js';
import { collect } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

/**
 * Message writes share statements and commits when they come together (group commit). What callers
 * must still see: each message acknowledged only once committed, closing the storage writes what is
 * pending, and a message waiting for a lock holds up nobody else.
 */
const logger = createLogger({ level: 'silent', pretty: false });

function open(kind: DatabaseKind, dataDir: string): Promise<Storage> {
  return openPostgresStorage({ databaseUrl: kind === 'postgres' ? process.env['DATABASE_URL'] : undefined, dataDir, logger });
}

async function groupOf(storage: Storage, size: number): Promise<{ groupId: string; memberIds: string[] }> {
  const memberIds: string[] = [];
  for (let i = 0; i < size; i += 1) {
    const user = await storage.users.create({ id: newId(), email: `writes-${newId()}@example.com`, name: `Writer ${i}`, passwordHash: 'x', createdAt: new Date() });
    memberIds.push(user!.id);
  }
  const groupId = newId();
  await storage.conversations.createGroup({ id: groupId, title: 'Writes', ownerId: memberIds[0]!, memberIds: memberIds.slice(1), createdAt: new Date() });
  return { groupId, memberIds };
}

const message = (conversationId: string, senderId: string, text = 'hello'): NewMessage => ({
  id: newId(),
  conversationId,
  senderId,
  text,
  clientMessageId: newId(),
  createdAt: new Date(),
});

/** A history page's most. */
const BURST = 100;

for (const target of postgresTargets()) {
  describe(`message writes (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CHAT_MESSAGES_PER_WINDOW: '1000', SOCKET_MAX_PENDING_EVENTS: '1000' });

    test('a burst from one device is stored in the order it was sent; a burst retried at once from another device is stored and delivered once', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Bob');
      const atBob = collect<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
      const burst = (tag: string) => Array.from({ length: BURST }, (_, i) => ({ to: bob.id, text: `${tag} ${i}`, clientMessageId: `${tag}-${i}-${newId()}` }));
      const storedTexts = async () => (await history(server.baseUrl, bob.token, alice.id, `?limit=${BURST}`)).messages.map((m) => m.text).reverse();

      const ordered = burst('ordered');
      await Promise.all(ordered.map((payload) => sendOk(device(alice), payload)));
      assert.deepEqual(await storedTexts(), ordered.map((payload) => payload.text));

      const retried = burst('retried');
      const acks = await Promise.all(retried.flatMap((payload) => [sendOk(device(alice, 0), payload), sendOk(device(alice, 1), payload)]));
      for (let i = 0; i < BURST; i += 1) assert.deepEqual(acks[2 * i + 1]!.message, acks[2 * i]!.message, `message ${i}: the retry answered another message`);
      await roundTrip(device(bob));
      const ids = retried.map((_, i) => acks[2 * i]!.message.id);
      assert.deepEqual(atBob.items.slice(BURST).map((event) => event.message.id).sort(), [...ids].sort(), 'each message reached Bob exactly once');
      assert.deepEqual((await storedTexts()).sort(), retried.map((payload) => payload.text).sort());
    });

    test('closing the storage first writes every message still waiting for its batch', async () => {
      const dataDir = await freshDataDir(target.kind);
      try {
        const storage = await open(target.kind, dataDir);
        const { groupId, memberIds } = await groupOf(storage, 4);
        const messages = Array.from({ length: 200 }, (_, i) => message(groupId, memberIds[i % 4]!, `pending ${i}`));
        const creating = messages.map((input) => storage.messages.create(input));
        await storage.close();
        for (const result of await Promise.all(creating)) assert.equal(result.outcome === 'stored' && result.created, true);

        const reopened = await open(target.kind, dataDir);
        try {
          const stored = await reopened.messages.history(groupId, { limit: 500 });
          assert.deepEqual(
            stored.map((m) => m.id),
            messages.map((m) => m.id).reverse(),
          );
        } finally {
          await reopened.close();
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}

const postgres = postgresTargets().find((target) => target.kind === 'postgres')!;

describe('message writes waiting for a lock (postgres)', { skip: postgres.skip }, () => {
  test('a message whose write waits for a row lock holds up only itself: the messages batched with it are stored meanwhile', async () => {
    const storage = await open('postgres', '/nonexistent');
    const locker = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
    await locker.connect();
    try {
      const { groupId, memberIds } = await groupOf(storage, 5);
      const [blocked, ...others] = memberIds as [string, ...string[]];
      // The blocked member's first message marks their member row as having written: that row is held.
      await locker.query('begin');
      await locker.query('select 1 from conversation_members where conversation_id = $1 and user_id = $2 for update', [groupId, blocked]);
      // Enough at once that the blocked one shares a batch with others.
      const before = Array.from({ length: 20 }, (_, i) => message(groupId, others[i % others.length]!));
      const waiting = message(groupId, blocked);
      const after = Array.from({ length: 20 }, (_, i) => message(groupId, others[i % others.length]!));
      const creating = [...before, waiting, ...after].map((input) => storage.messages.create(input));
      const waitingResult = creating[before.length]!;
      let waitingSettled = false;
      void waitingResult.finally(() => (waitingSettled = true));

      const othersResults = await Promise.race([
        Promise.all([...creating.slice(0, before.length), ...creating.slice(before.length + 1)]),
        sleep(5000).then(() => assert.fail('the other messages waited for the lock too')),
      ]);
      for (const result of othersResults) assert.equal(result.outcome === 'stored' && result.created, true);
      await sleep(50);
      assert.equal(waitingSettled, false, 'the message waiting for the lock was acknowledged before it could commit');

      await locker.query('commit');
      assert.deepEqual(await waitingResult, { outcome: 'stored', created: true, message: storedAs(waiting, null) });
      assert.equal((await storage.messages.history(groupId, { limit: 100 })).length, 41);
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
      await storage.close();
    }
  });
});
