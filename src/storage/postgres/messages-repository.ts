import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { MessageRecord, MessagesRepository, StreamedMessage } from '../ports.js';
import type { Database, MessagesTable } from './schema.js';

function toMessage(row: Selectable<MessagesTable>): MessageRecord {
  return {
    id: row.id,
    senderId: row.sender_id,
    recipientId: row.recipient_id,
    text: row.text,
    clientMessageId: row.client_message_id,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
  };
}

/** The two users of a conversation in a fixed order, as stored in low_user_id / high_user_id. */
function pair(a: string, b: string): { low: string; high: string } {
  return a < b ? { low: a, high: b } : { low: b, high: a };
}

/**
 * The statement fragment that moves users' chat streams `by` positions each and returns their new
 * positions. Every write that touches a stream starts with it: the upsert locks the users' rows in id
 * order until commit, so writers never deadlock and each stream advances in commit order (a client that
 * syncs after position n can never miss a change committed later with a lower position). `by` may be 0.
 */
function advanceStreams(userIds: string[], by: RawBuilder<unknown>) {
  const rows = [...userIds].sort().map((userId) => sql`(${userId}::uuid, ${by})`);
  return sql`insert into chat_streams (user_id, seq) values ${sql.join(rows)}
    on conflict (user_id) do update set seq = chat_streams.seq + excluded.seq
    returning user_id, seq`;
}

/** A user's position from the advanceStreams fragment named `streams` in the same statement. */
const positionOf = (userId: string) => sql`(select seq from streams where user_id = ${userId})`;

export function createMessagesRepository(db: Kysely<Database>): MessagesRepository {
  const findById = async (id: string) => {
    const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toMessage(row) : null;
  };

  const streamBranch = (column: 'sender' | 'recipient', userId: string, after: number, limit: number) =>
    db
      .selectFrom('messages')
      .selectAll()
      .where(`${column}_id`, '=', userId)
      // bigint columns are typed as the strings node-postgres reads them as.
      .where(`${column}_seq`, '>', String(after))
      .orderBy(`${column}_seq`)
      .limit(limit)
      .execute()
      .then((rows) => rows.map((row): StreamedMessage => ({ message: toMessage(row), seq: Number(row[`${column}_seq`]) })));

  return {
    findById,

    async create(message) {
      const { senderId, recipientId } = message;
      const { low, high } = pair(senderId, recipientId);
      // One statement, one round trip. A retry still moves both streams (a harmless gap) and inserts nothing.
      const { rows } = await sql<Selectable<MessagesTable>>`
        with streams as (${advanceStreams([senderId, recipientId], sql`1`)}),
        inserted as (
          insert into messages (id, sender_id, recipient_id, low_user_id, high_user_id, text, client_message_id, created_at, sender_seq, recipient_seq)
          values (${message.id}, ${senderId}, ${recipientId}, ${low}, ${high}, ${message.text}, ${message.clientMessageId},
            ${message.createdAt}, ${positionOf(senderId)}, ${positionOf(recipientId)})
          on conflict (sender_id, client_message_id) do nothing
          returning *
        ),
        conversations_moved as (
          insert into conversations (owner_id, peer_id, last_message_id, peer_has_written)
          select owner_id, peer_id, inserted.id, peer_id = ${senderId}::uuid
          from inserted, (values (${low}::uuid, ${high}::uuid), (${high}::uuid, ${low}::uuid)) as parties (owner_id, peer_id)
          on conflict (owner_id, peer_id) do update set
            last_message_id = greatest(conversations.last_message_id, excluded.last_message_id),
            peer_has_written = conversations.peer_has_written or excluded.peer_has_written
        )
        select * from inserted`.execute(db);
      // On a retry the first attempt has committed (our insert waited for it), so it is visible now.
      const stored =
        rows[0] ??
        (await db
          .selectFrom('messages')
          .selectAll()
          .where('sender_id', '=', senderId)
          .where('client_message_id', '=', message.clientMessageId)
          .executeTakeFirstOrThrow());
      return {
        created: rows.length > 0,
        message: toMessage(stored),
        senderSeq: Number(stored.sender_seq),
        recipientSeq: Number(stored.recipient_seq),
      };
    },

    async markRead({ readerId, senderId, upToId, at }) {
      // Each marked message gets its own position in both streams: base + its rank among them.
      const { rows } = await sql<{ marked: string; reader_seq: string; sender_seq: string }>`
        with unread as (
          select id, row_number() over (order by id) as rank from messages
          where recipient_id = ${readerId} and sender_id = ${senderId} and id <= ${upToId} and read_at is null
        ),
        streams as (${advanceStreams([readerId, senderId], sql`(select count(*) from unread)`)}),
        marked as (
          update messages set read_at = ${at}, delivered_at = coalesce(messages.delivered_at, ${at}),
            recipient_seq = ${positionOf(readerId)} - (select count(*) from unread) + unread.rank,
            sender_seq = ${positionOf(senderId)} - (select count(*) from unread) + unread.rank
          from unread
          where messages.id = unread.id and messages.read_at is null
          returning messages.id
        )
        select (select count(*) from marked) as marked, ${positionOf(readerId)} as reader_seq, ${positionOf(senderId)} as sender_seq`.execute(db);
      const row = rows[0];
      return row && Number(row.marked) > 0 ? { readerSeq: Number(row.reader_seq), senderSeq: Number(row.sender_seq) } : null;
    },

    async markDelivered({ messageId, senderId, at }) {
      const { rows } = await sql<{ sender_seq: string }>`
        with undelivered as (
          select id from messages where id = ${messageId} and sender_id = ${senderId} and delivered_at is null
        ),
        streams as (${advanceStreams([senderId], sql`(select count(*) from undelivered)`)}),
        marked as (
          update messages set delivered_at = ${at}, sender_seq = ${positionOf(senderId)}
          where id in (select id from undelivered) and delivered_at is null
          returning id
        )
        select ${positionOf(senderId)} as sender_seq from marked`.execute(db);
      const row = rows[0];
      return row ? { senderSeq: Number(row.sender_seq) } : null;
    },

    async history(userId, peerId, page) {
      const { low, high } = pair(userId, peerId);
      let query = db.selectFrom('messages').selectAll().where('low_user_id', '=', low).where('high_user_id', '=', high);
      if (page.before) query = query.where('id', '<', page.before);
      const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
      return rows.map(toMessage);
    },

    async conversations(userId, page) {
      let query = db
        .selectFrom('conversations as c')
        .innerJoin('messages as m', 'm.id', 'c.last_message_id')
        .innerJoin('users as peer', 'peer.id', 'c.peer_id')
        .selectAll('m')
        .select(['peer.id as peer_id', 'peer.name as peer_name', 'peer.last_seen_at as peer_last_seen_at'])
        .select((eb) =>
          eb
            .selectFrom('messages as u')
            .select(eb.fn.countAll<string>().as('count'))
            .whereRef('u.recipient_id', '=', 'c.owner_id')
            .whereRef('u.sender_id', '=', 'c.peer_id')
            .where('u.read_at', 'is', null)
            .as('unread_count'),
        )
        .where('c.owner_id', '=', userId);
      if (page.before) query = query.where('c.last_message_id', '<', page.before);
      const rows = await query.orderBy('c.last_message_id', 'desc').limit(page.limit).execute();
      return rows.map((row) => ({
        peer: { id: row.peer_id, name: row.peer_name, lastSeenAt: row.peer_last_seen_at },
        lastMessage: toMessage(row),
        unreadCount: Number(row.unread_count),
      }));
    },

    async streamAfter(userId, after, limit) {
      // A user's stream is spread over the messages they sent and received: merge the two index scans.
      const [sent, received] = await Promise.all([
        streamBranch('sender', userId, after, limit),
        streamBranch('recipient', userId, after, limit),
      ]);
      return [...sent, ...received].sort((a, b) => a.seq - b.seq).slice(0, limit);
    },

    async streamHead(userId) {
      const row = await db.selectFrom('chat_streams').select('seq').where('user_id', '=', userId).executeTakeFirst();
      return row ? Number(row.seq) : 0;
    },

    async contactsAmong(userId, otherIds) {
      if (otherIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('conversations')
        .select('peer_id')
        .where('owner_id', '=', userId)
        .where('peer_id', 'in', otherIds)
        .where('peer_has_written', '=', true)
        .execute();
      return new Set(rows.map((row) => row.peer_id));
    },

    async unreadTotal(userId) {
      // Served by messages_unread_idx (a partial index of the unread messages).
      const row = await db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('recipient_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
