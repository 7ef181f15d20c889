import { EventEmitter } from 'node:events';
import type { UserStatus } from '../storage/ports.js';

/**
 * Facts one feature announces and others react to (a ban disconnects sockets, for instance), without
 * the features importing each other. In one process this is an in-memory emitter.
 */
export interface DomainEventMap {
  /** An account's role or status changed; when it is no longer active, end everything it has open. */
  accountChanged: [{ userId: string; status: UserStatus }];
  /** These sessions can no longer be used. */
  sessionsRevoked: [{ userId: string; sessionIds: string[] }];
}

export type DomainEvents = EventEmitter<DomainEventMap>;

export function createDomainEvents(): DomainEvents {
  return new EventEmitter<DomainEventMap>({ captureRejections: true });
}
