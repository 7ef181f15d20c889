import { sql, type Kysely } from 'kysely';
import type { MessagesRepository } from '../ports.js';
import { newChangePosition, setNewChangePosition } from './change-positions.js';
import { toMessage } from './message-rows.js';
import { createMessageWrites, type MessageWritesOptions } from './message-writes.js';
import type { Database } from './schema.js';

/** Sorts before every message id: the read position of a member who has read nothing. */
const NOTHING_READ = sql`'00000000-0000-0000-0000-000000000000'::uuid`;

/**
 * The messages from others after the read position of the member row aliased `member`: an index-only
 * range of messages_history_idx, which carries the sender.
 */
export const unreadCountOf = (member: string) => sql<string>`(
  select count(*) from messages x
  where x.conversation_id = ${sql.ref(`${member}.conversation_id`)}
    and x.id > coalesce(${sql.ref(`${member}.last_read_message_id`)}, ${NOTHING_READ})
    and x.sender_id <> ${sql.ref(`${member}.user_id`)}
)`;

export function createMessagesRepository(db: Kysely<Database>, writesOptions: MessageWritesOptions): MessagesRepository & { drain(): Promise<void> } {
  const writes = createMessageWrites(db, writesOptions);
  return {
    drain: writes.drain,
    create: writes.create,

    async findById(id) {
      const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toMessage(row) : null;
    },

    async markRead({ readerId, conversationId, upToId, at }) {
      // One statement: the unread messages to the reader (messages_direct_unread_idx) and the reader's
      // read position, which moves to the newest of them and never back.
      const { rows } = await sql<{ marked: string }>`
        with marked as (
          update messages set read_at = ${at}, delivered_at = coalesce(delivered_at, ${at}), ${setNewChangePosition}
          where conversation_id = ${conversationId} and recipient_id = ${readerId} and read_at is null and id <= ${upToId}
          returning id
        ),
        newest as (select id from marked order by id desc limit 1),
        moved as (
          update conversation_members m set last_read_message_id = newest.id, last_read_at = ${at}, ${setNewChangePosition}
          from newest
          where m.conversation_id = ${conversationId} and m.user_id = ${readerId}
            and (m.last_read_message_id is null or m.last_read_message_id < newest.id)
        )
        select count(*) as marked from marked`.execute(db);
      return Number(rows[0]?.marked) > 0;
    },

    async markDelivered({ messageId, at }) {
      const result = await db
        .updateTable('messages')
        .set({ delivered_at: at, ...newChangePosition })
        .where('id', '=', messageId)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async history(conversationId, page) {
      let query = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId);
      if (page.before) query = query.where('id', '<', page.before);
      const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
      return rows.map(toMessage);
    },

    async contactsAmong(userId, otherIds) {
      if (otherIds.length === 0) return new Set();
      // Each other user's direct conversation with the user, through the pair's unique index.
      const { rows } = await sql<{ user_id: string }>`
        select peer.user_id from unnest(${otherIds}::uuid[]) as other (id)
        join conversations c on c.direct_low_user_id = least(other.id, ${userId}::uuid) and c.direct_high_user_id = greatest(other.id, ${userId}::uuid)
        join conversation_members peer on peer.conversation_id = c.id and peer.user_id = other.id
        where peer.has_written`.execute(db);
      return new Set(rows.map((row) => row.user_id));
    },

    async unreadTotals(userIds) {
      const { rows } = await sql<{ user_id: string; total: string }>`
        select m.user_id, coalesce(sum(${unreadCountOf('m')}), 0) as total from conversation_members m
        where m.user_id = any(${userIds}::uuid[]) and m.left_at is null
        group by m.user_id`.execute(db);
      const totals = new Map(userIds.map((userId) => [userId, 0]));
      for (const row of rows) totals.set(row.user_id, Number(row.total));
      return totals;
    },
  };
}
