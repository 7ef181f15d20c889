import type { Logger } from '../shared/logger.js';
import type { CallStatus } from './call-state-machine.js';
import type { CallTimers } from './call-timers.js';

/** When a timer's transition cannot be stored (a storage error): the delays of its retries while the call stays live. */
export const EXPIRY_RETRY_DELAYS_MS = [250, 1_000, 3_000];
/** After those the parties are told and freed; storing the outcome is tried again after this, then twice as long each time, up to a minute. */
const STORE_RETRY_FIRST_MS = 5_000;
const STORE_RETRY_MAX_MS = 60_000;

/** A decided record not stored yet, with what the stored one must still be for it to be written (the compare-and-set). */
export interface UnstoredWrite<R, E> {
  record: R;
  expected: E;
}

export interface UnstoredExpiriesDeps<R, E, T extends string> {
  /** Stores `record` if the stored one is still as `expected`; false when another change came first. */
  store(record: R, expected: E): Promise<boolean>;
  /** The calls' timers, for the retries. */
  timers: Pick<CallTimers<T>, 'start'>;
  /**
   * This process's own timers for `store`: the records wait in this process's memory, so it is the one
   * to store them, whichever process runs the call's other timers.
   */
  storeTimers: Pick<CallTimers<'store'>, 'start'>;
  logger: Logger;
}

/**
 * Timers whose transition could not be stored, for one kind of call (records `R`, compare-and-set
 * expectations `E`, timers `T`). A client whose change fails can try again; a timer has nobody to do
 * that for it, so it is retried here, and once its retries are spent the call's outcome, already told
 * to the parties, is kept here until it is stored. A call that goes on after such an outcome (a group
 * call someone left) may leave several, stored in the order they were decided; its next change must
 * store them first (`store`), since its compare-and-set follows on from them.
 */
export class UnstoredExpiries<R extends { status: CallStatus }, E, T extends string> {
  private readonly writes = new Map<string, UnstoredWrite<R, E>[]>();

  constructor(private readonly deps: UnstoredExpiriesDeps<R, E, T>) {}

  /**
   * `timer` could not store its transition of `callId`. It is started again shortly, a few times. Then
   * the call must not keep its parties busy any longer: `giveUp` tells them what the state machine
   * decided and frees them, and the record it returns (if its change wrote one) is stored by the
   * `store` timer (should this process stop first, the next one to start closes the call as
   * failed/server_restart).
   */
  async failed(callId: string, timer: T, attempt: number, error: unknown, giveUp: () => Promise<UnstoredWrite<R, E> | undefined>): Promise<void> {
    const delay = EXPIRY_RETRY_DELAYS_MS[attempt];
    if (delay !== undefined) {
      this.deps.logger.warn({ err: error, callId, timer, attempt }, 'a call timer could not store its change; trying again');
      await this.deps.timers.start(callId, timer, delay, attempt + 1);
      return;
    }
    this.deps.logger.error({ err: error, callId, timer }, 'a call timer could not store its change; telling its outcome, to be stored later');
    const write = await giveUp();
    if (!write) return;
    this.writes.set(callId, [...(this.writes.get(callId) ?? []), write]);
    await this.deps.storeTimers.start(callId, 'store', STORE_RETRY_FIRST_MS);
  }

  /** The latest record of `callId` told to its parties and not stored yet, if any. */
  outcome(callId: string): R | undefined {
    return this.writes.get(callId)?.at(-1)?.record;
  }

  /** The calls with records not stored yet. */
  callIds(): string[] {
    return [...this.writes.keys()];
  }

  /** The `store` timer ran out: tries to store what is left, and else starts the timer again, for longer. */
  async storeLater(callId: string, attempt: number): Promise<void> {
    try {
      await this.store(callId);
    } catch (error) {
      this.deps.logger.warn({ err: error, callId, attempt }, 'could not store the outcome of a call timer; trying again');
      await this.deps.storeTimers.start(callId, 'store', Math.min(STORE_RETRY_FIRST_MS * 2 ** (attempt + 1), STORE_RETRY_MAX_MS), attempt + 1);
    }
  }

  /** One try at storing what is left of `callId`, in order (at shutdown, the last one); throws what storage throws. */
  async store(callId: string): Promise<void> {
    const writes = this.writes.get(callId) ?? [];
    while (writes[0]) {
      const { record, expected } = writes[0];
      if (await this.deps.store(record, expected)) {
        writes.shift();
        this.deps.logger.info({ callId, status: record.status }, 'stored the outcome of a call timer that could not store it in time');
      } else {
        // This process runs the call: only one that took it for dead can have changed it, and what is left follows on from this.
        this.deps.logger.warn({ callId, status: record.status }, 'the call changed in storage meanwhile; its outcome is not stored');
        writes.length = 0;
      }
    }
    this.writes.delete(callId);
  }
}
