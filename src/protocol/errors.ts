import { z } from 'zod';

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

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export const errorDetailSchema = z.object({
  /** The field, e.g. `body.email`. */
  path: z.string(),
  message: z.string(),
});

export const errorBodySchema = z.object({
  code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  details: z.array(errorDetailSchema).optional(),
  retryAfterSeconds: z.int().positive().optional().meta({ description: 'With RATE_LIMITED: seconds to wait before trying again (also the HTTP Retry-After header).' }),
});

/** The one error shape of every REST response: `{ error: { code, message, details? } }`. */
export const errorResponseSchema = z.object({ error: errorBodySchema });

export type ErrorDetail = z.infer<typeof errorDetailSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
