export interface BackoffOptions {
  /** The first delay's ceiling, in ms. */
  initialMs: number;
  /** No delay exceeds it. */
  maxMs: number;
  /** A number in [0, 1); Math.random unless a test gives its own. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before attempt `attempt` (0 = the first retry): exponential with "equal jitter", half of
 * the ceiling fixed and half random, so many clients cut off at once do not come back in step and
 * none retries at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const random = options.random ?? Math.random;
  return ceiling / 2 + random() * (ceiling / 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
