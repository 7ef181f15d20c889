import type { NextFunction, Request, Response } from 'express';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../shared/app-error.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      principal?: Principal;
    }
  }
}

/**
 * Requires `Authorization: Bearer <accessToken>` and puts the caller in `res.locals.principal`; the
 * request's log lines from here on name the user.
 */
export function requireAuth(authenticator: Authenticator) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer ([^\s]+)$/.exec(req.get('authorization') ?? '');
    if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Send an access token as "Authorization: Bearer <token>"');
    const principal = await authenticator.authenticate(match[1]);
    res.locals.principal = principal;
    req.log = req.log.child({ userId: principal.userId });
    next();
  };
}

export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (principalOf(res).role !== 'admin') throw new AppError('FORBIDDEN', 'This needs an admin account');
  next();
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new AppError('UNAUTHORIZED', 'Sign in first');
  return principal;
}
