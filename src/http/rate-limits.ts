import type { Request } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo, type RateLimitRequestHandler, type Store } from 'express-rate-limit';
import { AppError } from '../shared/app-error.js';
import { principalOf } from './authenticate.js';

export interface RateLimitSettings {
  windowSeconds: number;
  authPerIp: number;
  loginFailuresPerAccount: number;
  loginFailuresPerAccountTotal: number;
  /** Requests to the media upload routes per user per minute. */
  mediaUploadsPerMinute: number;
}

export interface RateLimits {
  /** Every request to /api/auth/* from one IP. */
  authPerIp: RateLimitRequestHandler;
  /** Failed logins: for one account from one IP, then for one account from all IPs together (in this order). */
  loginFailures: RateLimitRequestHandler[];
  /** Media uploads by one user (after authentication), all devices together. */
  mediaUploads: RateLimitRequestHandler;
}

function limiter(windowSeconds: number, limit: number, extra: Parameters<typeof rateLimit>[0] = {}) {
  return rateLimit({
    windowMs: windowSeconds * 1000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
      const resetTime = info?.resetTime?.getTime() ?? Date.now() + windowSeconds * 1000;
      const retryAfterSeconds = Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
      next(new AppError('RATE_LIMITED', 'Too many requests; try again later', { retryAfterSeconds }));
    },
    ...extra,
  });
}

/** The account a login is for: the normalised email, whatever shape the body has. */
function accountKey(req: Request): string {
  const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '(none)';
}

/** `store(name)` holds a limiter's counters (shared by every process), or undefined to keep them in memory. */
export function createRateLimits(settings: RateLimitSettings, store: (name: string) => Store | undefined): RateLimits {
  const failures = (name: string, limit: number, keyGenerator: (req: Request) => string) =>
    limiter(settings.windowSeconds, limit, { keyGenerator, skipSuccessfulRequests: true, store: store(name) });
  return {
    authPerIp: limiter(settings.windowSeconds, settings.authPerIp, { store: store('auth-ip') }),
    loginFailures: [
      // Per account and IP, so one address guessing (or locking out) many accounts locks out only itself.
      // IPv6 addresses count by their /56, as one subscriber usually holds a whole prefix.
      failures('login-account-ip', settings.loginFailuresPerAccount, (req) => `login:${accountKey(req)} ip:${ipKeyGenerator(req.ip ?? '')}`),
      // The ceiling a guesser spread over many addresses meets. It runs second, so attempts the first
      // limiter already refused do not count here: one address cannot use up an account's ceiling.
      failures('login-account', settings.loginFailuresPerAccountTotal, (req) => `login:${accountKey(req)}`),
    ],
    mediaUploads: limiter(60, settings.mediaUploadsPerMinute, { keyGenerator: (_req, res) => `media:${principalOf(res).userId}`, store: store('media-uploads') }),
  };
}
