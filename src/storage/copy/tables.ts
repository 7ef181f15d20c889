/**
 * What `migrate:copy` copies, in an order that has every row's parents copied before it, each table
 * with the columns of its key (copied in key order, resumed after the last key copied). Rows travel
 * between backends in PostgreSQL's shape (column names, node-postgres's values: Date, string for bigint,
 * Buffer for bytea, parsed jsonb); the MongoDB endpoint maps them to its documents and back.
 *
 * Left out: `account_events` (a feed of the last hour for the processes running on the source, which
 * stop before a copy) and the change positions of sync (each backend hands out its own as rows are
 * written; devices start over with a full sync, since a cursor of one backend means nothing to another).
 */
export interface CopiedTable {
  name: string;
  key: readonly string[];
}

export const COPIED_TABLES: readonly CopiedTable[] = [
  { name: 'users', key: ['id'] },
  { name: 'sessions', key: ['id'] },
  { name: 'refresh_tokens', key: ['token_hash'] },
  { name: 'push_tokens', key: ['token'] },
  { name: 'push_outbox', key: ['id'] },
  { name: 'conversations', key: ['id'] },
  { name: 'conversation_members', key: ['conversation_id', 'user_id'] },
  { name: 'messages', key: ['id'] },
  { name: 'message_reactions', key: ['message_id', 'user_id', 'emoji'] },
  { name: 'message_hides', key: ['user_id', 'message_id'] },
  { name: 'user_blocks', key: ['blocker_id', 'blocked_id'] },
  { name: 'abuse_reports', key: ['id'] },
  { name: 'calls', key: ['id'] },
  { name: 'group_calls', key: ['id'] },
  { name: 'group_call_members', key: ['call_id', 'user_id'] },
  { name: 'e2ee_devices', key: ['session_id'] },
  { name: 'e2ee_one_time_prekeys', key: ['session_id', 'key_id'] },
  { name: 'e2ee_to_device_messages', key: ['id'] },
  { name: 'media', key: ['id'] },
  { name: 'audit_log', key: ['id'] },
  { name: 'call_quality', key: ['call_id', 'user_id', 'device_key'] },
];

export type Row = Record<string, unknown>;

/** One backend as the copy sees it. */
export interface CopyEndpoint {
  /** The URL it was opened with, password hidden. */
  readonly name: string;
  /** Up to `limit` rows of `table` after the key `after` (null: from the start), in key order, and the key to resume after. */
  read(table: CopiedTable, after: unknown[] | null, limit: number): Promise<{ rows: Row[]; last: unknown[] | null }>;
  /** Writes rows, skipping those already there (a resumed copy writes its last batch again). */
  write(table: CopiedTable, rows: readonly Row[]): Promise<void>;
  count(table: CopiedTable): Promise<number>;
  close(): Promise<void>;
}
