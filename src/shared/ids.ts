import { v7 as uuidv7 } from 'uuid';

/** Time-ordered ids: they sort by creation time on every storage backend, which keeps cursors simple. */
export function newId(): string {
  return uuidv7();
}
