import { sql, type Kysely } from 'kysely';

/** A group call through the SFU may end because the media server went away (`media_server_lost`). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table group_calls drop constraint group_calls_end_reason_check,
      add constraint group_calls_end_reason_check
      check (end_reason in ('hangup', 'rejected', 'cancelled', 'timeout', 'connection_lost', 'server_restart', 'media_server_lost'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table group_calls drop constraint group_calls_end_reason_check,
      add constraint group_calls_end_reason_check
      check (end_reason in ('hangup', 'rejected', 'cancelled', 'timeout', 'connection_lost', 'server_restart'))`.execute(db);
}
