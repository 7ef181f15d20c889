import type { CallChange, DomainEvents } from '../shared/domain-events.js';
import { isFinalStatus, type CallStatus } from './call-state-machine.js';

/** Announces what a change of a call's status from `before` means: answered (callAnswered) or over (callEnded). */
export function announceCallProgress(events: DomainEvents, before: CallStatus, change: CallChange): void {
  const { status } = change.call;
  if (status === before) return;
  if (status === 'accepted') events.emit('callAnswered', change);
  else if (isFinalStatus(status)) events.emit('callEnded', change);
}
