import { sql, type Kysely, type RawBuilder } from 'kysely';
import { firstIdAt } from '../../shared/ids.js';
import type { MessagesRepository } from '../ports.js';
import { newChangePosition, setNewChangePosition } from './change-positions.js';
import { messageColumns, messageDetails, toMessage, type MessageRow } from './message-rows.js';
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

/**
 * A CTE (`requoted`) moving the replies to the messages `ids` selects to new change positions: their
 * quotes show the quoted message as it is now, so sync hands them out again after it changed.
 */
const requoted = (ids: RawBuilder<unknown>) => sql`requoted as (
  update messages r set ${setNewChangePosition} where r.reply_to_id in (${ids}) returning r.id
)`;

export function createMessagesRepository(db: Kysely<Database>, writesOptions: MessageWritesOptions): MessagesRepository & { drain(): Promise<void> } {
  const writes = createMessageWrites(db, writesOptions);
  return {
    drain: writes.drain,
    create: writes.create,

    async findById(id) {
      const { rows } = await sql<MessageRow>`select ${messageColumns('x')} from messages x where x.id = ${id}`.execute(db);
      return rows[0] ? toMessage(rows[0]) : null;
    },

    async edit({ messageId, senderId, text, encrypted, at, createdSince }) {
      // A plain message takes text, an encrypted one a new payload: an edit never changes which it is.
      const { rows } = await sql<MessageRow>`
        with edited as (
          update messages x set text = ${text}, encrypted = ${encrypted ? JSON.stringify(encrypted) : null}::jsonb, edited_at = ${at},
            revision = x.revision + 1, ${setNewChangePosition}
          where x.id = ${messageId} and x.sender_id = ${senderId} and x.deleted_at is null and x.created_at >= ${createdSince}
            and (x.encrypted is null) = ${encrypted === null}
            and exists (select 1 from conversation_members m where m.conversation_id = x.conversation_id and m.user_id = ${senderId} and m.left_at is null)
          returning x.*
        ),
        ${requoted(sql`select id from edited`)}
        select edited.*, ${messageDetails('edited')} from edited`.execute(db);
      // The details subqueries read the statement's snapshot, from before the update: the reply of the
      // edited message is unchanged by it, and reactions are not touched by an edit.
      return rows[0] ? toMessage(rows[0]) : null;
    },

    deleteForEveryone({ messageId, deletedBy, at }) {
      return db.transaction().execute(async (trx) => {
        const { rows } = await sql<MessageRow>`
          update messages x set text = '', encrypted = null, attachments = null, reply_to_id = null, deleted_at = ${at}, deleted_by = ${deletedBy},
            revision = x.revision + 1, ${setNewChangePosition}
          where x.id = ${messageId} and x.deleted_at is null
          returning x.*, null as reply_to, '[]'::json as reactions`.execute(trx);
        // A statement of its own, after the row lock: it sees a reaction committed while the update waited.
        if (rows[0]) {
          await trx.deleteFrom('message_reactions').where('message_id', '=', messageId).execute();
          await trx.updateTable('media').set({ discarded_at: at }).where('message_id', '=', messageId).where('discarded_at', 'is', null).execute();
          await sql`with ${requoted(sql`select ${messageId}::uuid`)} select 1`.execute(trx);
        }
        return rows[0] ? toMessage(rows[0]) : null;
      });
    },

    async hide({ userId, messageId, conversationId, at }) {
      const result = await db
        .insertInto('message_hides')
        .values({ user_id: userId, message_id: messageId, conversation_id: conversationId, hidden_at: at })
        .onConflict((oc) => oc.columns(['user_id', 'message_id']).doNothing())
        .returning('message_id')
        .executeTakeFirst();
      return result !== undefined;
    },

    react({ messageId, userId, emoji, action, at, maxPerUser }) {
      // The message's row lock puts one message's reaction changes in a line: each reads the reactions
      // after the one before it committed, and takes the next revision.
      return db.transaction().execute(async (trx) => {
        const message = await trx.selectFrom('messages').select(['deleted_at']).where('id', '=', messageId).forNoKeyUpdate().executeTakeFirst();
        if (!message || message.deleted_at) return { outcome: 'deleted' } as const;
        let changed: boolean;
        if (action === 'add') {
          const { rows } = await sql<{ added: boolean; full: boolean }>`
            with mine as (select count(*) filter (where emoji <> ${emoji}) as others, bool_or(emoji = ${emoji}) as has
              from message_reactions where message_id = ${messageId} and user_id = ${userId}),
            added as (
              insert into message_reactions (message_id, user_id, emoji, created_at)
              select ${messageId}, ${userId}, ${emoji}, ${at} from mine where mine.has is not true and mine.others < ${maxPerUser}
              returning 1
            )
            select exists (select 1 from added) as added, (select others >= ${maxPerUser} and has is not true from mine) as full`.execute(trx);
          if (rows[0]!.full) return { outcome: 'tooMany' } as const;
          changed = rows[0]!.added;
        } else {
          const removed = await trx
            .deleteFrom('message_reactions')
            .where('message_id', '=', messageId)
            .where('user_id', '=', userId)
            .where('emoji', '=', emoji)
            .executeTakeFirst();
          changed = removed.numDeletedRows > 0n;
        }
        const { rows } = changed
          ? await sql<MessageRow>`
              update messages x set revision = x.revision + 1, ${setNewChangePosition} where x.id = ${messageId}
              returning ${messageColumns('x')}`.execute(trx)
          : await sql<MessageRow>`select ${messageColumns('x')} from messages x where x.id = ${messageId}`.execute(trx);
        const row = rows[0]!;
        return { outcome: 'done', changed, revision: row.revision, reactions: row.reactions } as const;
      });
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
      const { rows } = await sql<MessageRow>`
        select ${messageColumns('x')} from messages x
        where x.conversation_id = ${conversationId} ${page.before ? sql`and x.id < ${page.before}` : sql``}
          ${page.hiddenFor ? sql`and not exists (select 1 from message_hides h where h.user_id = ${page.hiddenFor} and h.message_id = x.id)` : sql``}
        order by x.id desc
        limit ${page.limit}`.execute(db);
      return rows.map(toMessage);
    },

    async contactsAmong(userId, otherIds) {
      if (otherIds.length === 0) return new Set();
      // Each other user's direct conversation with the user, through the pair's unique index.
      const { rows } = await sql<{ user_id: string }>`
        select peer.user_id from unnest(${otherIds}::uuid[]) as other (id)
        join conversations c on c.direct_low_user_id = least(other.id, ${userId}::uuid) and c.direct_high_user_id = greatest(other.id, ${userId}::uuid)
        join conversation_members peer on peer.conversation_id = c.id and peer.user_id = other.id
        where peer.has_written
          and not exists (select 1 from user_blocks b where (b.blocker_id, b.blocked_id) in ((other.id, ${userId}::uuid), (${userId}::uuid, other.id)))`.execute(db);
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

    async countCreated({ from, to }) {
      const row = await db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('id', '>=', firstIdAt(from))
        .where('id', '<', firstIdAt(to))
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },
  };
}
