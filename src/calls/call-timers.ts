import type { CallParty } from './call-state-machine.js';

/**
 * A call's ring timeout, each party's reconnect grace, and `store`: the next try at storing an outcome
 * the parties were already told while storage kept failing.
 */
export type CallTimer = 'ring' | `${CallParty}-grace` | 'store';

/**
 * `attempt` is 0 for a timer started by the call's life, n for its n-th retry after a failed expiry.
 * Settles once the expiry is done (shared timers hold a lease on it until then).
 */
export type CallTimerHandler<T extends string = CallTimer> = (callId: string, timer: T, attempt: number) => Promise<void>;

/**
 * Timers of live calls. In one process these are setTimeout; with several processes they move to a
 * shared store (Redis: a sorted set of deadlines, with the attempt, that any process polls; the one
 * whose ZREM succeeds runs the expiry under a lease, and another runs it again if that process dies
 * before it is done), so each timer fires once cluster-wide, again only after a death. Expiries check
 * the call's state before acting, and their transition is stored as a compare-and-set, so a timer
 * racing an accept (or run twice) resolves to one winner in the database too.
 */
export interface CallTimers<T extends string = CallTimer> {
  /** `handler` runs once for each timer that was started and runs out before it is cancelled. */
  onExpiry(handler: CallTimerHandler<T>): void;
  /** Starts the timer, or starts it again if it is running. */
  start(callId: string, timer: T, delayMs: number, attempt?: number): Promise<void>;
  cancel(callId: string, timer: T): Promise<void>;
  cancelAll(callId: string): Promise<void>;
  /**
   * This process stops running timers (it is shutting down): shared timers run out in the other
   * processes instead, this process's own never.
   */
  close(): void;
}

/** Timers of one kind of call: 1:1 calls use CallTimer, group calls their own names. */
export class InProcessCallTimers<T extends string = CallTimer> implements CallTimers<T> {
  private readonly running = new Map<string, Map<T, NodeJS.Timeout>>();
  private handler: CallTimerHandler<T> = async () => undefined;
  private closed = false;

  onExpiry(handler: CallTimerHandler<T>): void {
    this.handler = handler;
  }

  async start(callId: string, timer: T, delayMs: number, attempt = 0): Promise<void> {
    await this.cancel(callId, timer);
    if (this.closed) return;
    const timers = this.running.get(callId) ?? new Map<T, NodeJS.Timeout>();
    this.running.set(callId, timers);
    const timeout = setTimeout(() => {
      timers.delete(timer);
      if (timers.size === 0) this.running.delete(callId);
      void this.handler(callId, timer, attempt);
    }, delayMs);
    // A pending ring must not keep a stopping process alive.
    timeout.unref();
    timers.set(timer, timeout);
  }

  async cancel(callId: string, timer: T): Promise<void> {
    const timers = this.running.get(callId);
    clearTimeout(timers?.get(timer));
    timers?.delete(timer);
    if (timers?.size === 0) this.running.delete(callId);
  }

  async cancelAll(callId: string): Promise<void> {
    for (const timeout of this.running.get(callId)?.values() ?? []) clearTimeout(timeout);
    this.running.delete(callId);
  }

  close(): void {
    this.closed = true;
    for (const callId of [...this.running.keys()]) void this.cancelAll(callId);
  }
}
