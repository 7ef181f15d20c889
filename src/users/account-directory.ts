import type { AdminUserDetailResponse, AdminUserDto, AdminUsersQuery, AdminUsersResponse } from '../protocol/admin.js';
import { presentSession } from '../auth/session-presenter.js';
import { AppError } from '../shared/app-error.js';
import { paginate } from '../shared/pagination.js';
import type { SessionsRepository, UserRecord, UsersRepository } from '../storage/ports.js';
import type { PresenceTracker } from './presence-tracker.js';
import { presentUser } from './user-presenter.js';

/** What admins may read of the accounts: every account with its presence, and its live sessions. */
export class AccountDirectory {
  constructor(
    private readonly deps: { users: UsersRepository; sessions: SessionsRepository; presence: PresenceTracker },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(query: AdminUsersQuery): Promise<AdminUsersResponse> {
    const rows = await this.deps.users.list({ query: query.query || undefined, status: query.status, after: query.after, limit: query.limit + 1 });
    const { items, nextCursor } = paginate(rows, query.limit, (user) => user.id);
    return { users: await this.present(items), nextCursor };
  }

  async get(userId: string): Promise<AdminUserDetailResponse> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError('NOT_FOUND', 'No such user');
    const [presented] = await this.present([user]);
    const sessions = await this.deps.sessions.listActiveByUser(userId, this.now());
    return {
      user: presented!,
      sessions: sessions.map(presentSession),
    };
  }

  private async present(users: UserRecord[]): Promise<AdminUserDto[]> {
    const online = await this.deps.presence.onlineAmong(users.map((user) => user.id));
    return users.map((user) => ({ ...presentUser(user), lastSeenAt: user.lastSeenAt?.toISOString() ?? null, online: online.has(user.id) }));
  }
}
