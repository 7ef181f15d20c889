import { uuidv7 } from 'uuidv7';

/** Time-ordered ids: they sort by creation time on every storage backend, which keeps cursors simple. */
export function newId(): string {
  return uuidv7();
}

/**
 * The lowest id `newId()` can give at or after `at`: a UUIDv7 starts with its 48-bit millisecond
 * timestamp, so ids made since `at` are exactly those >= this one (a range scan on an id index).
 */
export function firstIdAt(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`;
}
