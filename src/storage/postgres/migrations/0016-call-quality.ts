import { sql, type Kysely } from 'kysely';

/**
 * Call quality: one row per (call, user, device) summing that device's reports. `call_id` names a 1:1 or
 * a group call, so there is no foreign key; `started_at` is the call's start, copied so the daily figures
 * read this table alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table call_quality (
      call_id uuid not null,
      user_id uuid not null,
      device_key text not null,
      started_at timestamptz not null,
      reports integer not null,
      mos double precision not null,
      band text not null,
      rtt_ms double precision,
      max_rtt_ms double precision,
      jitter_ms double precision,
      packet_loss_pct double precision,
      max_packet_loss_pct double precision,
      bitrate_in_kbps double precision,
      bitrate_out_kbps double precision,
      frames_decoded integer,
      frames_dropped integer,
      codec text,
      relayed boolean not null,
      local_candidate_type text,
      remote_candidate_type text,
      setup_ms integer,
      updated_at timestamptz not null,
      primary key (call_id, user_id, device_key)
    )`.execute(db);
  await sql`create index call_quality_started_at_idx on call_quality (started_at)`.execute(db);
  // The daily figures count the calls started each day.
  await sql`create index calls_created_at_idx on calls (created_at)`.execute(db);
  await sql`create index group_calls_created_at_idx on group_calls (created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('group_calls_created_at_idx').execute();
  await db.schema.dropIndex('calls_created_at_idx').execute();
  await db.schema.dropTable('call_quality').execute();
}
