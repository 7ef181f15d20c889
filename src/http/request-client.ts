import type { Request } from 'express';
import type { ClientContext } from '../shared/client-context.js';

/** The client of a request: its User-Agent and its address (`req.ip`, which honours the `trust proxy` setting). */
export function clientOf(req: Request): ClientContext {
  return { userAgent: req.get('user-agent') ?? null, ip: req.ip ?? null };
}
