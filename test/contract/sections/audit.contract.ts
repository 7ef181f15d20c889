import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntryRecord, AuditFilter } from '../../../src/audit/audit-store.js';
import { newId } from '../../../src/shared/ids.js';
import type { ContractContext } from '../storage-contract.js';

const HOUR = 3_600_000;

export function auditContract(ctx: ContractContext): void {
  const audit = () => ctx.storage.audit;
  /** Entries are named by users no other test uses (the database may be shared), made oldest first. */
  const entries = (count: number, make: (index: number) => Partial<AuditEntryRecord>): AuditEntryRecord[] =>
    Array.from(
      { length: count },
      (_, index) =>
        ({
          id: newId(),
          at: new Date(Date.now() - (count - index) * 1000),
          type: 'login.succeeded',
          actorId: null,
          targetUserId: null,
          ip: '192.0.2.7',
          userAgent: 'contract-test/1.0',
          details: { sessionId: newId() },
          ...make(index),
        }) as AuditEntryRecord,
    );
  const appendAll = async (list: readonly AuditEntryRecord[]) => {
    for (const entry of list) await audit().append(entry);
  };
  const ids = (list: readonly AuditEntryRecord[]) => list.map((entry) => entry.id);
  const newestFirst = (list: readonly AuditEntryRecord[]) => [...list].reverse();

  test('an appended entry reads back as it was; an id already stored is refused and the entry stays', async () => {
    const actorId = newId();
    const [entry] = entries(1, () => ({
      type: 'user.status_changed',
      actorId,
      targetUserId: newId(),
      details: { from: 'active', to: 'banned', sessionsRevoked: 2 },
    }));
    await audit().append(entry!);
    const [bare] = entries(1, () => ({ type: 'login.failed', actorId: null, targetUserId: actorId, ip: null, userAgent: null, details: { reason: 'unknown_account' } }));
    await audit().append(bare!);
    assert.deepEqual(await audit().list({ userId: actorId, limit: 10 }), [bare, entry]);
    await assert.rejects(audit().append({ ...entry!, type: 'login.succeeded', details: { sessionId: newId() } } as AuditEntryRecord));
    assert.deepEqual(await audit().list({ userId: actorId, limit: 10 }), [bare, entry]);
  });

  test('filters: the user as actor or target, types, a time window (from included, to not), all at once', async () => {
    const user = newId();
    const other = newId();
    const base = Date.now() - 10 * HOUR;
    const list = entries(6, (index) => ({
      at: new Date(base + index * HOUR),
      actorId: index % 2 === 0 ? user : other,
      targetUserId: index % 2 === 0 ? other : index === 5 ? other : user,
      type: index < 3 ? 'login.succeeded' : 'session.logged_out',
    }));
    await appendAll(list);
    const find = (filter: Omit<AuditFilter, 'limit'>) => audit().list({ ...filter, limit: 100 });
    const mine = list.filter((entry) => entry.actorId === user || entry.targetUserId === user);
    assert.deepEqual(ids(await find({ userId: user })), ids(newestFirst(mine)));
    assert.deepEqual(ids(await find({ userId: user, types: ['session.logged_out'] })), ids(newestFirst(mine.filter((entry) => entry.type === 'session.logged_out'))));
    assert.equal((await find({ userId: other, types: ['login.succeeded', 'session.logged_out'] })).length, 6);
    assert.deepEqual(await find({ userId: user, types: [] }), []);
    const window = { from: list[1]!.at, to: list[4]!.at };
    assert.deepEqual(ids(await find({ userId: other, ...window })), ids(newestFirst(list.slice(1, 4))));
    assert.deepEqual(ids(await find({ userId: other, from: list[4]!.at })), ids(newestFirst(list.slice(4))));
    assert.deepEqual(ids(await find({ userId: user, types: ['login.succeeded'], ...window })), ids([list[2]!, list[1]!]));
    assert.deepEqual(await find({ userId: newId() }), []);
  });

  test('pages by id, newest first: every entry once, none skipped, also with entries added meanwhile', async () => {
    const user = newId();
    const list = entries(7, () => ({ actorId: user }));
    await appendAll(list);
    const seen: string[] = [];
    let before: string | undefined;
    for (let page = 0; ; page += 1) {
      const rows = await audit().list({ userId: user, before, limit: 3 });
      if (page === 0) await appendAll(entries(2, () => ({ actorId: user })));
      seen.push(...ids(rows));
      if (rows.length < 3) break;
      before = rows.at(-1)!.id;
    }
    assert.deepEqual(seen, ids(newestFirst(list)), 'entries added after the first page are newer: they are not in its later pages');
    assert.equal((await audit().list({ userId: user, limit: 100 })).length, 9);
  });

  test('deleteOlderThan deletes only entries recorded before the time, at most `limit` at a time', async () => {
    const user = newId();
    const now = Date.now();
    // Recent times: no server with a retention of a day or more, sharing the database, deletes these.
    const [oldest, old, recent] = entries(3, (index) => ({ actorId: user, at: new Date(now - (3 - index) * HOUR) }));
    await appendAll([oldest!, old!, recent!]);
    const cutoff = new Date(now - 1.5 * HOUR);
    for (;;) {
      const deleted = await audit().deleteOlderThan(cutoff, 1);
      assert.ok(deleted <= 1, `deleted ${deleted} with a limit of 1`);
      if (deleted === 0) break;
    }
    assert.deepEqual(await audit().list({ userId: user, limit: 10 }), [recent]);
    assert.equal(await audit().deleteOlderThan(cutoff, 10), 0);
  });
}
