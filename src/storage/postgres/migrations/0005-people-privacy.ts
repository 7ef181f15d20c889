import { sql, type Kysely } from 'kysely';

/**
 * What others may learn of a user. Presence is shown only to people the user has written to, so each
 * conversation row remembers whether its peer has ever sent its owner a message. People search matches
 * names only (a whole email at most, through the unique email index): the email prefix index goes, and
 * a word index lets "smi" find "Anna Smith".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('peer_has_written', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute();
  await sql`
    update conversations c set peer_has_written = true
    where exists (
      select 1 from messages m
      where m.low_user_id = least(c.owner_id, c.peer_id) and m.high_user_id = greatest(c.owner_id, c.peer_id)
        and m.sender_id = c.peer_id
    )`.execute(db);

  await db.schema.dropIndex('users_email_search_idx').execute();
  await db.schema
    .createIndex('users_name_words_idx')
    .on('users')
    .using('gin')
    .expression(sql`to_tsvector('simple', name)`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_name_words_idx').execute();
  await db.schema
    .createIndex('users_email_search_idx')
    .on('users')
    .expression(sql`email collate "C"`)
    .execute();
  await db.schema.alterTable('conversations').dropColumn('peer_has_written').execute();
}
