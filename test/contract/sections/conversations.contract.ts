import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMBEDDED_MEMBERS } from '../../../src/protocol/conversations.js';
import { newId } from '../../../src/shared/ids.js';
import type { ConversationRecord, UserRecord } from '../../../src/storage/ports.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

const time = (minute: number) => new Date(Date.UTC(2030, 2, 1, 0, minute));

export function conversationsContract(ctx: ContractContext): void {
  const conversations = () => ctx.storage.conversations;
  const { users, member, byJoin, send, direct, group } = chatFixtures(ctx);
  const memberIdsOf = async (id: string) => (await conversations().memberIds(id)).sort();
  const allMembers = (id: string) => conversations().members(id, { limit: 10_000 });

  test('ensureDirect creates the conversation of two users once, with both as members, also under races', async () => {
    const [a, b, c, d, stranger] = (await users(5)) as [UserRecord, UserRecord, UserRecord, UserRecord, UserRecord];
    const at = time(0);
    const id = await conversations().ensureDirect(a.id, b.id, at);
    assert.equal(await conversations().ensureDirect(b.id, a.id, new Date()), id);
    assert.equal(await conversations().findDirect(b.id, a.id), id);
    assert.equal(await conversations().findDirect(a.id, stranger.id), null);

    const shared: ConversationRecord = {
      id,
      type: 'direct',
      title: null,
      createdAt: at,
      memberCount: 2,
      members: byJoin([member(a, 'member', at), member(b, 'member', at)]),
      lastMessage: null,
    };
    assert.deepEqual(await conversations().find(id), shared);
    assert.deepEqual(await conversations().findForMember(id, a.id), { ...shared, unreadCount: 0, peerId: b.id });
    assert.deepEqual(await conversations().findForMember(id, b.id), { ...shared, unreadCount: 0, peerId: a.id });
    assert.equal(await conversations().findForMember(id, stranger.id), null);
    assert.deepEqual(await conversations().membership(id, b.id), { type: 'direct', role: 'member', peerId: a.id });
    assert.equal(await conversations().membership(id, stranger.id), null);

    const raced = await Promise.all(Array.from({ length: 8 }, (_, i) => conversations().ensureDirect(i % 2 ? c.id : d.id, i % 2 ? d.id : c.id, new Date())));
    assert.equal(new Set(raced).size, 1);
    assert.deepEqual(await memberIdsOf(raced[0]!), [c.id, d.id].sort());
  });

  test('createGroup: the owner and the members join at its creation; members see it, nobody else', async () => {
    const [owner, first, second, stranger] = await users(4);
    const createdAt = time(1);
    const id = newId();
    // The owner among the members and a repeated member count once.
    await conversations().createGroup({ id, title: 'Trip', ownerId: owner!.id, memberIds: [first!.id, second!.id, owner!.id, first!.id], createdAt });
    const shared: ConversationRecord = {
      id,
      type: 'group',
      title: 'Trip',
      createdAt,
      memberCount: 3,
      members: byJoin([member(owner!, 'owner', createdAt), member(first!, 'member', createdAt), member(second!, 'member', createdAt)]),
      lastMessage: null,
    };
    assert.deepEqual(await conversations().find(id), shared);
    assert.deepEqual(await conversations().findForMember(id, first!.id), { ...shared, unreadCount: 0, peerId: null });
    assert.equal(await conversations().findForMember(id, stranger!.id), null);
    assert.equal(await conversations().find(newId()), null);
    assert.deepEqual(await conversations().membership(id, owner!.id), { type: 'group', role: 'owner', peerId: null });
    assert.deepEqual(await conversations().membership(id, second!.id), { type: 'group', role: 'member', peerId: null });
    assert.equal(await conversations().membership(id, stranger!.id), null);
    const alone = newId();
    await conversations().createGroup({ id: alone, title: 'Notes', ownerId: stranger!.id, memberIds: [], createdAt });
    assert.deepEqual(await memberIdsOf(alone), [stranger!.id]);
  });

  test('findForMember: the last message, and the messages from others after the member’s read position', async () => {
    const [owner, reader] = await users(2);
    const id = await group(owner!, [reader!]);
    const first = await send(id, owner!.id);
    await send(id, reader!.id);
    const last = await send(id, owner!.id);
    const seen = await conversations().findForMember(id, reader!.id);
    assert.deepEqual([seen?.lastMessage, seen?.unreadCount], [last, 2]);
    assert.equal((await conversations().findForMember(id, owner!.id))?.unreadCount, 1);
    assert.deepEqual((await conversations().find(id))?.lastMessage, last);

    const at = time(2);
    await conversations().moveReadPosition({ conversationId: id, userId: reader!.id, messageId: first.id, at });
    const after = await conversations().findForMember(id, reader!.id);
    assert.equal(after?.unreadCount, 1);
    assert.deepEqual(
      after?.members.find((m) => m.userId === reader!.id),
      member(reader!, 'member', after!.members.find((m) => m.userId === reader!.id)!.joinedAt, { id: first.id, at }),
    );
  });

  test('moveReadPosition moves a current member forward only, to a message of the conversation', async () => {
    const [owner, reader, stranger] = await users(3);
    const id = await group(owner!, [reader!]);
    const first = await send(id, owner!.id);
    const second = await send(id, owner!.id);
    const other = await direct();
    const elsewhere = await send(other.id, other.a.id, other.b.id);
    const move = (userId: string, messageId: string, at: Date) => conversations().moveReadPosition({ conversationId: id, userId, messageId, at });

    assert.deepEqual(await move(reader!.id, second.id, time(3)), { moved: true, readAt: time(3) });
    assert.deepEqual(await move(reader!.id, first.id, time(4)), { moved: false, readAt: time(3) }, 'never back');
    assert.deepEqual(await move(reader!.id, second.id, time(4)), { moved: false, readAt: time(3) }, 'already there');
    assert.deepEqual(await move(owner!.id, elsewhere.id, time(4)), { moved: false, readAt: null }, 'not a message of the conversation');
    assert.deepEqual(await move(owner!.id, newId(), time(4)), { moved: false, readAt: null }, 'no such message');
    assert.deepEqual(await move(stranger!.id, first.id, time(4)), { moved: false, readAt: null }, 'not a member');
    // Mine are messages of the conversation too.
    const mine = await send(id, reader!.id);
    assert.deepEqual(await move(reader!.id, mine.id, time(5)), { moved: true, readAt: time(5) });
    await conversations().removeMember(id, reader!.id, time(6));
    const later = await send(id, owner!.id);
    assert.deepEqual(await move(reader!.id, later.id, time(7)), { moved: false, readAt: null }, 'no longer a member');
  });

  test('listForMember: the latest activity first (last message, else creation), paged by it, current memberships only', async () => {
    const [me, p1, p2] = await users(3);
    const d1 = await conversations().ensureDirect(me!.id, p1!.id, new Date());
    await send(d1, p1!.id, me!.id);
    const quiet = await group(p2!, [me!]);
    const d2 = await conversations().ensureDirect(p2!.id, me!.id, new Date());
    const toP2 = await send(d2, me!.id, p2!.id);
    const busy = await group(p1!, [me!, p2!]);
    const inBusy = await send(busy, p2!.id);
    await send(d1, p1!.id, me!.id);
    const list = (page: { before?: string; limit?: number } = {}) => conversations().listForMember(me!.id, { limit: 10, ...page });

    const all = await list();
    assert.deepEqual(
      all.map((c) => c.id),
      [d1, busy, d2, quiet],
    );
    for (const entry of all) assert.deepEqual(entry, await conversations().findForMember(entry.id, me!.id));
    assert.deepEqual(
      all.map((c) => [c.peerId, c.unreadCount]),
      [
        [p1!.id, 2],
        [null, 1],
        [p2!.id, 0],
        [null, 0],
      ],
    );
    assert.deepEqual((await list({ limit: 2 })).map((c) => c.id), [d1, busy]);
    assert.deepEqual((await list({ before: inBusy.id, limit: 10 })).map((c) => c.id), [d2, quiet]);
    assert.deepEqual((await list({ before: toP2.id, limit: 10 })).map((c) => c.id), [quiet]);
    assert.deepEqual((await list({ before: quiet, limit: 10 })).map((c) => c.id), []);

    await conversations().removeMember(busy, me!.id, new Date());
    assert.deepEqual((await list()).map((c) => c.id), [d1, d2, quiet]);
    assert.deepEqual((await conversations().listForMember(p2!.id, { limit: 10 })).map((c) => c.id), [busy, d2, quiet]);
  });

  test('members pages the current members by join time; memberIds and groupIdsOf', async () => {
    const [owner, early, late, later] = await users(4);
    const id = await group(owner!, [early!], time(10));
    await conversations().addMembers(id, [late!.id], time(11), 100);
    await conversations().addMembers(id, [later!.id], time(12), 100);
    const expected = [
      ...byJoin([member(owner!, 'owner', time(10)), member(early!, 'member', time(10))]),
      member(late!, 'member', time(11)),
      member(later!, 'member', time(12)),
    ];
    assert.deepEqual(await allMembers(id), expected);
    const firstPage = await conversations().members(id, { limit: 2 });
    assert.deepEqual(firstPage, expected.slice(0, 2));
    assert.deepEqual(await conversations().members(id, { after: firstPage[1]!.userId, limit: 2 }), expected.slice(2));
    assert.deepEqual(await conversations().members(id, { after: later!.id, limit: 2 }), []);

    await conversations().removeMember(id, late!.id, time(13));
    assert.deepEqual(await allMembers(id), expected.filter((m) => m.userId !== late!.id));
    // Paging on from a member who has since left goes on where they were.
    assert.deepEqual(await conversations().members(id, { after: late!.id, limit: 2 }), expected.slice(3));
    assert.deepEqual(await memberIdsOf(id), [owner!.id, early!.id, later!.id].sort());

    const other = await group(early!, [owner!]);
    await conversations().ensureDirect(early!.id, later!.id, new Date());
    assert.deepEqual((await conversations().groupIdsOf(early!.id)).sort(), [id, other].sort());
    assert.deepEqual(await conversations().groupIdsOf(late!.id), []);
  });

  test(`a conversation embeds its first ${EMBEDDED_MEMBERS} members by join time; members pages through all`, async () => {
    const [owner] = await users(1);
    const everyone = await users(EMBEDDED_MEMBERS + 1);
    const createdAt = time(20);
    const id = await group(owner!, everyone, createdAt);
    const expected = byJoin([member(owner!, 'owner', createdAt), ...everyone.map((user) => member(user, 'member', createdAt))]);
    const found = await conversations().find(id);
    assert.equal(found?.memberCount, EMBEDDED_MEMBERS + 2);
    assert.deepEqual(found?.members, expected.slice(0, EMBEDDED_MEMBERS));
    assert.deepEqual((await conversations().listForMember(owner!.id, { limit: 1 }))[0]?.members, expected.slice(0, EMBEDDED_MEMBERS));
    const paged = [];
    for (let after: string | undefined; ; ) {
      const page = await conversations().members(id, { after, limit: 40 });
      paged.push(...page);
      if (page.length < 40) break;
      after = page.at(-1)!.userId;
    }
    assert.deepEqual(paged, expected);
  });

  test('addMembers skips current members, brings former ones back and keeps to the member limit', async () => {
    const [owner, first, second, third, fourth] = await users(5);
    const id = await group(owner!, [first!], time(30));
    assert.deepEqual(await conversations().addMembers(id, [first!.id, second!.id, second!.id], time(31), 10), { outcome: 'added', userIds: [second!.id] });
    assert.deepEqual(await conversations().addMembers(id, [first!.id, owner!.id], time(31), 10), { outcome: 'added', userIds: [] });
    assert.equal((await conversations().find(id))?.memberCount, 3);

    // A former member returns as a member who joined now, with the read position they had.
    const message = await send(id, owner!.id);
    await conversations().moveReadPosition({ conversationId: id, userId: second!.id, messageId: message.id, at: time(32) });
    await conversations().setRole(id, second!.id, 'admin');
    await conversations().removeMember(id, second!.id, time(33));
    assert.deepEqual(await conversations().addMembers(id, [second!.id], time(34), 10), { outcome: 'added', userIds: [second!.id] });
    assert.deepEqual(
      (await allMembers(id)).find((m) => m.userId === second!.id),
      member(second!, 'member', time(34), { id: message.id, at: time(32) }),
    );

    assert.deepEqual(await conversations().addMembers(id, [third!.id, fourth!.id], time(35), 4), { outcome: 'full', memberCount: 3 });
    assert.deepEqual(await memberIdsOf(id), [owner!.id, first!.id, second!.id].sort());
    assert.deepEqual(await conversations().addMembers(id, [third!.id, first!.id], time(35), 4), { outcome: 'added', userIds: [third!.id] });
    assert.equal((await conversations().find(id))?.memberCount, 4);

    const other = await direct();
    assert.deepEqual(await conversations().addMembers(other.id, [fourth!.id], time(36), 10), { outcome: 'notFound' });
    assert.deepEqual(await conversations().addMembers(newId(), [fourth!.id], time(36), 10), { outcome: 'notFound' });
    assert.deepEqual(await memberIdsOf(other.id), [other.a.id, other.b.id].sort());
  });

  test('racing addMembers never take a group past the member limit nor add anyone twice', async () => {
    const [owner] = await users(1);
    const candidates = await users(12);
    const id = await group(owner!, []);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => conversations().addMembers(id, [candidates[2 * i]!.id, candidates[2 * i + 1]!.id], new Date(), 5)),
    );
    const added = results.flatMap((result) => (result.outcome === 'added' ? result.userIds : []));
    assert.equal(added.length, 4);
    assert.equal(results.filter((result) => result.outcome === 'full').length, 4);
    assert.deepEqual(await memberIdsOf(id), [owner!.id, ...added].sort());
    assert.equal((await conversations().find(id))?.memberCount, 5);

    const [x, y] = await users(2);
    const other = await group(owner!, []);
    const same = await Promise.all(Array.from({ length: 5 }, () => conversations().addMembers(other, [x!.id, y!.id], new Date(), 100)));
    assert.deepEqual(same.map((result) => (result.outcome === 'added' ? result.userIds.length : -1)).sort(), [0, 0, 0, 0, 2]);
    assert.equal((await conversations().find(other))?.memberCount, 3);
  });

  test('removeMember: the member leaves; an owner who leaves hands over to the longest-standing admin, else member', async () => {
    const [owner, member1, admin1, admin2] = await users(4);
    const id = await group(owner!, [member1!], time(40));
    await conversations().addMembers(id, [admin1!.id], time(41), 10);
    await conversations().addMembers(id, [admin2!.id], time(42), 10);
    await conversations().setRole(id, admin2!.id, 'admin');
    await conversations().setRole(id, admin1!.id, 'admin');

    assert.deepEqual(await conversations().removeMember(id, owner!.id, time(43)), { removed: true, newOwnerId: admin1!.id });
    assert.equal(await conversations().membership(id, owner!.id), null);
    assert.deepEqual(await conversations().membership(id, admin1!.id), { type: 'group', role: 'owner', peerId: null });
    assert.equal((await conversations().find(id))?.memberCount, 3);
    assert.deepEqual(await conversations().removeMember(id, owner!.id, time(44)), { removed: false, newOwnerId: null });
    assert.deepEqual(await conversations().removeMember(id, admin2!.id, time(44)), { removed: true, newOwnerId: null });
    assert.deepEqual(await conversations().removeMember(id, admin1!.id, time(45)), { removed: true, newOwnerId: member1!.id });
    assert.deepEqual(await conversations().removeMember(id, member1!.id, time(46)), { removed: true, newOwnerId: null });
    assert.equal((await conversations().find(id))?.memberCount, 0);

    // Members who joined together: the lower id takes over.
    const [boss, x, y] = await users(3);
    const tie = await group(boss!, [x!, y!]);
    assert.deepEqual(await conversations().removeMember(tie, boss!.id, new Date()), { removed: true, newOwnerId: [x!.id, y!.id].sort()[0] });

    const pair = await direct();
    assert.deepEqual(await conversations().removeMember(pair.id, pair.a.id, new Date()), { removed: false, newOwnerId: null });
    assert.deepEqual(await conversations().removeMember(newId(), pair.a.id, new Date()), { removed: false, newOwnerId: null });
  });

  test('setRole changes admins and members but never the owner; setTitle renames groups only', async () => {
    const [owner, someone, stranger] = await users(3);
    const id = await group(owner!, [someone!]);
    assert.equal(await conversations().setRole(id, someone!.id, 'admin'), true);
    assert.deepEqual(await conversations().membership(id, someone!.id), { type: 'group', role: 'admin', peerId: null });
    assert.equal(await conversations().setRole(id, someone!.id, 'member'), true);
    assert.deepEqual(await conversations().membership(id, someone!.id), { type: 'group', role: 'member', peerId: null });
    assert.equal(await conversations().setRole(id, owner!.id, 'admin'), false);
    assert.deepEqual(await conversations().membership(id, owner!.id), { type: 'group', role: 'owner', peerId: null });
    assert.equal(await conversations().setRole(id, stranger!.id, 'admin'), false);
    assert.equal(await conversations().membership(id, stranger!.id), null);

    assert.equal(await conversations().setTitle(id, 'Renamed'), true);
    assert.equal((await conversations().find(id))?.title, 'Renamed');
    const pair = await direct();
    assert.equal(await conversations().setRole(pair.id, pair.a.id, 'admin'), false);
    assert.equal(await conversations().setTitle(pair.id, 'No'), false);
    assert.equal((await conversations().find(pair.id))?.title, null);
    assert.equal(await conversations().setTitle(newId(), 'Nothing'), false);
  });
}
