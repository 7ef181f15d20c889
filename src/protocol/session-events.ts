import { z } from 'zod';
import type { ClientEvent } from './ack.js';
import { timestampSchema } from './common.js';

/** A fresh access token of the same session, sent before the current one expires. */
export const authenticatePayload = z.object({ token: z.string().min(1).max(4096) });

export type AuthenticatePayload = z.input<typeof authenticatePayload>;

/**
 * Why the server is about to close a connection for good. `token_expired`: refresh the access token and
 * connect again (or send AUTHENTICATE before it expires, to keep the connection). The others: the
 * session is over; sign in again.
 */
export const SESSION_END_REASONS = ['token_expired', 'session_revoked', 'account_banned', 'account_deleted'] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

export const sessionEndedEventSchema = z.object({ reason: z.enum(SESSION_END_REASONS) });
export type SessionEndedEvent = z.infer<typeof sessionEndedEventSchema>;

export const authenticateResultSchema = z.object({ expiresAt: timestampSchema.meta({ description: 'When the new access token expires.' }) });

/** The life of a connection's authentication; documented in docs/api/README.md. */
export interface SessionClientEvents {
  /** Replaces the connection's access token with a newer one of the same session; the ack says when it expires. */
  AUTHENTICATE: ClientEvent<AuthenticatePayload, z.infer<typeof authenticateResultSchema>>;
}

export interface SessionServerEvents {
  /** Sent just before the server disconnects the socket because its session or token ended. */
  SESSION_ENDED: (payload: SessionEndedEvent) => void;
}
