import type { AuditLog } from '../audit/audit-log.js';
import type { LoginFailureReason } from '../protocol/audit.js';
import type { AuthResponse, LoginBody, RegisterBody, SessionDto, TokenPair } from '../protocol/auth.js';
import { AppError } from '../shared/app-error.js';
import type { ClientContext } from '../shared/client-context.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { SessionRecord, Storage, UserRecord } from '../storage/ports.js';
import { presentUser } from '../users/user-presenter.js';
import type { AccessTokens } from './access-tokens.js';
import type { Passwords } from './passwords.js';
import type { Principal } from './principal.js';
import { hashRefreshToken, newRefreshToken } from './refresh-tokens.js';
import { presentSession } from './session-presenter.js';

export interface AuthServiceDeps {
  storage: Storage;
  accessTokens: AccessTokens;
  passwords: Passwords;
  events: DomainEvents;
  audit: AuditLog;
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
    return (await this.startSession(user, input.deviceName ?? null, client)).response;
  }

  async login(input: LoginBody, client: ClientContext): Promise<AuthResponse> {
    const user = await this.deps.storage.users.findByEmail(input.email);
    if (!user || user.status === 'deleted') {
      await this.deps.passwords.checkDecoy(input.password);
      await this.loginFailed(user?.id ?? null, user ? 'account_deleted' : 'unknown_account', client);
      throw invalidCredentials();
    }
    const check = await this.deps.passwords.check(user.passwordHash, input.password);
    if (!check.valid) {
      await this.loginFailed(user.id, 'wrong_password', client);
      throw invalidCredentials();
    }
    if (user.status === 'banned') {
      await this.loginFailed(user.id, 'account_banned', client);
      throw new AppError('ACCOUNT_BANNED', 'This account is banned');
    }
    if (check.needsRehash) await this.deps.storage.users.updatePasswordHash(user.id, await this.deps.passwords.hash(input.password));
    const { sessionId, response } = await this.startSession(user, input.deviceName ?? null, client);
    await this.deps.audit.record('login.succeeded', { actorId: user.id, targetUserId: user.id, client, details: { sessionId } });
    return response;
  }

  /**
   * Rotates a refresh token. The first presentation wins; any later one, including a concurrent
   * duplicate, is reuse: the whole session is revoked and REFRESH_TOKEN_REUSED answered.
   */
  async refresh(refreshToken: string, client: ClientContext): Promise<TokenPair> {
    const now = this.now();
    const result = await this.deps.storage.sessions.consumeToken(hashRefreshToken(refreshToken), now);
    if (result.outcome === 'unknown') throw invalidRefreshToken();
    const { session } = result;
    if (result.outcome === 'reused') {
      await this.endSession(session, 'refresh_token_reused', now);
      // Whoever presented it is not known: the thief or the device it was stolen from.
      await this.deps.audit.record('refresh_token.reused', { actorId: null, targetUserId: session.userId, client, details: { sessionId: session.id } });
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
  async logout(refreshToken: string, client: ClientContext): Promise<void> {
    const now = this.now();
    const session = await this.deps.storage.sessions.findByTokenHash(hashRefreshToken(refreshToken));
    if (session && (await this.endSession(session, 'logout', now))) {
      await this.deps.audit.record('session.logged_out', { actorId: session.userId, targetUserId: session.userId, client, details: { sessionId: session.id } });
    }
  }

  async me(principal: Principal) {
    const user = await this.deps.storage.users.findById(principal.userId);
    if (!user || user.status === 'deleted') throw new AppError('UNAUTHORIZED', 'The session has ended; sign in again');
    return presentUser(user);
  }

  async listSessions(principal: Principal): Promise<SessionDto[]> {
    const sessions = await this.deps.storage.sessions.listActiveByUser(principal.userId, this.now());
    return sessions.map((session) => ({
      ...presentSession(session),
      expiresAt: session.expiresAt.toISOString(),
      current: session.id === principal.sessionId,
    }));
  }

  async revokeSession(principal: Principal, sessionId: string, client: ClientContext): Promise<void> {
    const now = this.now();
    const revoked = await this.deps.storage.sessions.revoke(sessionId, principal.userId, 'revoked_by_user', now);
    if (!revoked) throw new AppError('NOT_FOUND', 'No such session');
    this.deps.events.emit('sessionsRevoked', { userId: principal.userId, sessionIds: [sessionId] });
    await this.deps.audit.record('session.revoked', { actorId: principal.userId, targetUserId: principal.userId, client, details: { reason: 'revoked_by_user', sessionId } });
  }

  /** Ends every session of the caller except the one making the request. */
  async logoutOthers(principal: Principal, client: ClientContext): Promise<number> {
    const now = this.now();
    const ids = await this.deps.storage.sessions.revokeAllForUser(principal.userId, 'logout_all', now, principal.sessionId);
    this.deps.events.emit('sessionsRevoked', { userId: principal.userId, sessionIds: ids });
    if (ids.length > 0) {
      await this.deps.audit.record('session.revoked', { actorId: principal.userId, targetUserId: principal.userId, client, details: { reason: 'logout_all', count: ids.length } });
    }
    return ids.length;
  }

  /** Stores the push token of the caller's session (the device it runs on), replacing that device's older one. */
  async registerPushToken(principal: Principal, token: string, deviceId: string | undefined, client: ClientContext): Promise<void> {
    const registered = await this.deps.storage.pushTokens.register({
      token,
      userId: principal.userId,
      sessionId: principal.sessionId,
      deviceId: deviceId ?? null,
      updatedAt: this.now(),
    });
    // Only when a revocation won the race against this request.
    if (!registered) throw new AppError('UNAUTHORIZED', 'The session has ended; sign in again');
    const { userId, sessionId } = principal;
    await this.deps.audit.record('push_token.added', { actorId: userId, targetUserId: userId, client, details: { sessionId } });
  }

  /** Removes one of the caller's push tokens; another user's or an unknown token is left alone, silently. */
  async removePushToken(principal: Principal, token: string, client: ClientContext): Promise<void> {
    const removed = await this.deps.storage.pushTokens.removeForUser(principal.userId, token);
    if (removed) {
      await this.deps.audit.record('push_token.removed', { actorId: principal.userId, targetUserId: principal.userId, client, details: { sessionId: removed.sessionId } });
    }
  }

  private async loginFailed(userId: string | null, reason: LoginFailureReason, client: ClientContext): Promise<void> {
    await this.deps.audit.record('login.failed', { actorId: null, targetUserId: userId, client, details: { reason } });
  }

  /** False when the session had ended already. */
  private async endSession(session: SessionRecord, reason: string, now: Date): Promise<boolean> {
    const revoked = await this.deps.storage.sessions.revoke(session.id, session.userId, reason, now);
    this.deps.events.emit('sessionsRevoked', { userId: session.userId, sessionIds: [session.id] });
    return revoked;
  }

  private async startSession(user: UserRecord, deviceName: string | null, client: ClientContext): Promise<{ sessionId: string; response: AuthResponse }> {
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
    return { sessionId: session.id, response: { user: presentUser(user), ...(await this.tokenPair(session, refresh.token)) } };
  }

  private async tokenPair(session: SessionRecord, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.deps.accessTokens.sign({ userId: session.userId, sessionId: session.id });
    return { accessToken, refreshToken, expiresIn: this.deps.accessTtlSeconds };
  }
}
