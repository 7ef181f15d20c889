import type { NextFunction, Request, Response } from 'express';
import type { ErrorResponse } from '../protocol/errors.js';
import { AppError, toErrorBody } from '../shared/app-error.js';

/**
 * Errors raised by express.json() or the router before any route runs. body-parser raises http-errors
 * with a `type` for the cases it names, and passes others through with a 4xx `status` and `expose: true`
 * (a body that does not decompress as its Content-Encoding says is a zlib error with status 400). Every
 * other error is the server's: INTERNAL.
 */
function fromRequestParsing(error: unknown): AppError | undefined {
  // The router cannot percent-decode a path parameter (e.g. /sessions/%E0%A4%A): the client's mistake.
  if (error instanceof URIError) return new AppError('VALIDATION_FAILED', 'The URL is not validly percent-encoded');
  const { type, status, expose } = (error ?? {}) as { type?: unknown; status?: unknown; expose?: unknown };
  switch (type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'entity.parse.failed':
      return new AppError('VALIDATION_FAILED', 'The request body is not valid JSON');
    case 'charset.unsupported':
      return new AppError('VALIDATION_FAILED', 'The request body must be UTF-8 JSON');
    case 'encoding.unsupported':
      return new AppError('VALIDATION_FAILED', 'The Content-Encoding of the request body is not supported (use gzip, deflate, br or none)');
    case 'request.size.invalid':
      return new AppError('VALIDATION_FAILED', 'The request body does not match its Content-Length');
  }
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    return new AppError('VALIDATION_FAILED', 'The request body could not be read (does it match its Content-Encoding?)');
  }
  return undefined;
}

/** The one place HTTP errors are rendered: the contract's `{ error }` shape, never a stack trace. */
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const appError = error instanceof AppError ? error : fromRequestParsing(error);
  if (!appError) req.log.error({ err: error }, 'unhandled error');
  const status = appError?.status ?? 500;
  if (appError?.retryAfterSeconds !== undefined) res.set('Retry-After', String(appError.retryAfterSeconds));
  const body: ErrorResponse = { error: toErrorBody(appError ?? error) };
  res.status(status).json(body);
}

export function notFound(req: Request): never {
  throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
}
