import type { AuditLog } from '../audit/audit-log.js';
import type { UserDto } from '../protocol/auth.js';
import { AppError } from '../shared/app-error.js';
import type { ClientContext } from '../shared/client-context.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Storage, UserRole, UserStatus } from '../storage/ports.js';
import { presentUser } from './user-presenter.js';

/** Who makes a change: an admin through a request, or (null) an operator on the command line. */
export type AccountAdmin = { userId: string; client: ClientContext } | null;

/** Changes of role and status, made by an admin (HTTP) or an operator (CLI). */
export class AccountAdminService {
  constructor(
    private readonly storage: Storage,
    private readonly events: DomainEvents,
    private readonly audit: AuditLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async update(userId: string, change: { status?: UserStatus; role?: UserRole }, by: AccountAdmin): Promise<UserDto> {
    const before = await this.storage.users.findById(userId);
    if (!before) throw new AppError('NOT_FOUND', 'No such user');
    let user = before;
    if (change.role && change.role !== user.role) {
      user = (await this.storage.users.setRole(userId, change.role)) ?? user;
    }
    let revoked: string[] = [];
    if (change.status && change.status !== user.status) {
      user = (await this.storage.users.setStatus(userId, change.status)) ?? user;
      if (change.status !== 'active') revoked = await this.storage.sessions.revokeAllForUser(userId, change.status, this.now());
    }
    // The account change first, so open connections learn the real reason (banned), not just "revoked".
    this.events.emit('accountChanged', { userId, status: user.status });
    if (revoked.length > 0) this.events.emit('sessionsRevoked', { userId, sessionIds: revoked });
    const entry = { actorId: by?.userId ?? null, targetUserId: userId, client: by?.client ?? null };
    if (user.role !== before.role) await this.audit.record('user.role_changed', { ...entry, details: { from: before.role, to: user.role } });
    if (user.status !== before.status) {
      await this.audit.record('user.status_changed', { ...entry, details: { from: before.status, to: user.status, sessionsRevoked: revoked.length } });
    }
    return presentUser(user);
  }
}
