/** Stable error codes of the wire contract, with the HTTP status each one answers with. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  REFRESH_TOKEN_REUSED: 401,
  ACCOUNT_BANNED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  INVALID_STATE: 409,
  /** A group call already holds its most participants. */
  CALL_FULL: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** The user holds as many bytes of media as their quota allows. */
  QUOTA_EXCEEDED: 413,
  /** An upload whose content (sniffed from its bytes) is not accepted, such as an executable. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** A socket handshake beyond the user's connection limit (SOCKET_MAX_CONNECTIONS_PER_USER). */
  TOO_MANY_CONNECTIONS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  /** With RATE_LIMITED: seconds to wait before trying again (also the HTTP Retry-After header). */
  retryAfterSeconds?: number;
}

/** The one error shape of every REST response: `{ error: { code, message, details? } }`. */
export interface ErrorResponse {
  error: ErrorBody;
}
