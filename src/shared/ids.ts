import { v7 as uuidv7, validate, version } from 'uuid';

/** Time-ordered ids: they sort by creation time on every storage backend, which keeps cursors simple. */
export function newId(): string {
  return uuidv7();
}

export function isId(value: string): boolean {
  return validate(value) && version(value) === 7;
}
