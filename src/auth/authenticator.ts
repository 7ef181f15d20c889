import { LRUCache } from 'lru-cache';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Storage, UserRole, UserStatus } from '../storage/ports.js';
import type { AccessTokens } from './access-tokens.js';
import type { Principal } from './principal.js';

interface SessionState {
  userId: string;
  role: UserRole;
  status: UserStatus;
  live: boolean;
}

/**
 * Turns an access token into a Principal. Signature and expiry are checked by the JWT; the session and
 * the account are looked up too (cached briefly), so a ban, a logout or a revoked session stops the
 * token at once: revocations evict the cache entries they affect.
 */
export class Authenticator {
  private readonly cache = new LRUCache<string, SessionState>({ max: 50_000, ttl: 30_000 });
  private revocationCount = 0;

  constructor(
    private readonly tokens: AccessTokens,
    private readonly storage: Storage,
    events: DomainEvents,
  ) {
    events.on('sessionsRevoked', ({ sessionIds }) => {
      this.revocationCount += 1;
      sessionIds.forEach((id) => this.cache.delete(id));
    });
    events.on('accountChanged', ({ userId }) => {
      this.revocationCount += 1;
      this.forgetUser(userId);
    });
  }

  /**
   * Counts the revocations and account changes heard of. Work that checked a session before the count
   * moved may have read the state from before a revocation (after its eviction ran), so it must not
   * trust what it read: a cache fill is dropped, a new socket is checked again.
   */
  get revocations(): number {
    return this.revocationCount;
  }

  async authenticate(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    const state = await this.sessionState(claims.sessionId);
    if (state?.userId === claims.userId && state.status === 'banned') {
      throw new AppError('ACCOUNT_BANNED', 'This account is banned');
    }
    if (!state || !state.live || state.userId !== claims.userId || state.status === 'deleted') {
      throw new AppError('UNAUTHORIZED', 'The session has ended; sign in again');
    }
    return { userId: claims.userId, sessionId: claims.sessionId, role: state.role, tokenExpiresAt: claims.expiresAt };
  }

  /** Drops every cached session of a user (after a change of role or status). */
  private forgetUser(userId: string): void {
    for (const [sessionId, state] of this.cache.entries()) {
      if (state.userId === userId) this.cache.delete(sessionId);
    }
  }

  private async sessionState(sessionId: string): Promise<SessionState | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached) return cached;
    const revocationsBefore = this.revocationCount;
    const found = await this.storage.sessions.findWithAccount(sessionId);
    if (!found) return undefined;
    const { session, role, status } = found;
    const state: SessionState = { userId: session.userId, role, status, live: session.revokedAt === null && session.expiresAt > new Date() };
    if (this.revocationCount === revocationsBefore) this.cache.set(sessionId, state);
    return state;
  }
}
