/**
 * What the audit feature stores: one entry per audited action. Append-only from the application's side:
 * there is no update, and entries are deleted only by age (the retention cleanup). Adapters live in
 * src/storage/ (PostgreSQL, MongoDB).
 */
import type { AuditEntryDto, AuditType } from '../protocol/audit.js';

type WithDate<Entry> = Entry extends unknown ? Omit<Entry, 'at'> & { at: Date } : never;

/** An entry as stored: its details are those of its type. */
export type AuditEntryRecord = WithDate<AuditEntryDto>;

export interface AuditFilter {
  /** Entries where this user is the actor or the target. */
  userId?: string | undefined;
  /** Entries of these types (none when empty). */
  types?: readonly AuditType[] | undefined;
  /** At or after. */
  from?: Date | undefined;
  /** Before. */
  to?: Date | undefined;
  /** Entries with a lower id than this one (the cursor: ids are UUIDv7, so lower is older). */
  before?: string | undefined;
  limit: number;
}

export interface AuditStore {
  /** Stores a new entry; an id already stored is refused (rejects), and the stored entry stays as it was. */
  append(entry: AuditEntryRecord): Promise<void>;
  /** The entries matching every part of the filter, newest (highest id) first. */
  list(filter: AuditFilter): Promise<AuditEntryRecord[]>;
  /** Deletes up to `limit` of the oldest entries recorded before `before`; returns how many it deleted. */
  deleteOlderThan(before: Date, limit: number): Promise<number>;
}
