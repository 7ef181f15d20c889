import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('sender_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('recipient_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    // The conversation, as the ordered pair of its two users, so one index serves both directions.
    .addColumn('low_user_id', 'uuid', (col) => col.notNull())
    .addColumn('high_user_id', 'uuid', (col) => col.notNull())
    .addColumn('text', 'text', (col) => col.notNull())
    .addColumn('client_message_id', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('read_at', 'timestamptz')
    // The message's latest position in each party's chat stream (see chat_streams).
    .addColumn('sender_seq', 'bigint', (col) => col.notNull())
    .addColumn('recipient_seq', 'bigint', (col) => col.notNull())
    .addCheckConstraint('messages_not_to_self', sql`sender_id <> recipient_id`)
    .addCheckConstraint('messages_pair_ordered', sql`low_user_id < high_user_id`)
    .addUniqueConstraint('messages_client_message_id_key', ['sender_id', 'client_message_id'])
    .execute();
  await db.schema
    .createIndex('messages_conversation_idx')
    .on('messages')
    .expression(sql`low_user_id, high_user_id, id desc`)
    .execute();
  await db.schema.createIndex('messages_sender_stream_idx').on('messages').columns(['sender_id', 'sender_seq']).execute();
  await db.schema.createIndex('messages_recipient_stream_idx').on('messages').columns(['recipient_id', 'recipient_seq']).execute();
  // Unread counts and marking read touch only unread rows.
  await db.schema
    .createIndex('messages_unread_idx')
    .on('messages')
    .columns(['recipient_id', 'sender_id', 'id'])
    .where(sql.ref('read_at'), 'is', null)
    .execute();

  // One row per user and peer they have exchanged messages with, for the conversation list.
  await db.schema
    .createTable('conversations')
    .addColumn('owner_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('peer_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('last_message_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('conversations_pkey', ['owner_id', 'peer_id'])
    .execute();
  await db.schema
    .createIndex('conversations_recent_idx')
    .on('conversations')
    .expression(sql`owner_id, last_message_id desc`)
    .execute();

  // Each user's chat stream: the last position handed out. Locking a user's row orders the changes in
  // that user's stream by commit, so a client that syncs after a position never skips one.
  await db.schema
    .createTable('chat_streams')
    .addColumn('user_id', 'uuid', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (col) => col.notNull())
    .execute();

  // People search: case-insensitive prefix of the name or the email. The "C" collation lets a plain
  // b-tree serve LIKE 'prefix%' and the ordering by name.
  await db.schema
    .createIndex('users_name_search_idx')
    .on('users')
    .expression(sql`lower(name) collate "C", id`)
    .execute();
  await db.schema
    .createIndex('users_email_search_idx')
    .on('users')
    .expression(sql`email collate "C"`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_email_search_idx').execute();
  await db.schema.dropIndex('users_name_search_idx').execute();
  for (const table of ['chat_streams', 'conversations', 'messages']) {
    await db.schema.dropTable(table).execute();
  }
}
