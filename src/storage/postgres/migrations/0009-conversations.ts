import { sql, type Kysely } from 'kysely';

/** The columns that place a row in the chat changes (see chat-changes-repository.ts). */
const changePosition = sql`change_xid xid8 not null default pg_current_xact_id(),
  change_pos bigint not null default nextval('chat_change_positions')`;

/**
 * One conversation model for direct and group conversations. Every message belongs to a conversation;
 * members have a role, a join time and a read position. The per-user chat streams give way to change
 * positions on the rows themselves, so a group message is one write however many members read it.
 * Existing 1:1 data becomes direct conversations: one per pair of users who exchanged messages.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Everything the old conversation rows and streams held follows from the messages.
  await db.schema.dropTable('conversations').execute();
  await db.schema.dropTable('chat_streams').execute();
  await sql`create sequence chat_change_positions`.execute(db);

  // Existing messages come first in the changes, oldest first; the rows made below follow them.
  await sql`alter table messages add column change_xid xid8, add column change_pos bigint, add column conversation_id uuid`.execute(db);
  await sql`
    update messages m set change_xid = pg_current_xact_id(), change_pos = ordered.position
    from (select id, row_number() over (order by id) as position from messages) ordered
    where ordered.id = m.id`.execute(db);
  await sql`select setval('chat_change_positions', greatest(count(*), 1), count(*) > 0) from messages`.execute(db);

  await sql`
    create table conversations (
      id uuid primary key,
      type text not null check (type in ('direct', 'group')),
      title text,
      -- A direct conversation is its two users, in order: at most one per pair.
      direct_low_user_id uuid references users (id) on delete cascade,
      direct_high_user_id uuid references users (id) on delete cascade,
      created_at timestamptz not null,
      member_count integer not null,
      ${changePosition},
      constraint conversations_direct_pair_key unique (direct_low_user_id, direct_high_user_id),
      constraint conversations_kind check (case type
        when 'direct' then direct_low_user_id is not null and direct_high_user_id is not null
          and direct_low_user_id < direct_high_user_id and title is null
        else direct_low_user_id is null and direct_high_user_id is null and title is not null end)
    )`.execute(db);
  await sql`
    create table conversation_members (
      conversation_id uuid not null references conversations (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      role text not null check (role in ('owner', 'admin', 'member')),
      joined_at timestamptz not null,
      -- A member who leaves keeps the row, so their devices learn of it through sync.
      left_at timestamptz,
      last_read_message_id uuid,
      last_read_at timestamptz,
      -- Whether the member has ever written here: in a direct conversation the peer then sees their presence.
      has_written boolean not null default false,
      ${changePosition},
      primary key (conversation_id, user_id)
    )`.execute(db);
  await db.schema
    .createIndex('conversation_members_user_idx')
    .on('conversation_members')
    .columns(['user_id', 'conversation_id'])
    .where(sql.ref('left_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('conversation_members_joined_idx')
    .on('conversation_members')
    .columns(['conversation_id', 'joined_at', 'user_id'])
    .where(sql.ref('left_at'), 'is', null)
    .execute();
  // Sync: read positions that moved in a conversation, and the conversations a user left.
  await db.schema.createIndex('conversation_members_sync_idx').on('conversation_members').columns(['conversation_id', 'change_xid', 'change_pos']).execute();
  await db.schema
    .createIndex('conversation_members_left_idx')
    .on('conversation_members')
    .columns(['user_id', 'change_xid', 'change_pos'])
    .where(sql.ref('left_at'), 'is not', null)
    .execute();

  // A direct conversation per pair, with a UUIDv7 of its first message's time: that message's id with
  // the random tail of a new UUID (PostgreSQL 15 has no UUIDv7 function).
  await sql`
    insert into conversations (id, type, direct_low_user_id, direct_high_user_id, created_at, member_count)
    select (left(first.id::text, 19) || substr(gen_random_uuid()::text, 20))::uuid, 'direct', first.low_user_id, first.high_user_id, first.created_at, 2
    from (select distinct on (low_user_id, high_user_id) id, low_user_id, high_user_id, created_at from messages order by low_user_id, high_user_id, id) first
    order by first.id`.execute(db);
  await sql`
    insert into conversation_members (conversation_id, user_id, role, joined_at, last_read_message_id, last_read_at, has_written)
    select c.id, member.user_id, 'member', c.created_at, last_read.id, last_read.read_at,
      exists (select 1 from messages m where m.low_user_id = c.direct_low_user_id and m.high_user_id = c.direct_high_user_id and m.sender_id = member.user_id)
    from conversations c
    cross join lateral (values (c.direct_low_user_id), (c.direct_high_user_id)) as member (user_id)
    left join lateral (
      select m.id, m.read_at from messages m
      where m.low_user_id = c.direct_low_user_id and m.high_user_id = c.direct_high_user_id
        and m.recipient_id = member.user_id and m.read_at is not null
      order by m.id desc limit 1
    ) last_read on true
    order by c.id, member.user_id`.execute(db);
  await sql`
    update messages m set conversation_id = c.id from conversations c
    where c.direct_low_user_id = m.low_user_id and c.direct_high_user_id = m.high_user_id`.execute(db);

  await sql`
    alter table messages
      alter column conversation_id set not null,
      add constraint messages_conversation_id_fkey foreign key (conversation_id) references conversations (id) on delete cascade,
      alter column recipient_id drop not null,
      alter column change_xid set not null,
      alter column change_xid set default pg_current_xact_id(),
      alter column change_pos set not null,
      alter column change_pos set default nextval('chat_change_positions'),
      drop column low_user_id,
      drop column high_user_id,
      drop column sender_seq,
      drop column recipient_seq`.execute(db);
  await db.schema.dropIndex('messages_unread_idx').execute();
  // History and last messages; sender_id lets unread counts ("from others after the read position") run on the index alone.
  await sql`create index messages_history_idx on messages (conversation_id, id desc) include (sender_id)`.execute(db);
  await db.schema.createIndex('messages_sync_idx').on('messages').columns(['conversation_id', 'change_xid', 'change_pos']).execute();
  // Marking a direct conversation read touches only its unread messages.
  await db.schema
    .createIndex('messages_direct_unread_idx')
    .on('messages')
    .columns(['conversation_id', 'id'])
    .where(sql<boolean>`read_at is null and recipient_id is not null`)
    .execute();
}

/** Back to per-user conversations and streams. Groups cannot be expressed there: they and their messages go. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from messages where recipient_id is null`.execute(db);
  await sql`
    alter table messages
      add column low_user_id uuid, add column high_user_id uuid, add column sender_seq bigint, add column recipient_seq bigint,
      alter column recipient_id set not null`.execute(db);
  await sql`
    with stream as (
      select user_id, id, row_number() over (partition by user_id order by id) as seq
      from (select sender_id as user_id, id from messages union all select recipient_id, id from messages) parties
    )
    update messages m set low_user_id = least(m.sender_id, m.recipient_id), high_user_id = greatest(m.sender_id, m.recipient_id),
      sender_seq = sent.seq, recipient_seq = received.seq
    from stream sent, stream received
    where sent.id = m.id and sent.user_id = m.sender_id and received.id = m.id and received.user_id = m.recipient_id`.execute(db);
  await sql`
    alter table messages
      alter column low_user_id set not null, alter column high_user_id set not null,
      alter column sender_seq set not null, alter column recipient_seq set not null,
      add constraint messages_pair_ordered check (low_user_id < high_user_id)`.execute(db);
  await sql`create index messages_conversation_idx on messages (low_user_id, high_user_id, id desc)`.execute(db);
  await db.schema.createIndex('messages_sender_stream_idx').on('messages').columns(['sender_id', 'sender_seq']).execute();
  await db.schema.createIndex('messages_recipient_stream_idx').on('messages').columns(['recipient_id', 'recipient_seq']).execute();
  await db.schema
    .createIndex('messages_unread_idx')
    .on('messages')
    .columns(['recipient_id', 'sender_id', 'id'])
    .where(sql.ref('read_at'), 'is', null)
    .execute();

  await sql`
    create table chat_streams (user_id uuid primary key references users (id) on delete cascade, seq bigint not null)`.execute(db);
  await sql`
    insert into chat_streams (user_id, seq)
    select user_id, count(*) from (select sender_id as user_id from messages union all select recipient_id from messages) parties
    group by user_id`.execute(db);
  await sql`
    create table direct_conversations_v1 (
      owner_id uuid not null references users (id) on delete cascade,
      peer_id uuid not null references users (id) on delete cascade,
      last_message_id uuid not null,
      peer_has_written boolean not null default false,
      constraint conversations_pkey_v1 primary key (owner_id, peer_id)
    )`.execute(db);
  await sql`
    insert into direct_conversations_v1 (owner_id, peer_id, last_message_id, peer_has_written)
    select owner.user_id, peer.user_id, last.id, peer.has_written
    from conversations c
    join conversation_members owner on owner.conversation_id = c.id
    join conversation_members peer on peer.conversation_id = c.id and peer.user_id <> owner.user_id
    join lateral (select m.id from messages m where m.conversation_id = c.id order by m.id desc limit 1) last on true
    where c.type = 'direct'`.execute(db);

  await sql`alter table messages drop column conversation_id, drop column change_xid, drop column change_pos`.execute(db);
  await db.schema.dropTable('conversation_members').execute();
  await db.schema.dropTable('conversations').execute();
  await sql`drop sequence chat_change_positions`.execute(db);
  await sql`alter table direct_conversations_v1 rename to conversations`.execute(db);
  await sql`alter table conversations rename constraint conversations_pkey_v1 to conversations_pkey`.execute(db);
  await sql`create index conversations_recent_idx on conversations (owner_id, last_message_id desc)`.execute(db);
}
