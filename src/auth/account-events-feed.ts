import type { DomainEvents } from '../shared/domain-events.js';
import type { Logger } from '../shared/logger.js';
import type { AccountEventsRepository } from '../storage/ports.js';

/** How far back each read looks again, for a change that committed a moment after the previous read's clock. */
const LATE_COMMIT_MARGIN_MS = 10_000;
/** How long the feed keeps its events: far longer than any process takes between two reads. */
const RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

/**
 * Reads the account-events feed every `pollMs` and re-announces each event as a domain event in this
 * process, so a ban by the CLI or a logout handled by another process evicts this process's caches and
 * closes its sockets. Changes made here were announced at once already; hearing them again is harmless
 * (evicting and disconnecting are idempotent).
 */
export class AccountEventsFeed {
  private cursor = new Date(Date.now() - LATE_COMMIT_MARGIN_MS);
  /** Events already announced, by seq, with when they were read: re-reads of the margin skip them. */
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: { feed: AccountEventsRepository; events: DomainEvents; logger: Logger; pollMs: number },
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => this.schedule());
    }, this.deps.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      const { events, now } = await this.deps.feed.since(new Date(this.cursor.getTime() - LATE_COMMIT_MARGIN_MS));
      this.cursor = now;
      for (const { seq, ...event } of events) {
        if (this.seen.has(seq)) continue;
        this.seen.set(seq, now.getTime());
        // Every process reads the feed itself: what it reads there is not relayed.
        if (event.kind === 'sessionsRevoked') this.deps.events.emitHeard('sessionsRevoked', { userId: event.userId, sessionIds: event.sessionIds });
        else this.deps.events.emitHeard('accountChanged', { userId: event.userId, status: event.status });
      }
      for (const [seq, readAt] of this.seen) if (readAt < now.getTime() - 2 * LATE_COMMIT_MARGIN_MS) this.seen.delete(seq);
      if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = now.getTime();
        await this.deps.feed.prune(new Date(now.getTime() - RETENTION_MS));
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not read the account-events feed; retrying');
    }
  }
}
