import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ChatChanges, ChatChangesRepository, MessageRecord } from '../ports.js';
import { decodeCursor, encodeCursor, type ChangeWindow } from './chat-cursor.js';
import { loadMemberConversations } from './conversations-repository.js';
import { messageDetails, toMessage, type MessageRow } from './message-rows.js';
import type { Database } from './schema.js';

/**
 * Sync. Every row that changes carries (change_xid, change_pos): the transaction that last wrote it and
 * a sequence value (change-positions.ts). Nothing is written per member, so a group message costs one row
 * however many members it has.
 *
 * Transaction ids are not handed out in commit order, so a cursor is a window between two snapshots
 * (chat-cursor.ts): a batch is the rows written by the transactions visible in `until` (the snapshot
 * taken when the batch began) and not in `since` (the previous batch's `until`). A transaction still
 * running at `until` is invisible in it and so belongs to a later batch, whatever its id: nothing
 * committed later lands before a cursor already handed out, and nothing waits for a long transaction.
 * Within a batch, changes come in (change_xid, change_pos) order, paged by the last one returned. A row
 * written again moves to the batch of its new transaction: each change comes once, in its latest state.
 */
interface Position {
  xid: bigint;
  pos: bigint;
}

const compare = (a: Position, b: Position) => (a.xid !== b.xid ? (a.xid < b.xid ? -1 : 1) : a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0);

interface PositionColumns {
  change_xid: string;
  change_pos: string;
}

const positionOf = (row: PositionColumns): Position => ({ xid: BigInt(row.change_xid), pos: BigInt(row.change_pos) });

type Change =
  | { kind: 'message'; at: Position; message: MessageRecord }
  | { kind: 'conversation'; at: Position; conversationId: string }
  | { kind: 'read'; at: Position; read: ChatChanges['reads'][number] }
  | { kind: 'left'; at: Position; left: ChatChanges['left'][number] }
  | { kind: 'hidden'; at: Position; hidden: ChatChanges['hidden'][number] };

type Batch = ChangeWindow & { until: string };

const currentSnapshot = (db: Kysely<Database>) =>
  sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db).then(({ rows }) => rows[0]!.snapshot);

/**
 * The first `limit` + 1 of the user's changes in the batch after its `last`, in position order: from each
 * of the five kinds that many, merged. Messages (but those the user hid), conversations and read
 * positions are those of the conversations the user belongs to now (per conversation one probe of its
 * sync index); left are the user's own member rows that have left, hidden the user's own hides in
 * conversations they belong to.
 */
async function readBatch(db: Kysely<Database>, userId: string, batch: Batch, limit: number): Promise<Change[]> {
  const { since, until, last } = batch;
  // Ids below `since`'s xmin are all visible in it, so each index range starts there.
  const inBatch = (alias: string) => {
    const [xid, pos] = [sql.ref(`${alias}.change_xid`), sql.ref(`${alias}.change_pos`)];
    return {
      where: sql`${xid} >= pg_snapshot_xmin(${since}::pg_snapshot) and ${xid} < pg_snapshot_xmax(${until}::pg_snapshot)
        and pg_visible_in_snapshot(${xid}, ${until}::pg_snapshot) and not pg_visible_in_snapshot(${xid}, ${since}::pg_snapshot)
        ${last ? sql`and (${xid}, ${pos}) > (${last.xid}::xid8, ${last.pos}::bigint)` : sql``}`,
      order: sql`order by ${xid}, ${pos} limit ${limit + 1}`,
    };
  };
  const [x, c, r, l, h] = [inBatch('x'), inBatch('c'), inBatch('r'), inBatch('l'), inBatch('h')];
  const isMember = sql`m.user_id = ${userId} and m.left_at is null`;
  const perMembership = <Row>(inner: RawBuilder<unknown>) =>
    sql<Row & PositionColumns>`select picked.* from conversation_members m cross join lateral (${inner}) picked
      where ${isMember} order by picked.change_xid, picked.change_pos limit ${limit + 1}`;
  const [messages, conversations, reads, left, hidden] = await Promise.all([
    perMembership<MessageRow>(
      sql`select x.*, ${messageDetails('x')} from messages x where x.conversation_id = m.conversation_id and ${x.where}
        and not exists (select 1 from message_hides hidden where hidden.user_id = m.user_id and hidden.message_id = x.id) ${x.order}`,
    ).execute(db),
    sql<{ id: string } & PositionColumns>`
      select c.id, c.change_xid, c.change_pos from conversation_members m join conversations c on c.id = m.conversation_id
      where ${isMember} and ${c.where} ${c.order}`.execute(db),
    // Read positions of current members (the user's own too: their other devices follow).
    perMembership<{ conversation_id: string; user_id: string; last_read_message_id: string; last_read_at: Date }>(
      sql`select r.conversation_id, r.user_id, r.last_read_message_id, r.last_read_at, r.change_xid, r.change_pos
        from conversation_members r
        where r.conversation_id = m.conversation_id and ${r.where} and r.left_at is null and r.last_read_message_id is not null
        ${r.order}`,
    ).execute(db),
    sql<{ conversation_id: string; left_at: Date } & PositionColumns>`
      select l.conversation_id, l.left_at, l.change_xid, l.change_pos from conversation_members l
      where l.user_id = ${userId} and l.left_at is not null and ${l.where} ${l.order}`.execute(db),
    sql<{ conversation_id: string; message_id: string; hidden_at: Date } & PositionColumns>`
      select h.conversation_id, h.message_id, h.hidden_at, h.change_xid, h.change_pos from message_hides h
      where h.user_id = ${userId} and ${h.where}
        and exists (select 1 from conversation_members m where m.conversation_id = h.conversation_id and ${isMember})
      ${h.order}`.execute(db),
  ]);
  return [
    ...messages.rows.map((row): Change => ({ kind: 'message', at: positionOf(row), message: toMessage(row) })),
    ...conversations.rows.map((row): Change => ({ kind: 'conversation', at: positionOf(row), conversationId: row.id })),
    ...reads.rows.map(
      (row): Change => ({
        kind: 'read',
        at: positionOf(row),
        read: { conversationId: row.conversation_id, userId: row.user_id, lastReadMessageId: row.last_read_message_id, readAt: row.last_read_at },
      }),
    ),
    ...left.rows.map((row): Change => ({ kind: 'left', at: positionOf(row), left: { conversationId: row.conversation_id, leftAt: row.left_at } })),
    ...hidden.rows.map(
      (row): Change => ({ kind: 'hidden', at: positionOf(row), hidden: { conversationId: row.conversation_id, messageId: row.message_id, hiddenAt: row.hidden_at } }),
    ),
  ]
    .sort((a, b) => compare(a.at, b.at))
    .slice(0, limit + 1);
}

export function createChatChangesRepository(db: Kysely<Database>): ChatChangesRepository {
  return {
    async head() {
      return encodeCursor({ since: await currentSnapshot(db) });
    },

    async after(userId, cursor, limit) {
      const window = decodeCursor(cursor);
      if (!window) return null;
      // A batch being paged is finished first; whatever room is left goes on with a new batch up to
      // now, so that hasMore false means the user has caught up.
      const page: Change[] = [];
      let batch: Batch = { ...window, until: window.until ?? (await currentSnapshot(db)) };
      let paging = window.until !== undefined;
      let next: ChangeWindow;
      let hasMore = false;
      for (;;) {
        const room = limit - page.length;
        const found = await readBatch(db, userId, batch, room);
        const taken = found.slice(0, room);
        page.push(...taken);
        const lastTaken = taken.at(-1)?.at;
        if (found.length > room) {
          hasMore = true;
          next = { ...batch, last: lastTaken ? { xid: String(lastTaken.xid), pos: String(lastTaken.pos) } : batch.last };
          break;
        }
        next = { since: batch.until };
        if (!paging) break;
        paging = false;
        batch = { since: batch.until, until: await currentSnapshot(db) };
      }

      const result: ChatChanges = {
        messages: [],
        conversations: await loadMemberConversations(
          db,
          userId,
          page.flatMap((change) => (change.kind === 'conversation' ? [change.conversationId] : [])),
        ),
        reads: [],
        left: [],
        hidden: [],
        cursor: encodeCursor(next),
        hasMore,
      };
      for (const change of page) {
        if (change.kind === 'message') result.messages.push(change.message);
        if (change.kind === 'read') result.reads.push(change.read);
        if (change.kind === 'left') result.left.push(change.left);
        if (change.kind === 'hidden') result.hidden.push(change.hidden);
      }
      return result;
    },
  };
}
