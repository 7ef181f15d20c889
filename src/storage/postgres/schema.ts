import type { ColumnType, Generated } from 'kysely';
import type { UserRole, UserStatus } from '../ports.js';

/** Table shapes as Kysely sees them; kept in step with ./migrations. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  created_at: Date;
  last_seen_at: Date | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  device_name: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Date;
  used_at: Date | null;
}

export interface PushTokensTable {
  token: string;
  user_id: string;
  device_id: string | null;
  updated_at: Date;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  push_tokens: PushTokensTable;
}

export type { Generated };
