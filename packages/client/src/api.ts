import type { AuthSession } from './auth.js';
import { backoffDelay, sleep, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { ApiError, isRetryable } from './errors.js';
import type { RequestOptions, Transport } from './transport.js';

export interface ApiOptions {
  /** Attempts for a request that may be repeated safely (GET, PATCH, DELETE), the first included. */
  attempts?: number;
  backoff?: BackoffOptions;
}

/**
 * Authorised REST requests. TOKEN_EXPIRED is answered by refreshing (the shared refresh) and sending
 * the request once more. A retryable refusal (RATE_LIMITED, UNAVAILABLE, no answer) of a request that
 * may be repeated is tried again with backoff and jitter, never sooner than Retry-After; a
 * non-retryable one is thrown at once.
 */
export class Api {
  private readonly attempts: number;
  private readonly backoff: BackoffOptions;

  constructor(
    private readonly transport: Transport,
    private readonly auth: AuthSession,
    options: ApiOptions = {},
  ) {
    this.attempts = options.attempts ?? 3;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>(path, { method: 'GET', ...(query ? { query } : {}) });
  }

  /** POST is not repeated on its own: it may have been carried out. */
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', body }, 1);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>(path, { method: 'DELETE' });
  }

  async request<T>(path: string, options: RequestOptions, attempts = this.attempts): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.authorised<T>(path, options);
      } catch (error) {
        if (!isRetryable(error) || attempt + 1 >= attempts) throw error;
        const retryAfterMs = error instanceof ApiError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : 0;
        await sleep(Math.max(retryAfterMs, backoffDelay(attempt, this.backoff)));
      }
    }
  }

  private async authorised<T>(path: string, options: RequestOptions): Promise<T> {
    const accessToken = await this.auth.accessToken();
    try {
      return await this.transport.request<T>(path, { ...options, accessToken });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'TOKEN_EXPIRED')) throw error;
      return this.transport.request<T>(path, { ...options, accessToken: await this.auth.tokenAfterExpiry(accessToken) });
    }
  }
}
