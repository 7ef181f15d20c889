import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatChanges, ChatCursor, MessageRecord } from '../../../src/storage/ports.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

export function chatChangesContract(ctx: ContractContext): void {
  const changes = () => ctx.storage.chatChanges;
  const conversations = () => ctx.storage.conversations;
  const messages = () => ctx.storage.messages;
  const { users, send, group } = chatFixtures(ctx);

  const after = async (userId: string, cursor: ChatCursor, limit: number): Promise<ChatChanges> => {
    const page = await changes().after(userId, cursor, limit);
    if (!page) throw new Error(`the adapter refused its own cursor ${cursor}`);
    return page;
  };
  /** Pages through everything after `cursor`: the lists of all pages together, and where the last ended. */
  const syncAll = async (userId: string, cursor: ChatCursor, limit = 100) => {
    const all: Omit<ChatChanges, 'hasMore'> & { pages: number } = { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor, pages: 0 };
    for (;;) {
      const page = await after(userId, all.cursor, limit);
      const size = page.messages.length + page.conversations.length + page.reads.length + page.left.length + page.hidden.length;
      assert.ok(size <= limit, `a page of ${size} with limit ${limit}`);
      if (page.hasMore) assert.equal(size, limit, 'a page short of the limit is the last');
      all.messages.push(...page.messages);
      all.conversations.push(...page.conversations);
      all.reads.push(...page.reads);
      all.left.push(...page.left);
      all.hidden.push(...page.hidden);
      all.cursor = page.cursor;
      all.pages += 1;
      if (!page.hasMore) return all;
    }
  };
  const nothing = { messages: [], conversations: [], reads: [], left: [] };
  const lists = ({ messages, conversations, reads, left }: ChatChanges | Awaited<ReturnType<typeof syncAll>>) => ({ messages, conversations, reads, left });

  test('head starts after every change so far; a cursor the adapter did not hand out is refused', async () => {
    const [alice, bob] = await users(2);
    await send(await conversations().ensureDirect(alice!.id, bob!.id, new Date()), alice!.id, bob!.id);
    const head = await changes().head();
    const page = await after(bob!.id, head, 10);
    assert.deepEqual(lists(page), nothing);
    assert.equal(page.hasMore, false);
    assert.deepEqual(lists(await after(bob!.id, page.cursor, 10)), nothing);
    const encoded = (window: object) => Buffer.from(JSON.stringify(window)).toString('base64url');
    for (const foreign of ['', 'nonsense', '12.34', encoded({ since: '9:2:' }), encoded({ since: '1:2:', extra: true })]) {
      assert.equal(await changes().after(bob!.id, foreign, 10), null, foreign);
    }
  });

  test('each change comes once, in its latest state, oldest first', async () => {
    const [alice, bob] = await users(2);
    const start = await changes().head();
    const id = await conversations().ensureDirect(alice!.id, bob!.id, new Date());
    const first = await send(id, alice!.id, bob!.id);
    const reply = await send(id, bob!.id, alice!.id);
    const third = await send(id, alice!.id, bob!.id);
    const at = new Date('2030-04-01T00:00:00.000Z');
    await messages().markDelivered({ messageId: first.id, at });
    await messages().markRead({ readerId: bob!.id, conversationId: id, upToId: first.id, at });
    const readFirst: MessageRecord = { ...first, deliveredAt: at, readAt: at };
    const bobsRead = { conversationId: id, userId: bob!.id, lastReadMessageId: first.id, readAt: at };

    for (const [user, peer] of [
      [bob!, alice!],
      [alice!, bob!],
    ] as const) {
      const synced = await syncAll(user.id, start);
      assert.deepEqual(lists(synced), {
        messages: [reply, third, readFirst],
        conversations: [await conversations().findForMember(id, user.id)],
        reads: [bobsRead],
        left: [],
      });
      assert.equal(synced.conversations[0]?.peerId, peer.id);
      assert.deepEqual(lists(await after(user.id, synced.cursor, 100)), nothing);
    }
    const stranger = (await users(1))[0]!;
    assert.deepEqual(lists(await syncAll(stranger.id, start)), nothing);
  });

  test('pages cut anywhere give every change exactly once', async () => {
    const [owner, me, other] = await users(3);
    const start = await changes().head();
    const id = await group(owner!, [me!, other!]);
    const sent = [];
    for (let i = 0; i < 4; i += 1) sent.push(await send(id, i % 2 ? other!.id : owner!.id));
    await conversations().moveReadPosition({ conversationId: id, userId: other!.id, messageId: sent[1]!.id, at: new Date() });
    await conversations().setTitle(id, 'Renamed');
    const left = await group(owner!, [me!]);
    await send(left, owner!.id);
    await conversations().removeMember(left, me!.id, new Date());
    await conversations().moveReadPosition({ conversationId: id, userId: me!.id, messageId: sent[3]!.id, at: new Date() });
    sent.push(await send(id, me!.id));

    const whole = await syncAll(me!.id, start, 1000);
    assert.equal(whole.pages, 1);
    assert.deepEqual(
      whole.messages.map((m) => m.id),
      sent.map((m) => m.id),
    );
    assert.deepEqual(
      whole.conversations.map((c) => [c.id, c.title]),
      [[id, 'Renamed']],
    );
    assert.deepEqual(
      whole.reads.map((r) => [r.userId, r.lastReadMessageId]),
      [
        [other!.id, sent[1]!.id],
        [me!.id, sent[3]!.id],
      ],
    );
    assert.deepEqual(
      whole.left.map((l) => l.conversationId),
      [left],
    );
    const total = sent.length + 4;
    for (const limit of [1, 2, 3, 7]) {
      const paged = await syncAll(me!.id, start, limit);
      assert.deepEqual(lists(paged), lists(whole), `pages of ${limit}`);
      assert.equal(paged.pages, Math.ceil(total / limit), `pages of ${limit}`);
    }
  });

  test('hasMore false means caught up: a batch being paged goes on with what committed meanwhile', async () => {
    const [owner, reader] = await users(2);
    const id = await group(owner!, [reader!]);
    const start = await changes().head();
    const first = await send(id, owner!.id);
    const second = await send(id, owner!.id);
    const page = await after(reader!.id, start, 1);
    assert.deepEqual([page.messages, page.hasMore], [[first], true]);
    const meanwhile = await send(id, owner!.id);
    const rest = await after(reader!.id, page.cursor, 10);
    assert.deepEqual([rest.messages, rest.hasMore], [[second, meanwhile], false]);
    assert.deepEqual(lists(await after(reader!.id, rest.cursor, 10)), nothing);
  });

  test('a removed member gets the group as left and nothing of it afterwards; members added later get the conversation', async () => {
    const [owner, leaver, newcomer] = await users(3);
    const start = await changes().head();
    const id = await group(owner!, [leaver!]);
    const before = await send(id, owner!.id);
    const joined = await syncAll(leaver!.id, start);
    assert.deepEqual(
      [joined.conversations.map((c) => c.id), joined.messages],
      [[id], [before]],
    );

    const leftAt = new Date('2030-04-02T00:00:00.000Z');
    await conversations().removeMember(id, leaver!.id, leftAt);
    const afterwards = await send(id, owner!.id);
    await conversations().setTitle(id, 'Without them');
    await conversations().moveReadPosition({ conversationId: id, userId: owner!.id, messageId: afterwards.id, at: new Date() });
    const removed = await syncAll(leaver!.id, joined.cursor);
    assert.deepEqual(lists(removed), { ...nothing, left: [{ conversationId: id, leftAt }] });
    await send(id, owner!.id);
    assert.deepEqual(lists(await syncAll(leaver!.id, removed.cursor)), nothing);

    const ownerSide = await syncAll(owner!.id, joined.cursor);
    assert.deepEqual(
      ownerSide.conversations.map((c) => [c.title, c.memberCount]),
      [['Without them', 1]],
    );
    assert.equal(ownerSide.left.length, 0);

    const beforeAdding = await changes().head();
    await conversations().addMembers(id, [newcomer!.id], new Date(), 10);
    const welcome = await send(id, owner!.id);
    const added = await syncAll(newcomer!.id, beforeAdding);
    assert.deepEqual(
      [added.conversations.map((c) => [c.id, c.memberCount]), added.messages, added.left],
      [[[id, 2]], [welcome], []],
    );
  });

  test('concurrent writes and syncs: every message that committed shows up exactly once', async () => {
    const [owner, reader, other] = await users(3);
    const id = await group(owner!, [reader!, other!]);
    const start = await changes().head();
    const sent = new Set<string>();
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 0; i < 20; i += 1) sent.add((await send(id, writer % 2 ? owner!.id : other!.id)).id);
      }),
    ).finally(() => {
      writing = false;
    });
    const seen: string[] = [];
    let cursor = start;
    while (writing) {
      const page = await after(reader!.id, cursor, 7);
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.cursor;
    }
    await writers;
    seen.push(...(await syncAll(reader!.id, cursor, 7)).messages.map((m) => m.id));
    assert.equal(seen.length, sent.size, 'no message twice');
    assert.deepEqual(new Set(seen), sent);
  });
}
