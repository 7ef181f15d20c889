/**
 * The storage port: what the services need from a database, in domain terms. Adapters (PostgreSQL and
 * PGlite today, MongoDB later) implement it; nothing SQL-shaped crosses this line.
 */

export type UserRole = 'user' | 'admin';
export type UserStatus = 'active' | 'banned' | 'deleted';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: UserRole;
  status: UserStatus;
  createdAt: Date;
  lastSeenAt: Date | null;
}

export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  createdAt: Date;
}

export interface UsersRepository {
  /** Returns null when the email is already taken. */
  create(user: NewUser): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  findByEmail(email: string): Promise<UserRecord | null>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  setRole(id: string, role: UserRole): Promise<UserRecord | null>;
  setStatus(id: string, status: UserStatus): Promise<UserRecord | null>;
}

/** A session is one refresh-token family: one signed-in device. */
export interface SessionRecord {
  id: string;
  userId: string;
  deviceName: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  /** Absolute end of the session: rotation never extends it. */
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export type NewSession = Omit<SessionRecord, 'revokedAt' | 'revokedReason'>;

export type ConsumeResult =
  | { outcome: 'consumed'; session: SessionRecord }
  /** The token was valid once but has already been rotated: someone presents an old token. */
  | { outcome: 'reused'; session: SessionRecord }
  | { outcome: 'unknown' };

export interface SessionsRepository {
  create(session: NewSession, firstTokenHash: string): Promise<SessionRecord>;
  findById(id: string): Promise<SessionRecord | null>;
  listActiveByUser(userId: string, now: Date): Promise<SessionRecord[]>;
  /**
   * Atomically marks a refresh token used. Exactly one of any number of concurrent callers with the
   * same token gets `consumed`; the others get `reused`.
   */
  consumeToken(tokenHash: string, now: Date): Promise<ConsumeResult>;
  addToken(sessionId: string, tokenHash: string, now: Date): Promise<void>;
  /** Revokes one session; returns false when it was not the user's or already revoked. */
  revoke(sessionId: string, userId: string, reason: string, now: Date): Promise<boolean>;
  /** Revokes every session of a user except `keepSessionId`; returns the revoked ids. */
  revokeAllForUser(userId: string, reason: string, now: Date, keepSessionId?: string): Promise<string[]>;
}

export interface PushTokenRecord {
  token: string;
  userId: string;
  deviceId: string | null;
  updatedAt: Date;
}

export interface PushTokensRepository {
  /** Registers a token for a user, moving it away from any other user that held it. */
  upsert(token: PushTokenRecord): Promise<void>;
  listByUser(userId: string): Promise<PushTokenRecord[]>;
  remove(token: string): Promise<void>;
}

export interface Storage {
  users: UsersRepository;
  sessions: SessionsRepository;
  pushTokens: PushTokensRepository;
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
