import { sql, type Kysely } from 'kysely';

/**
 * Media attachments. One row per upload, owned by its uploader; `message_id` is set when a message
 * attaches it (once: `attached_at` stays set), and goes null if that message row is deleted, which
 * leaves the media detached: nobody may fetch it and the cleanup removes it. A message keeps what it
 * shows of its attachments in `messages.attachments`, so history and sync read no other table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table media (
      id uuid primary key,
      owner_id uuid not null references users (id) on delete cascade,
      status text not null check (status in ('uploading', 'ready')),
      kind text not null check (kind in ('image', 'audio', 'video', 'file')),
      content_type text not null,
      size bigint not null,
      file_name text,
      width integer,
      height integer,
      duration_ms integer,
      thumbnail_width integer,
      thumbnail_height integer,
      encrypted boolean not null,
      message_id uuid references messages (id) on delete set null,
      created_at timestamptz not null,
      attached_at timestamptz,
      discarded_at timestamptz
    )`.execute(db);
  await sql`create index media_owner_idx on media (owner_id, created_at) where discarded_at is null`.execute(db);
  await sql`create index media_message_idx on media (message_id) where message_id is not null`.execute(db);
  // What the cleanup looks for: uploads never attached, media whose message went, and discarded media.
  await sql`create index media_unattached_idx on media (created_at) where attached_at is null and discarded_at is null`.execute(db);
  await sql`create index media_detached_idx on media (id) where attached_at is not null and message_id is null and discarded_at is null`.execute(db);
  await sql`create index media_discarded_idx on media (discarded_at) where discarded_at is not null`.execute(db);
  await sql`alter table messages add column attachments jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop column attachments`.execute(db);
  await db.schema.dropTable('media').execute();
}
