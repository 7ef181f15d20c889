import { sql, type Kysely } from 'kysely';

/**
 * The account-events feed: every revocation of sessions and every change of an account's role or status
 * is recorded here in the same statement as the change, so every process (and every change made by the
 * CLI) can learn of it by reading the feed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_events')
    .addColumn('seq', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('sessions_revoked', 'account_changed')`))
    .addColumn('session_ids', sql`uuid[]`)
    .addColumn('status', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`statement_timestamp()`))
    .execute();
  await db.schema.createIndex('account_events_created_idx').on('account_events').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_events').execute();
}
