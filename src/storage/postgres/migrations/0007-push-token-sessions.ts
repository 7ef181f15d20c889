import type { Kysely } from 'kysely';

/**
 * A push token belongs to the session (the signed-in app) that registered it: a session holds at most
 * one, and ending the session deletes it. Tokens stored before this migration have no session.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('push_tokens')
    .addColumn('session_id', 'uuid', (col) => col.references('sessions.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('push_tokens_session_idx').on('push_tokens').column('session_id').unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('push_tokens_session_idx').execute();
  await db.schema.alterTable('push_tokens').dropColumn('session_id').execute();
}
