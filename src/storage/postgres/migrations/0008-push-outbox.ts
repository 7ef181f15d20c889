import { sql, type Kysely } from 'kysely';

/**
 * The push outbox: one row per push and device token, from queued to sent to receipt checked, deleted
 * when done. Deleting a token deletes its pushes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('push_outbox')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('token', 'text', (col) => col.notNull().references('push_tokens.token').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('message', 'call', 'call_ended', 'missed_call')`))
    .addColumn('content', 'jsonb', (col) => col.notNull())
    .addColumn('coalesce_key', 'text')
    .addColumn('due_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('lease_until', 'timestamptz')
    // Bumped by every merge of a newer push into this one; a lease remembers the revision it took, so a
    // merge that lands while the push is being sent is sent afterwards, not lost.
    .addColumn('revision', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('leased_revision', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('ticket_id', 'text')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('receipt_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .execute();
  // Coalescing: at most one unsent push per token and key.
  await db.schema
    .createIndex('push_outbox_coalesce_idx')
    .on('push_outbox')
    .columns(['token', 'coalesce_key'])
    .unique()
    .where(sql<boolean>`ticket_id is null and coalesce_key is not null`)
    .execute();
  // The worker's two scans: unsent pushes by due time, sent ones by receipt time.
  await db.schema.createIndex('push_outbox_due_idx').on('push_outbox').column('due_at').where(sql.ref('ticket_id'), 'is', null).execute();
  await db.schema
    .createIndex('push_outbox_receipt_idx')
    .on('push_outbox')
    .column('receipt_at')
    .where(sql.ref('ticket_id'), 'is not', null)
    .execute();
  // Deleting a token (cascade) and dropping a moved token's pushes.
  await db.schema.createIndex('push_outbox_token_idx').on('push_outbox').column('token').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('push_outbox').execute();
}
