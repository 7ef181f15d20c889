import type { z } from 'zod';
import { TOO_LARGE_ISSUE } from '../protocol/common.js';
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type ErrorDetail } from '../protocol/errors.js';

/**
 * The one error type the domain throws. Transports render it: HTTP as `{ error }` with `status`,
 * sockets as `{ ok: false, error }`. Anything that is not an AppError is an INTERNAL error.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds a client should wait before retrying (RATE_LIMITED). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetail[]; retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.retryAfterSeconds !== undefined ? { retryAfterSeconds: this.retryAfterSeconds } : {}),
    };
  }

  static validation(error: z.ZodError, where?: string): AppError {
    const details = error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].filter(Boolean).join('.'),
      message: issue.message,
    }));
    const tooLarge = error.issues.some((issue) => issue.code === 'custom' && issue.params?.['tooLarge'] === TOO_LARGE_ISSUE.tooLarge);
    if (tooLarge) return new AppError('PAYLOAD_TOO_LARGE', 'Part of the request is larger than allowed', { details });
    return new AppError('VALIDATION_FAILED', 'The request is not valid', { details });
  }
}

const internalErrorBody: ErrorBody = { code: 'INTERNAL', message: 'Something went wrong on our side' };

/** Maps anything thrown to the wire shape, hiding internals of unexpected errors. */
export function toErrorBody(error: unknown): ErrorBody {
  return error instanceof AppError ? error.toBody() : internalErrorBody;
}
