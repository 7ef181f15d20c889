import type { Logger } from '../shared/logger.js';
import { isTransientSendFailure, type PushSender, type SendResult } from './expo-push-client.js';
import { checkReceipts, RECEIPT_BATCH } from './push-receipts.js';
import { PushStats, type PushCounts } from './push-stats.js';
import type { DuePush, PushStore } from './push-store.js';

/** How long a leased push is ours: a worker that dies mid-send hands it to another after this. */
const LEASE_MS = 30_000;
/** One Expo request's worth. */
const SEND_BATCH = 100;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;
const STATS_EVERY_MS = 60_000;
/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface PushWorkerSettings {
  store: PushStore;
  sender: PushSender;
  logger: Logger;
  /** How often to look for due pushes when nothing nudged the worker. */
  pollMs: number;
  receiptDelaySeconds: number;
  /** Pushes sent per second at most, by this process. */
  maxPerSecond: number;
  now?: () => Date;
  random?: () => number;
}

/**
 * Sends the outbox: every poll (or nudge) it leases due pushes in batches, sends them to Expo, records the
 * tickets, retries what may succeed later with exponential backoff and jitter, drops what expired, and
 * settles receipts once they are due. Failures are logged and retried at the next cycle, never thrown.
 */
export class PushWorker {
  private readonly stats: PushStats;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private nudged = false;
  /** A nudge asked for later (a push due then), and when. */
  private wake: NodeJS.Timeout | undefined;
  private wakeAt = 0;
  private stopped = true;
  /** Earliest time the next batch may go out, for maxPerSecond. */
  private sendableAt = 0;
  private wakeFromPause: (() => void) | undefined;

  constructor(private readonly settings: PushWorkerSettings) {
    this.stats = new PushStats(settings.logger);
    this.now = settings.now ?? (() => new Date());
    this.random = settings.random ?? Math.random;
    this.batch = Math.min(SEND_BATCH, settings.maxPerSecond);
  }

  /** This process's running totals (read by the metrics). */
  get counts(): Readonly<PushCounts> {
    return this.stats.counts;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.statsTimer = setInterval(() => this.stats.log(), STATS_EVERY_MS);
    this.statsTimer.unref();
    this.run();
  }

  /**
   * Something was queued: look when it is due (`dueAt`, default now) rather than at the next poll.
   * `queued` is how many, for the stats.
   */
  nudge(queued = 0, dueAt?: Date): void {
    this.stats.add('queued', queued);
    if (this.stopped) return;
    const wait = dueAt ? dueAt.getTime() - this.now().getTime() : 0;
    if (wait > 0) return this.wakeIn(wait);
    if (this.running) {
      this.nudged = true;
      return;
    }
    clearTimeout(this.timer);
    this.run();
  }

  /** Stops polling and waits for the cycle in progress (its leased pushes are settled before storage closes). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.wake);
    clearInterval(this.statsTimer);
    this.wakeFromPause?.();
    await this.running;
    this.stats.log();
  }

  /** A nudge for later: the earliest one asked for is kept. */
  private wakeIn(ms: number): void {
    const at = this.now().getTime() + ms;
    if (this.wake && this.wakeAt <= at) return;
    clearTimeout(this.wake);
    this.wakeAt = at;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      // A timer may fire a millisecond before the clock reads `at`, when nothing is due yet: then it waits again.
      this.nudge(0, new Date(at));
    }, Math.min(ms, MAX_DELAY_MS));
    this.wake.unref();
  }

  private run(): void {
    this.nudged = false;
    this.running = this.cycle()
      .catch((error: unknown) => this.settings.logger.error({ err: error }, 'push worker cycle failed; retrying'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.nudged) return this.run();
        this.timer = setTimeout(() => this.run(), Math.min(this.settings.pollMs, MAX_DELAY_MS));
        this.timer.unref();
      });
  }

  private async cycle(): Promise<void> {
    while (!this.stopped && (await this.sendBatch()) === this.batch);
    while (!this.stopped && (await checkReceipts({ ...this.settings, stats: this.stats, leaseMs: LEASE_MS }, this.now())) === RECEIPT_BATCH);
  }

  /** Leases and sends one batch; returns how many pushes it leased. */
  private async sendBatch(): Promise<number> {
    await this.pace();
    if (this.stopped) return 0;
    const now = this.now();
    const due = await this.settings.store.claimDue(now, new Date(now.getTime() + LEASE_MS), this.batch);
    const live: DuePush[] = [];
    for (const push of due) {
      if (push.expiresAt.getTime() > now.getTime()) live.push(push);
      else await this.settle(push, () => this.drop(push));
    }
    if (live.length === 0) return due.length;
    this.sendableAt = Math.max(this.sendableAt, now.getTime()) + (live.length * 1000) / this.settings.maxPerSecond;
    const results = await this.settings.sender.send(live, now);
    const sentAt = this.now();
    for (const result of results) await this.settle(result.push, () => this.record(result, sentAt));
    return due.length;
  }

  /** Waits until maxPerSecond allows the next batch (or the worker stops). */
  private async pace(): Promise<void> {
    const wait = this.sendableAt - this.now().getTime();
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      timer.unref();
      this.wakeFromPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeFromPause = undefined;
  }

  private async drop(push: DuePush): Promise<void> {
    this.settings.logger.warn({ pushId: push.id, kind: push.kind, expiresAt: push.expiresAt }, 'push dropped: expired');
    await this.settings.store.finish(push.id);
    this.stats.add('dropped');
  }

  private async record(result: SendResult, sentAt: Date): Promise<void> {
    const { store, logger } = this.settings;
    const { push } = result;
    if ('failure' in result) {
      if (isTransientSendFailure(result.failure)) return this.retry(push, result.failure, result.retryAfterMs);
      logger.error({ err: result.failure, pushId: push.id }, 'push rejected by Expo');
      await store.finish(push.id);
      this.stats.add('failed');
      return;
    }
    const { ticket } = result;
    if (ticket.status === 'ok') {
      await store.markSent(push.id, ticket.id, sentAt, new Date(sentAt.getTime() + this.settings.receiptDelaySeconds * 1000));
      this.stats.add('sent');
      return;
    }
    const error = ticket.details?.error;
    if (error === 'MessageRateExceeded') return this.retry(push, ticket);
    if (error === 'DeviceNotRegistered') {
      if (await store.removeToken(push.token, sentAt)) this.stats.add('tokensRemoved');
    } else {
      logger.error({ pushId: push.id, error, message: ticket.message }, 'push rejected by Expo');
      this.stats.add('failed');
    }
    await store.finish(push.id);
  }

  /**
   * Due again after 1 s, doubling per attempt, +-50 % so many workers do not retry in step; never sooner than
   * Expo's Retry-After; never later than 5 min.
   */
  private async retry(push: DuePush, reason: unknown, retryAfterMs = 0): Promise<void> {
    const backoff = Math.min(BACKOFF_FIRST_MS * 2 ** push.attempts, BACKOFF_MAX_MS) * (0.5 + this.random());
    const dueAt = new Date(this.now().getTime() + Math.min(Math.max(backoff, retryAfterMs), BACKOFF_MAX_MS));
    await this.settings.store.retryAt(push.id, dueAt);
    this.stats.add('retried');
    this.settings.logger.warn({ err: reason, pushId: push.id, attempts: push.attempts + 1, dueAt, retryAfterMs }, 'push not sent; retrying');
  }

  /** One push's bookkeeping: a failure is logged, and its lease running out brings it back. */
  private async settle(push: DuePush, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.settings.logger.error({ err: error, pushId: push.id }, 'push outcome could not be recorded');
    }
  }
}
