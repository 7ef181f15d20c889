import { sql, type Kysely } from 'kysely';

/**
 * End-to-end encryption. The key directory: one device per session (public keys only) and its one-time
 * prekeys, which are claimed by deleting them; a session that is deleted takes its device, prekeys and
 * queued to-device messages with it. Messages may carry an encrypted payload instead of text (adding a
 * nullable column rewrites nothing).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table e2ee_devices (
      session_id uuid primary key references sessions (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      device_id text not null,
      registration_id integer,
      identity_algorithm text not null check (identity_algorithm in ('xeddsa', 'ed25519')),
      identity_key bytea not null,
      signed_prekey_id integer not null,
      signed_prekey bytea not null,
      signed_prekey_signature bytea not null,
      kyber_prekey_id integer,
      kyber_prekey bytea,
      kyber_prekey_signature bytea,
      last_resort_prekey_id integer,
      last_resort_prekey bytea,
      last_resort_prekey_signature bytea,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (user_id, device_id)
    )`.execute(db);
  await sql`
    create table e2ee_one_time_prekeys (
      session_id uuid not null references e2ee_devices (session_id) on delete cascade,
      key_id integer not null,
      public_key bytea not null,
      signature bytea,
      primary key (session_id, key_id)
    )`.execute(db);
  await sql`
    create table e2ee_to_device_messages (
      id uuid primary key,
      session_id uuid not null references e2ee_devices (session_id) on delete cascade,
      sender_id uuid not null references users (id) on delete cascade,
      sender_device_id text not null,
      type integer not null,
      body text not null,
      created_at timestamptz not null
    )`.execute(db);
  await sql`create index e2ee_to_device_messages_session_idx on e2ee_to_device_messages (session_id, id)`.execute(db);
  await sql`alter table messages add column encrypted jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop column encrypted`.execute(db);
  await db.schema.dropTable('e2ee_to_device_messages').execute();
  await db.schema.dropTable('e2ee_one_time_prekeys').execute();
  await db.schema.dropTable('e2ee_devices').execute();
}
