import { sql, type Kysely, type Selectable } from 'kysely';
import type { CreateMessageResult, MessageRecord, MessagesRepository, NewMessage } from '../ports.js';
import { newChangePosition, setNewChangePosition } from './change-positions.js';
import { GroupCommit } from './group-commit.js';
import type { Database, MessagesTable } from './schema.js';

export type MessageRow = Omit<Selectable<MessagesTable>, 'change_xid' | 'change_pos'>;

export function toMessage(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    senderId: row.sender_id,
    recipientId: row.recipient_id,
    text: row.text,
    clientMessageId: row.client_message_id,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
  };
}

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

const identity = (...parts: (string | null)[]) => parts.join(' ');

/** The columns of a stored message that the port shows. */
const messageColumns = sql.raw('id, conversation_id, sender_id, recipient_id, text, client_message_id, created_at, delivered_at, read_at');

/**
 * Stores messages in one statement, in their order: the membership checks, the inserts (at most once per
 * (sender, clientMessageId): a second copy in the same batch, or a retry racing in another transaction,
 * which waits for the first to commit, inserts nothing) and the senders' first-write flags. Nothing is
 * written to the conversation rows: their last messages are read from the history index.
 */
async function storeMessages(db: Kysely<Database>, messages: readonly NewMessage[]): Promise<CreateMessageResult[]> {
  const column = <K extends keyof NewMessage>(key: K) => messages.map((message) => message[key]);
  const { rows } = await sql<MessageRow>`
    with batch as (
      select * from unnest(${column('id')}::uuid[], ${column('conversationId')}::uuid[], ${column('senderId')}::uuid[],
        ${column('recipientId')}::uuid[], ${column('text')}::text[], ${column('clientMessageId')}::text[], ${column('createdAt')}::timestamptz[])
        with ordinality as b (id, conversation_id, sender_id, recipient_id, text, client_message_id, created_at, position)
    ),
    inserted as (
      insert into messages (id, conversation_id, sender_id, recipient_id, text, client_message_id, created_at)
      select b.id, b.conversation_id, b.sender_id, b.recipient_id, b.text, b.client_message_id, b.created_at from batch b
      where exists (
        select 1 from conversation_members m
        where m.conversation_id = b.conversation_id and m.user_id = b.sender_id and m.left_at is null
      )
      order by b.position
      on conflict (sender_id, client_message_id) do nothing
      returning ${messageColumns}
    ),
    first_write as (
      update conversation_members m set has_written = true, ${setNewChangePosition}
      from (select distinct conversation_id, sender_id from inserted) w
      where m.conversation_id = w.conversation_id and m.user_id = w.sender_id and not m.has_written
    )
    select * from inserted`.execute(db);
  // An inserted row is the first message in the batch with its identity; later copies are retries of it.
  const inserted = new Map(rows.map((row) => [identity(row.id, row.conversation_id, row.sender_id, row.client_message_id), row]));
  const results = messages.map((message): CreateMessageResult | undefined => {
    const key = identity(message.id, message.conversationId, message.senderId, message.clientMessageId);
    const row = inserted.get(key);
    inserted.delete(key);
    return row && { outcome: 'stored', created: true, message: toMessage(row) };
  });
  // Retries: the first attempts have committed (a racing insert waits for them), so they are visible now.
  const retries = messages.filter((message, index) => !results[index] && message.clientMessageId !== null);
  const earlier = new Map<string, MessageRow>();
  if (retries.length > 0) {
    const { rows: found } = await sql<MessageRow>`
      select ${messageColumns} from messages
      where (sender_id, client_message_id) in (
        select * from unnest(${retries.map((message) => message.senderId)}::uuid[], ${retries.map((message) => message.clientMessageId)}::text[])
      )`.execute(db);
    for (const row of found) earlier.set(identity(row.sender_id, row.client_message_id), row);
  }
  return messages.map((message, index) => {
    const row = message.clientMessageId === null ? undefined : earlier.get(identity(message.senderId, message.clientMessageId));
    return results[index] ?? (row ? { outcome: 'stored', created: false, message: toMessage(row) } : { outcome: 'notMember' });
  });
}

export interface MessagesStore extends MessagesRepository {
  /** Stores the messages already handed to create, then refuses new ones. */
  close(): Promise<void>;
}

/**
 * Messages. Concurrent creates are written together (group-commit.ts): each resolves once the statement
 * that stored it has committed. `concurrency` is how many of those statements may run at once.
 */
export function createMessagesRepository(db: Kysely<Database>, options: { concurrency: number }): MessagesStore {
  const writes = new GroupCommit((batch: NewMessage[]) => storeMessages(db, batch), { maxBatch: 64, maxQueued: 1024, ...options, ...TEMP() });
  return {
    create: (message) => writes.add(message),
    close: () => writes.close(),

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

const TEMP = () => ({ ...(process.env['HC_BATCH'] ? { maxBatch: Number(process.env['HC_BATCH']) } : {}), ...(process.env['HC_CONC'] ? { concurrency: Number(process.env['HC_CONC']) } : {}) });
