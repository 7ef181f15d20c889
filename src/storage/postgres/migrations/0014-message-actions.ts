import { sql, type Kysely } from 'kysely';

/**
 * Message actions and safety. Messages can be edited, deleted for everyone (a tombstone: the content
 * goes, the id, sender and time stay), reply to another message, and carry reactions; `revision` counts
 * the changes of a message's content and reactions, so devices can tell a newer state from an older one.
 * Adding nullable columns and a constant default rewrites nothing. Users hide messages for themselves
 * (rows with a change position, so their other devices learn it through sync), block other users, and
 * report abuse.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table messages
      add column edited_at timestamptz,
      add column deleted_at timestamptz,
      add column deleted_by uuid,
      add column reply_to_id uuid,
      add column revision integer not null default 0`.execute(db);
  // The replies to a message: their quotes change with it, so they move in the chat changes too.
  await sql`create index messages_reply_idx on messages (reply_to_id) where reply_to_id is not null`.execute(db);
  await sql`
    create table message_reactions (
      message_id uuid not null references messages (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      emoji text not null,
      created_at timestamptz not null,
      primary key (message_id, user_id, emoji)
    )`.execute(db);
  await sql`
    create table message_hides (
      user_id uuid not null references users (id) on delete cascade,
      message_id uuid not null references messages (id) on delete cascade,
      conversation_id uuid not null references conversations (id) on delete cascade,
      hidden_at timestamptz not null,
      change_xid xid8 not null default pg_current_xact_id(),
      change_pos bigint not null default nextval('chat_change_positions'),
      primary key (user_id, message_id)
    )`.execute(db);
  // Sync: the messages a user hid, in change order.
  await sql`create index message_hides_sync_idx on message_hides (user_id, change_xid, change_pos)`.execute(db);
  await sql`
    create table user_blocks (
      blocker_id uuid not null references users (id) on delete cascade,
      blocked_id uuid not null references users (id) on delete cascade,
      created_at timestamptz not null,
      primary key (blocker_id, blocked_id),
      check (blocker_id <> blocked_id)
    )`.execute(db);
  await sql`
    create table abuse_reports (
      id uuid primary key,
      reporter_id uuid not null references users (id) on delete cascade,
      reported_user_id uuid not null references users (id) on delete cascade,
      message_id uuid references messages (id) on delete set null,
      reason text not null,
      details text,
      created_at timestamptz not null
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('abuse_reports').execute();
  await db.schema.dropTable('user_blocks').execute();
  await db.schema.dropTable('message_hides').execute();
  await db.schema.dropTable('message_reactions').execute();
  await sql`
    alter table messages
      drop column edited_at, drop column deleted_at, drop column deleted_by, drop column reply_to_id, drop column revision`.execute(db);
}
