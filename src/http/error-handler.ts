import type { NextFunction, Request, Response } from 'express';
import type { ErrorResponse } from '../protocol/errors.js';
import { AppError, toErrorBody } from '../shared/app-error.js';

/** Errors raised by express.json() or the router before any route runs. */
function fromBodyParser(error: unknown): AppError | undefined {
  // The router cannot percent-decode a path parameter (e.g. /sessions/%E0%A4%A): the client's mistake.
  if (error instanceof URIError) return new AppError('VALIDATION_FAILED', 'The URL is not validly percent-encoded');
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (type === 'entity.parse.failed') return new AppError('VALIDATION_FAILED', 'The request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('VALIDATION_FAILED', 'The request body must be UTF-8 JSON');
  }
  return undefined;
}

/** The one place HTTP errors are rendered: the contract's `{ error }` shape, never a stack trace. */
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const appError = error instanceof AppError ? error : fromBodyParser(error);
  if (!appError) req.log.error({ err: error }, 'unhandled error');
  const status = appError?.status ?? 500;
  if (appError?.retryAfterSeconds !== undefined) res.set('Retry-After', String(appError.retryAfterSeconds));
  const body: ErrorResponse = { error: toErrorBody(appError ?? error) };
  res.status(status).json(body);
}

export function notFound(req: Request): never {
  throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
}
