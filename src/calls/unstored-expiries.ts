import type { Logger } from '../shared/logger.js';
import type { CallsRepository } from '../storage/ports.js';
import type { CallRecord, CallStatus } from './call-state-machine.js';
import type { CallTimer, CallTimers } from './call-timers.js';

/** When a timer's transition cannot be stored (a storage error): the delays of its retries while the call stays live. */
export const EXPIRY_RETRY_DELAYS_MS = [250, 1_000, 3_000];
/** After those the parties are told and freed; storing the outcome is tried again after this, then twice as long each time, up to a minute. */
const STORE_RETRY_FIRST_MS = 5_000;
const STORE_RETRY_MAX_MS = 60_000;

/**
 * Timers whose transition could not be stored. A client whose change fails can try again; a timer has
 * nobody to do that for it, so it is retried here, and once its retries are spent the call's outcome,
 * already told to the parties, is kept here until it is stored.
 */
export class UnstoredExpiries {
  private readonly outcomes = new Map<string, { call: CallRecord; expected: CallStatus }>();

  constructor(private readonly deps: { calls: CallsRepository; timers: CallTimers; logger: Logger }) {}

  /**
   * `timer` could not store its transition of `call`. It is started again shortly, a few times. Then the
   * call must not keep its parties busy any longer: `giveUp` tells them what the state machine decided
   * and forgets the call, and the outcome it returns is stored by the `store` timer (should this process
   * stop first, the next one to start closes the call as failed/server_restart).
   */
  async failed(call: CallRecord, timer: CallTimer, attempt: number, error: unknown, giveUp: () => Promise<CallRecord>): Promise<void> {
    const delay = EXPIRY_RETRY_DELAYS_MS[attempt];
    if (delay !== undefined) {
      this.deps.logger.warn({ err: error, callId: call.id, timer, attempt }, 'a call timer could not store its change; trying again');
      await this.deps.timers.start(call.id, timer, delay, attempt + 1);
      return;
    }
    this.deps.logger.error({ err: error, callId: call.id, timer }, 'a call timer could not store its change; ending the call, to be stored later');
    this.outcomes.set(call.id, { call: await giveUp(), expected: call.status });
    await this.deps.timers.start(call.id, 'store', STORE_RETRY_FIRST_MS);
  }

  /** The outcome of `callId` told to its parties and not stored yet, if any. */
  outcome(callId: string): CallRecord | undefined {
    return this.outcomes.get(callId)?.call;
  }

  /** The calls whose outcome is not stored yet. */
  callIds(): string[] {
    return [...this.outcomes.keys()];
  }

  /** The `store` timer ran out: tries to store the outcome, and else starts the timer again, for longer. */
  async storeLater(callId: string, attempt: number): Promise<void> {
    try {
      await this.store(callId);
    } catch (error) {
      this.deps.logger.warn({ err: error, callId, attempt }, 'could not store the outcome of an ended call; trying again');
      await this.deps.timers.start(callId, 'store', Math.min(STORE_RETRY_FIRST_MS * 2 ** (attempt + 1), STORE_RETRY_MAX_MS), attempt + 1);
    }
  }

  /** One try at storing the outcome of `callId` (at shutdown, the last one); throws what storage throws. */
  async store(callId: string): Promise<void> {
    const pending = this.outcomes.get(callId);
    if (!pending) return;
    await this.deps.calls.update(pending.call, pending.expected);
    this.outcomes.delete(callId);
    this.deps.logger.info({ callId, status: pending.call.status }, 'stored the outcome of a call that ended while storage was failing');
  }
}
