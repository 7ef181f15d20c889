import type { Api } from './api.js';
import type {
  AdminUserDetailResponse,
  AdminUsersResponse,
  AuditEntryDto,
  AuditResponse,
  AuditType,
  CallQualityResponse,
  LiveFiguresResponse,
  UserDto,
} from './protocol.js';

export type AuditEventType = AuditType;
export type AuditEntry = AuditEntryDto;
export type AuditPage = AuditResponse;

export interface AuditFilter {
  userId?: string | undefined;
  type?: AuditEventType | undefined;
  /** ISO timestamps. */
  from?: string | undefined;
  to?: string | undefined;
  before?: string | undefined;
  limit?: number | undefined;
}

/** The admin endpoints (an admin account's session; anyone else gets FORBIDDEN). */
export class Admin {
  constructor(private readonly api: Api) {}

  users(filter: { query?: string; status?: UserDto['status']; after?: string; limit?: number } = {}): Promise<AdminUsersResponse> {
    return this.api.get('/api/admin/users', filter);
  }

  user(userId: string): Promise<AdminUserDetailResponse> {
    return this.api.get(`/api/admin/users/${encodeURIComponent(userId)}`);
  }

  /** A ban or delete ends the account's sessions and disconnects its sockets. */
  async updateUser(userId: string, change: { status?: UserDto['status']; role?: UserDto['role'] }): Promise<UserDto> {
    return (await this.api.patch<{ user: UserDto }>(`/api/admin/users/${encodeURIComponent(userId)}`, change)).user;
  }

  live(): Promise<LiveFiguresResponse> {
    return this.api.get('/api/admin/live');
  }

  audit(filter: AuditFilter = {}): Promise<AuditPage> {
    return this.api.get('/api/admin/audit', { ...filter });
  }

  /** `from` and `to` are days, `YYYY-MM-DD`. */
  callQuality(range: { from: string; to: string }): Promise<CallQualityResponse> {
    return this.api.get('/api/admin/call-quality', range);
  }
}
