import type { Logger } from '../shared/logger.js';

/** Running totals since the process started, shaped so a metrics endpoint can expose them as counters. */
export interface PushCounts {
  queued: number;
  sent: number;
  failed: number;
  retried: number;
  dropped: number;
  tokensRemoved: number;
}

/** The push counters, logged as one `push stats` line when they changed since the last line. */
export class PushStats {
  readonly counts: PushCounts = { queued: 0, sent: 0, failed: 0, retried: 0, dropped: 0, tokensRemoved: 0 };
  private logged = JSON.stringify(this.counts);

  constructor(private readonly logger: Logger) {}

  add(counter: keyof PushCounts, amount = 1): void {
    this.counts[counter] += amount;
  }

  log(): void {
    const now = JSON.stringify(this.counts);
    if (now === this.logged) return;
    this.logged = now;
    this.logger.info({ push: { ...this.counts } }, 'push stats');
  }
}
