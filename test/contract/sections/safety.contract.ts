import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../../src/shared/ids.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

export function safetyContract(ctx: ContractContext): void {
  const blocks = () => ctx.storage.blocks;
  const messages = () => ctx.storage.messages;
  const { users, newMessage, send, direct, group } = chatFixtures(ctx);

  test('block is idempotent and keeps its first time; list pages the latest first; unblock once', async () => {
    const [me, x, y, z] = await users(4);
    const first = new Date('2031-02-01T00:00:00.000Z');
    assert.deepEqual(await blocks().block(me!.id, x!.id, first), { created: true, blockedAt: first });
    assert.deepEqual(await blocks().block(me!.id, x!.id, new Date()), { created: false, blockedAt: first });
    await blocks().block(me!.id, y!.id, new Date('2031-02-02T00:00:00.000Z'));
    await blocks().block(me!.id, z!.id, new Date('2031-02-03T00:00:00.000Z'));
    const all = await blocks().list(me!.id, { limit: 10 });
    assert.deepEqual(all.map((b) => [b.userId, b.name]), [z, y, x].map((u) => [u!.id, u!.name]));
    assert.deepEqual((await blocks().list(me!.id, { after: z!.id, limit: 1 })).map((b) => b.userId), [y!.id]);
    assert.deepEqual(await blocks().between(me!.id, x!.id), { blocks: true, blockedBy: false });
    assert.deepEqual(await blocks().between(x!.id, me!.id), { blocks: false, blockedBy: true });
    assert.deepEqual((await blocks().blockersAmong(x!.id, [me!.id, y!.id, newId()])), [me!.id]);
    assert.deepEqual(await blocks().blockersAmong(x!.id, []), []);
    assert.equal(await blocks().unblock(me!.id, x!.id), true);
    assert.equal(await blocks().unblock(me!.id, x!.id), false);
    assert.deepEqual(await blocks().between(me!.id, x!.id), { blocks: false, blockedBy: false });
  });

  test('create refuses a direct message across a block either way, and never in a group; contacts leave blocked pairs out', async () => {
    const { a, b, id } = await direct();
    await send(id, a.id, b.id);
    await send(id, b.id, a.id);
    assert.deepEqual(await messages().contactsAmong(a.id, [b.id]), new Set([b.id]));
    await blocks().block(b.id, a.id, new Date());
    const fromBlocked = newMessage(id, a.id);
    assert.deepEqual(await messages().create(fromBlocked), { outcome: 'recipientUnavailable' });
    assert.equal(await messages().findById(fromBlocked.id), null);
    assert.deepEqual(await messages().create(newMessage(id, b.id)), { outcome: 'recipientBlocked' });
    assert.deepEqual(await messages().contactsAmong(a.id, [b.id]), new Set(), 'the blocked user sees no presence');
    assert.deepEqual(await messages().contactsAmong(b.id, [a.id]), new Set(), 'nor the blocker');
    const groupId = await group(a, [b]);
    await send(groupId, a.id);
    await blocks().unblock(b.id, a.id);
    await send(id, a.id, b.id);
  });

  test('abuse reports are listed newest first, paged by id', async () => {
    const { a, b, id } = await direct();
    const message = await send(id, b.id, a.id);
    const reports = Array.from({ length: 3 }, (_, i) => ({
      id: newId(),
      reporterId: a.id,
      reportedUserId: b.id,
      messageId: i === 1 ? message.id : null,
      reason: i === 2 ? ('harassment' as const) : ('spam' as const),
      details: i === 1 ? 'again' : null,
      createdAt: new Date(Date.UTC(2031, 1, 1, 0, 0, i)),
    }));
    for (const report of reports) await ctx.storage.abuseReports.create(report);
    const mine = async (page: { before?: string; limit: number }) => (await ctx.storage.abuseReports.list(page)).filter((r) => r.reporterId === a.id);
    assert.deepEqual(await mine({ limit: 100 }), [reports[2], reports[1], reports[0]]);
    assert.deepEqual(await mine({ before: reports[2]!.id, limit: 100 }), [reports[1], reports[0]]);
  });
}
