import type { Request } from 'express';
import { rateLimit, type RateLimitInfo, type RateLimitRequestHandler } from 'express-rate-limit';
import { AppError } from '../shared/app-error.js';

export interface RateLimitSettings {
  windowSeconds: number;
  authPerIp: number;
  loginFailuresPerAccount: number;
}

export interface RateLimits {
  /** Every request to /api/auth/* from one IP. */
  authPerIp: RateLimitRequestHandler;
  /** Failed logins for one account, whatever IP they come from. */
  loginFailures: RateLimitRequestHandler;
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

/** The key for per-account limits: the normalised email, whatever shape the body has. */
function accountKey(req: Request): string {
  const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? `login:${email.trim().toLowerCase()}` : 'login:(none)';
}

export function createRateLimits(settings: RateLimitSettings): RateLimits {
  return {
    authPerIp: limiter(settings.windowSeconds, settings.authPerIp),
    loginFailures: limiter(settings.windowSeconds, settings.loginFailuresPerAccount, {
      keyGenerator: accountKey,
      skipSuccessfulRequests: true,
    }),
  };
}
