import { MemoryStore, type Options, type Store } from 'express-rate-limit';
import type { Logger } from '../shared/logger.js';

/**
 * An express-rate-limit store shared by every process (Redis) that counts in this process's memory while
 * the shared one fails, as rate-limiter-flexible's insurance limiter does for the socket budgets: a Redis
 * outage neither refuses every request (the limiter's error would answer 500) nor lifts the limits.
 */
export class StoreWithInsurance implements Store {
  private readonly insurance = new MemoryStore();
  private failing = false;

  constructor(
    private readonly shared: Store,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  get prefix(): string | undefined {
    return this.shared.prefix;
  }

  async init(options: Options): Promise<void> {
    this.insurance.init(options);
    await this.shared.init?.(options);
  }

  increment(key: string) {
    return this.either((store) => store.increment(key));
  }

  decrement(key: string) {
    return this.either((store) => store.decrement(key));
  }

  resetKey(key: string) {
    return this.either((store) => store.resetKey(key));
  }

  async shutdown(): Promise<void> {
    this.insurance.shutdown();
  }

  private async either<T>(use: (store: Store) => Promise<T> | T): Promise<T> {
    try {
      const result = await use(this.shared);
      this.failing = false;
      return result;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: error, limiter: this.name }, 'HTTP rate limit: the shared store failed; counting in this process meanwhile');
      this.failing = true;
      return use(this.insurance);
    }
  }
}
