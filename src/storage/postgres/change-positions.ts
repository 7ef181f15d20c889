import { sql } from 'kysely';

/**
 * Every write to a message, a conversation or a member row moves the row to a new place in the chat
 * changes: the writing transaction's id and the next value of one sequence. Inserts take both from the
 * column defaults; updates set them with this. How sync reads them is in chat-changes-repository.ts.
 */
export const newChangePosition = {
  change_xid: sql<string>`pg_current_xact_id()`,
  change_pos: sql<string>`nextval('chat_change_positions')`,
};

/** The same, for the set list of an update written in SQL. */
export const setNewChangePosition = sql`change_xid = ${newChangePosition.change_xid}, change_pos = ${newChangePosition.change_pos}`;
