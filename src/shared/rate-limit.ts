import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './app-error.js';

/** A budget of actions per key (a user id) and time window. */
export interface RateLimit {
  /** Spends `cost` (default one action), or throws RATE_LIMITED (with retryAfterSeconds) when the budget is gone. */
  consume(key: string, cost?: number): Promise<void>;
}

export interface RateLimitSettings {
  points: number;
  windowSeconds: number;
}

/**
 * A RateLimit over any rate-limiter-flexible store. In one process the counters live in memory; with
 * several processes pass a RateLimiterRedis built from the same settings instead.
 */
export function rateLimitFrom(limiter: RateLimiterAbstract, what: string): RateLimit {
  return {
    async consume(key, cost = 1) {
      try {
        await limiter.consume(key, cost);
      } catch (rejection) {
        // The library rejects with a RateLimiterRes when the budget is spent, with an Error when its store fails.
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError('RATE_LIMITED', `Too many ${what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
      }
    },
  };
}

export function memoryRateLimit(settings: RateLimitSettings, what: string): RateLimit {
  return rateLimitFrom(new RateLimiterMemory({ points: settings.points, duration: settings.windowSeconds }), what);
}
