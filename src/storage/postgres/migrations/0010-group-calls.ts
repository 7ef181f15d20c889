import { sql, type Kysely } from 'kysely';

/**
 * Group calls: one row per call in a group conversation, and one row per member rung or joined, with
 * the first join, the last leave and the time in the call. History reads a user's member rows newest
 * call first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table group_calls (
      id uuid primary key,
      conversation_id uuid not null references conversations (id) on delete cascade,
      started_by uuid not null references users (id) on delete cascade,
      type text not null check (type in ('audio', 'video')),
      topology text not null check (topology in ('mesh', 'sfu')),
      status text not null check (status in ('ringing', 'accepted', 'rejected', 'missed', 'cancelled', 'ended', 'failed')),
      created_at timestamptz not null,
      answered_at timestamptz,
      ended_at timestamptz,
      duration_seconds integer check (duration_seconds >= 0),
      end_reason text check (end_reason in ('hangup', 'rejected', 'cancelled', 'timeout', 'connection_lost', 'server_restart')),
      revision integer not null,
      -- The process that runs the call; a call whose process died is closed by the next one to start.
      owner_id uuid not null
    )`.execute(db);
  await sql`create index group_calls_unfinished_idx on group_calls (owner_id) where status in ('ringing', 'accepted')`.execute(db);
  await sql`
    create table group_call_members (
      call_id uuid not null references group_calls (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      -- The order members are listed in: the starter, the members rung, then later joiners.
      position integer not null,
      joined_at timestamptz,
      left_at timestamptz,
      in_call_since timestamptz,
      ms_in_call bigint not null check (ms_in_call >= 0),
      declined_at timestamptz,
      primary key (call_id, user_id)
    )`.execute(db);
  await sql`create index group_call_members_user_idx on group_call_members (user_id, call_id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('group_call_members').execute();
  await db.schema.dropTable('group_calls').execute();
}
