import { sql, type Kysely } from 'kysely';

/** When a session ended (revoked or expired, whichever came first), for the periodic cleanup of old sessions. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('sessions_ended_idx')
    .on('sessions')
    .expression(sql`least(expires_at, revoked_at)`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions_ended_idx').execute();
}
