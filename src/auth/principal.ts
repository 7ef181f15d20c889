import type { UserRole } from '../storage/ports.js';

/** Who is calling, established from a verified access token and the live state of its session. */
export interface Principal {
  userId: string;
  sessionId: string;
  role: UserRole;
  /** When the access token it was established from expires: a socket's life ends then unless it re-authenticates. */
  tokenExpiresAt: Date;
}
