import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('calls')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('caller_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('callee_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (col) => col.notNull().check(sql`type in ('audio', 'video')`))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('ringing', 'accepted', 'rejected', 'busy', 'missed', 'cancelled', 'ended', 'failed')`),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('answered_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('duration_seconds', 'integer', (col) => col.check(sql`duration_seconds >= 0`))
    .addColumn('end_reason', 'text', (col) =>
      col.check(sql`end_reason in ('hangup', 'rejected', 'busy', 'cancelled', 'timeout', 'connection_lost', 'server_restart')`),
    )
    // The process that runs the call; a call whose process died is closed by the next one to start.
    .addColumn('owner_id', 'uuid', (col) => col.notNull())
    .addCheckConstraint('calls_not_to_self', sql`caller_id <> callee_id`)
    .execute();
  // History is "calls of a user, newest first", read as the union of both roles.
  await db.schema.createIndex('calls_caller_idx').on('calls').expression(sql`caller_id, id desc`).execute();
  await db.schema.createIndex('calls_callee_idx').on('calls').expression(sql`callee_id, id desc`).execute();
  await db.schema
    .createIndex('calls_unfinished_idx')
    .on('calls')
    .column('owner_id')
    .where(sql.ref('status'), 'in', sql`('ringing', 'accepted')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('calls').execute();
}
