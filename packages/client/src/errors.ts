import type { ErrorBody, ErrorCode, ErrorDetail } from './protocol.js';

/**
 * Codes worth trying again after a while: the server was busy or stopping. Every other code says the
 * request itself is wrong or not allowed, so trying it again would get the same answer.
 */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(['RATE_LIMITED', 'UNAVAILABLE', 'TOO_MANY_CONNECTIONS']);

/** The server refused a request (REST or a socket event's ack) with one of the contract's codes. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  /** The HTTP status; undefined for a socket acknowledgement or handshake refusal. */
  readonly status: number | undefined;
  readonly details: ErrorDetail[];
  /** With RATE_LIMITED: the seconds to wait (error.retryAfterSeconds or Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(body: ErrorBody, status?: number) {
    super(body.message);
    this.code = body.code;
    this.status = status;
    this.details = body.details ?? [];
    this.retryAfterSeconds = body.retryAfterSeconds;
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

/** No answer came: the network is down, the server unreachable, or an acknowledgement timed out. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether doing the same thing again may succeed (never true for a request the server judged wrong). */
export function isRetryable(error: unknown): boolean {
  return (error instanceof ApiError || error instanceof ConnectionError) && error.retryable;
}
