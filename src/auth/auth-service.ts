import type { AuthResponse, LoginBody, RegisterBody, SessionDto, TokenPair } from '../protocol/auth.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { SessionRecord, Storage, UserRecord } from '../storage/ports.js';
import { presentUser } from '../users/user-presenter.js';
import type { AccessTokens } from './access-tokens.js';
import type { Passwords } from './passwords.js';
import type { Principal } from './principal.js';
import { hashRefreshToken, newRefreshToken } from './refresh-tokens.js';

/** Where a sign-in comes from, kept with its session so the user can recognise it. */
export interface ClientContext {
  userAgent: string | null;
  ip: string | null;
}

export interface AuthServiceDeps {
  storage: Storage;
  accessTokens: AccessTokens;
  passwords: Passwords;
  events: DomainEvents;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  now?: () => Date;
}

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'The email or password is wrong');
const invalidRefreshToken = () => new AppError('UNAUTHORIZED', 'The refresh token is not valid; sign in again');

export class AuthService {
  private readonly now: () => Date;

  constructor(private readonly deps: AuthServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async register(input: RegisterBody, client: ClientContext): Promise<AuthResponse> {
    const user = await this.deps.storage.users.create({
      id: newId(),
      email: input.email,
      name: input.name,
      passwordHash: await this.deps.passwords.hash(input.password),
      createdAt: this.now(),
    });
    if (!user) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists');
    return this.startSession(user, input.deviceName ?? null, client);
  }

  async login(input: LoginBody, client: ClientContext): Promise<AuthResponse> {
    const user = await this.deps.storage.users.findByEmail(input.email);
    if (!user || user.status === 'deleted') {
      await this.deps.passwords.checkDecoy(input.password);
      throw invalidCredentials();
    }
    const check = await this.deps.passwords.check(user.passwordHash, input.password);
    if (!check.valid) throw invalidCredentials();
    if (user.status === 'banned') throw new AppError('ACCOUNT_BANNED', 'This account is banned');
    if (check.needsRehash) await this.deps.storage.users.updatePasswordHash(user.id, await this.deps.passwords.hash(input.password));
    return this.startSession(user, input.deviceName ?? null, client);
  }

  /**
   * Rotates a refresh token. The first presentation wins; any later one, including a concurrent
   * duplicate, is reuse: the whole session is revoked and REFRESH_TOKEN_REUSED answered.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.now();
    const result = await this.deps.storage.sessions.consumeToken(hashRefreshToken(refreshToken), now);
    if (result.outcome === 'unknown') throw invalidRefreshToken();
    const { session } = result;
    if (result.outcome === 'reused') {
      await this.endSession(session, 'refresh_token_reused', now);
      throw new AppError('REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been ended');
    }
    const user = await this.deps.storage.users.findById(session.userId);
    // A ban also revokes the sessions, so it is checked first: the client learns why, not just "sign in again".
    if (user?.status === 'banned') throw new AppError('ACCOUNT_BANNED', 'This account is banned');
    if (session.revokedAt || session.expiresAt <= now) throw invalidRefreshToken();
    if (!user || user.status === 'deleted') throw invalidRefreshToken();
    const next = newRefreshToken();
    await this.deps.storage.sessions.addToken(session.id, next.hash, now);
    return this.tokenPair(session, next.token);
  }

  /** Ends the session the refresh token belongs to. Unknown tokens are accepted silently. */
  async logout(refreshToken: string): Promise<void> {
    const now = this.now();
    const session = await this.deps.storage.sessions.findByTokenHash(hashRefreshToken(refreshToken));
    if (session) await this.endSession(session, 'logout', now);
  }

  async me(principal: Principal) {
    const user = await this.deps.storage.users.findById(principal.userId);
    if (!user || user.status === 'deleted') throw new AppError('UNAUTHORIZED', 'The session has ended; sign in again');
    return presentUser(user);
  }

  async listSessions(principal: Principal): Promise<SessionDto[]> {
    const sessions = await this.deps.storage.sessions.listActiveByUser(principal.userId, this.now());
    return sessions.map((session) => ({
      id: session.id,
      deviceName: session.deviceName,
      userAgent: session.userAgent,
      ip: session.ip,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      current: session.id === principal.sessionId,
    }));
  }

  async revokeSession(principal: Principal, sessionId: string): Promise<void> {
    const now = this.now();
    const revoked = await this.deps.storage.sessions.revoke(sessionId, principal.userId, 'revoked_by_user', now);
    if (!revoked) throw new AppError('NOT_FOUND', 'No such session');
    this.deps.events.emit('sessionsRevoked', { userId: principal.userId, sessionIds: [sessionId] });
  }

  /** Ends every session of the caller except the one making the request. */
  async logoutOthers(principal: Principal): Promise<number> {
    const now = this.now();
    const ids = await this.deps.storage.sessions.revokeAllForUser(principal.userId, 'logout_all', now, principal.sessionId);
    this.deps.events.emit('sessionsRevoked', { userId: principal.userId, sessionIds: ids });
    return ids.length;
  }

  /** Stores the push token of the caller's session (the device it runs on), replacing that device's older one. */
  async registerPushToken(principal: Principal, token: string, deviceId: string | undefined): Promise<void> {
    const registered = await this.deps.storage.pushTokens.register({
      token,
      userId: principal.userId,
      sessionId: principal.sessionId,
      deviceId: deviceId ?? null,
      updatedAt: this.now(),
    });
    // Only when a revocation won the race against this request.
    if (!registered) throw new AppError('UNAUTHORIZED', 'The session has ended; sign in again');
  }

  /** Removes one of the caller's push tokens; another user's or an unknown token is left alone, silently. */
  async removePushToken(principal: Principal, token: string): Promise<void> {
    await this.deps.storage.pushTokens.removeForUser(principal.userId, token);
  }

  private async endSession(session: SessionRecord, reason: string, now: Date): Promise<void> {
    await this.deps.storage.sessions.revoke(session.id, session.userId, reason, now);
    this.deps.events.emit('sessionsRevoked', { userId: session.userId, sessionIds: [session.id] });
  }

  private async startSession(user: UserRecord, deviceName: string | null, client: ClientContext): Promise<AuthResponse> {
    const now = this.now();
    const refresh = newRefreshToken();
    const session = await this.deps.storage.sessions.create(
      {
        id: newId(),
        userId: user.id,
        deviceName,
        userAgent: client.userAgent?.slice(0, 300) ?? null,
        ip: client.ip,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + this.deps.refreshTtlSeconds * 1000),
      },
      refresh.hash,
    );
    return { user: presentUser(user), ...(await this.tokenPair(session, refresh.token)) };
  }

  private async tokenPair(session: SessionRecord, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.deps.accessTokens.sign({ userId: session.userId, sessionId: session.id });
    return { accessToken, refreshToken, expiresIn: this.deps.accessTtlSeconds };
  }
}
