import { sql, type Kysely } from 'kysely';

/**
 * The audit log: one row per audited action (logins, session ends, account and group ownership changes,
 * push tokens). No foreign keys: an entry outlives what it names, and deleting a user must not delete the
 * record of what was done to or by them. The application only inserts, and deletes by age (`at`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table audit_log (
      id uuid primary key,
      at timestamptz not null,
      type text not null,
      actor_id uuid,
      target_user_id uuid,
      ip text,
      user_agent text,
      details jsonb not null
    )`.execute(db);
  // The retention cleanup and time filters; the admin's filters, each newest first.
  await sql`create index audit_log_at_idx on audit_log (at)`.execute(db);
  await sql`create index audit_log_actor_idx on audit_log (actor_id, id desc) where actor_id is not null`.execute(db);
  await sql`create index audit_log_target_idx on audit_log (target_user_id, id desc) where target_user_id is not null`.execute(db);
  await sql`create index audit_log_type_idx on audit_log (type, id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
}
