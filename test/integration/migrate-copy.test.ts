import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/shared/logger.js';
import { newId } from '../../src/shared/ids.js';
import { COPIED_TABLES } from '../../src/storage/copy/tables.js';
import { copyData } from '../../src/storage/copy/copy-data.js';
import type { Storage } from '../../src/storage/ports.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { freshPgliteDataDir } from '../support/databases.js';
import { finished, spawnTs } from '../support/processes.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

const logger = createLogger({ level: 'silent', pretty: false });
const skip = process.env['DATABASE_URL'] ? undefined : 'DATABASE_URL is not set: the PGlite -> PostgreSQL copy is skipped';

const bytes = (length: number) => new Uint8Array(randomBytes(length));
const signed = (keyId: number) => ({ keyId, publicKey: bytes(33), signature: bytes(64) });

/** Something in every table the copy carries, written through the port as the app would. */
async function populate(storage: Storage) {
  const now = new Date();
  const user = async (name: string) => (await storage.users.create({ id: newId(), email: `${name.toLowerCase()}-${newId()}@example.com`, name, passwordHash: 'hash', createdAt: now }))!;
  const [ann, bob, cy] = [await user('Ann Lee'), await user('Bob'), await user('Cy')];
  const session = await storage.sessions.create(
    { id: newId(), userId: ann.id, deviceName: 'phone', userAgent: 'test', ip: '192.0.2.1', createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) },
    `token-${newId()}`,
  );
  await storage.sessions.addToken(session.id, `token-${newId()}`, now);
  const bobSession = await storage.sessions.create(
    { id: newId(), userId: bob.id, deviceName: null, userAgent: null, ip: null, createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) },
    `token-${newId()}`,
  );
  await storage.pushTokens.register({ token: `ExponentPushToken[${newId()}]`, userId: bob.id, sessionId: bobSession.id, deviceId: 'bob-phone', updatedAt: now });
  await storage.pushOutbox.enqueue({ userId: bob.id, kind: 'message', content: { title: 'Ann', body: 'hi', data: { type: 'message' }, priority: 'high' }, dueAt: now, expiresAt: new Date(now.getTime() + 60_000), coalesceKey: 'c1' });
  const direct = await storage.conversations.ensureDirect(ann.id, bob.id, now);
  const group = newId();
  await storage.conversations.createGroup({ id: group, title: 'Trio', ownerId: ann.id, memberIds: [bob.id, cy.id], createdAt: now });
  const media = newId();
  await storage.media.create(
    { id: media, ownerId: ann.id, status: 'ready', kind: 'image', contentType: 'image/webp', size: 1234, fileName: 'a.webp', width: 10, height: 20, durationMs: null, encrypted: false, thumbnail: { width: 5, height: 10 }, createdAt: now },
    { maxUploads: 100, since: new Date(0), maxBytes: 10 ** 9 },
  );
  const sent = [];
  for (let index = 0; index < 1200; index++) {
    const result = await storage.messages.create({ id: newId(), conversationId: direct, senderId: index % 2 ? bob.id : ann.id, text: `message ${index}`, clientMessageId: `c-${index}`, createdAt: new Date() });
    assert.equal(result.outcome, 'stored');
    sent.push(result.outcome === 'stored' ? result.message : undefined);
  }
  const withMedia = await storage.messages.create({ id: newId(), conversationId: group, senderId: ann.id, text: '', clientMessageId: null, createdAt: new Date(), attachmentIds: [media] });
  assert.equal(withMedia.outcome, 'stored');
  await storage.messages.create({ id: newId(), conversationId: group, senderId: bob.id, text: 'a reply', clientMessageId: null, createdAt: new Date(), replyToId: sent[0]!.id }).then((r) => assert.equal(r.outcome, 'noSuchReply'));
  await storage.messages.react({ messageId: sent[1]!.id, userId: ann.id, emoji: '👍', action: 'add', at: now, maxPerUser: 3 });
  await storage.messages.react({ messageId: sent[1]!.id, userId: bob.id, emoji: '👍', action: 'add', at: new Date(), maxPerUser: 3 });
  await storage.messages.hide({ userId: ann.id, messageId: sent[2]!.id, conversationId: direct, at: now });
  await storage.messages.markRead({ readerId: bob.id, conversationId: direct, upToId: sent[10]!.id, at: now });
  await storage.blocks.block(cy.id, bob.id, now);
  await storage.abuseReports.create({ id: newId(), reporterId: cy.id, reportedUserId: bob.id, messageId: null, reason: 'spam', details: 'copy test', createdAt: now });
  const call = { id: newId(), callerId: ann.id, calleeId: bob.id, type: 'audio' as const, createdAt: now, status: 'ended' as const, answeredAt: now, endedAt: now, durationSeconds: 3, endReason: 'hangup' as const };
  await storage.calls.create(call);
  const member = (userId: string) => ({ userId, joinedAt: now, leftAt: null, inCallSince: now, msInCall: 1500, declinedAt: null });
  const groupCall = { id: newId(), conversationId: group, startedBy: ann.id, type: 'video' as const, topology: 'mesh' as const, createdAt: now, status: 'accepted' as const, answeredAt: now, endedAt: null, durationSeconds: null, endReason: null, revision: 2, members: [member(ann.id), member(cy.id), member(bob.id)] };
  await storage.groupCalls.create(groupCall);
  const device = await storage.deviceKeys.register(
    { userId: ann.id, sessionId: session.id, deviceId: 'ann-phone', registrationId: 7, identityAlgorithm: 'ed25519', identityKey: bytes(32), signedPreKey: signed(1), kyberPreKey: null, lastResortPreKey: signed(2), updatedAt: now },
    [{ keyId: 10, publicKey: bytes(33), signature: null }, { keyId: 11, publicKey: bytes(33), signature: null }],
    100,
  );
  assert.equal(device.outcome, 'registered');
  await storage.deviceKeys.queueToDevice([{ id: newId(), userId: ann.id, deviceId: 'ann-phone', senderId: bob.id, senderDeviceId: 'bob-phone', type: 1, body: 'c2VjcmV0', createdAt: now }], 10, now);
  return { ann, bob, direct, group, media, call, groupCall, sessionId: session.id };
}

describe('npm run migrate:copy: PGlite -> PostgreSQL -> PGlite', { skip }, () => {
  let dataDir: string;
  let target: ScratchDatabase;
  let workDir: string;
  let fixture: Awaited<ReturnType<typeof populate>>;
  let source: Record<string, unknown>;

  before(async () => {
    dataDir = await freshPgliteDataDir();
    workDir = await mkdtemp(path.join(tmpdir(), 'call-app-copy-'));
    target = await createScratchDatabase('call_app_copy');
    const storage = await openPostgresStorage({ databaseUrl: undefined, dataDir, logger });
    fixture = await populate(storage);
    source = await snapshot(storage);
    await storage.close();
  });
  after(async () => {
    await target?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  /** What the port answers about the fixture: the same on both sides after a copy. */
  async function snapshot(storage: Storage) {
    const { ann, bob, direct, group, media, call, groupCall, sessionId } = fixture;
    return {
      ann: await storage.users.findById(ann.id),
      search: await storage.users.search('lee', { limit: 10, excludeId: bob.id }),
      sessions: await storage.sessions.listActiveByUser(ann.id, new Date()),
      history: await storage.messages.history(direct, { limit: 100, hiddenFor: ann.id }),
      groupHistory: await storage.messages.history(group, { limit: 10 }),
      conversations: await storage.conversations.listForMember(ann.id, { limit: 10 }),
      bobConversation: await storage.conversations.findForMember(direct, bob.id),
      contacts: [...(await storage.messages.contactsAmong(ann.id, [bob.id]))],
      blocks: await storage.blocks.between(fixture.bob.id, fixture.ann.id),
      call: await storage.calls.findById(call.id),
      groupCall: await storage.groupCalls.findById(groupCall.id),
      device: await storage.deviceKeys.findBySession(sessionId),
      prekeys: await storage.deviceKeys.countOneTimePreKeys(sessionId),
      pending: await storage.deviceKeys.pendingToDevice(sessionId, 10),
      media: await storage.media.findById(media),
      reports: await storage.abuseReports.list({ limit: 10 }),
      pushTokens: await storage.pushTokens.listByUser(bob.id),
    };
  }

  test('copies every table, verifies the counts, and the copy answers as the source did', async () => {
    const run = await finished(spawnTs('src/migrate-copy.ts', ['--from', dataDir, '--to', target.url, '--state', path.join(workDir, 'state.json')], { PATH: process.env['PATH'], HOME: process.env['HOME'] }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /copied and verified: users 3, sessions 2, refresh_tokens 3,.* messages 1201, message_reactions 2,.* group_call_members 3,.* media 1/);
    const copy = await openPostgresStorage({ databaseUrl: target.url, dataDir: '/nonexistent/unused-with-postgres', logger });
    try {
      assert.deepEqual(await snapshot(copy), source);
      // And it is a working database: the chat goes on where it was.
      const next = await copy.messages.create({ id: newId(), conversationId: fixture.direct, senderId: fixture.ann.id, text: 'after the copy', clientMessageId: 'c-0', createdAt: new Date() });
      assert.equal(next.outcome === 'stored' && next.created, false, 'a retry of a copied send is still recognised');
    } finally {
      await copy.close();
    }
  });

  test('a copy that stopped part way goes on from its state; one without a state refuses a target that holds data', async () => {
    const state = path.join(workDir, 'resume.json');
    // As a run interrupted while copying messages leaves it: users to messages half done.
    const half = await openPostgresStorage({ databaseUrl: target.url, dataDir: '/nonexistent', logger });
    const middle = (await half.messages.history(fixture.direct, { limit: 600 })).at(-1)!.id;
    await half.close();
    const messagesAt = COPIED_TABLES.findIndex((table) => table.name === 'messages');
    const tables: Record<string, { after: unknown[] | null; done: boolean; copied: number }> = Object.fromEntries(
      COPIED_TABLES.map((table, index) => [table.name, { after: null, done: index < messagesAt, copied: 0 }]),
    );
    tables['messages'] = { after: [middle], done: false, copied: 600 };
    await writeFile(state, JSON.stringify({ from: `${dataDir} (embedded)`, to: target.url, tables }));
    const counts = await copyData({ from: dataDir, to: target.url, statePath: state, logger });
    assert.equal(counts['messages'], 1201);
    assert.equal(JSON.parse(await readFile(state, 'utf8')).tables.media.done, true);

    await assert.rejects(copyData({ from: dataDir, to: target.url, statePath: path.join(workDir, 'fresh.json'), logger }), /already holds users: copy into an empty database/);
  });

  test('and back: PostgreSQL -> a new embedded database answers as the source did', async () => {
    const back = await mkdtemp(path.join(tmpdir(), 'call-app-copy-back-'));
    try {
      const counts = await copyData({ from: target.url, to: back, statePath: path.join(workDir, 'back.json'), logger });
      assert.equal(counts['messages'], 1201);
      const copy = await openPostgresStorage({ databaseUrl: undefined, dataDir: back, logger });
      try {
        assert.deepEqual(await snapshot(copy), source);
      } finally {
        await copy.close();
      }
    } finally {
      await rm(back, { recursive: true, force: true });
    }
  });
});
