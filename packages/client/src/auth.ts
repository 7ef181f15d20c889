import { Emitter } from './emitter.js';
import { ApiError } from './errors.js';
import type { AuthResponse, SessionEndReason, TokenPair, UserDto } from './protocol.js';
import type { StoredSession, TokenStore } from './token-store.js';
import type { Transport } from './transport.js';

/** Why the session is over: the server ended it, or the user signed out. */
export type SignedOutReason = SessionEndReason | 'refresh_token_reused' | 'unauthorized' | 'signed_out';

type AuthEvents = {
  /** New tokens (sign-in or a rotation): the socket re-authenticates with them. */
  tokens: (session: StoredSession) => void;
  signedOut: (reason: SignedOutReason) => void;
};

/**
 * Rotate this long before the access token expires (at most half its life: the token's `exp` is in
 * whole seconds, so it may end up to a second before `expiresIn` says), so a request never
 * goes out with a dying one.
 */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * The signed-in session: the access token for every request, refreshed with rotation. At most one
 * refresh is ever in flight: the server treats a second refresh with the same token as theft and
 * revokes the session, so concurrent callers share the one under way.
 */
export class AuthSession extends Emitter<AuthEvents> {
  private current: StoredSession | null = null;
  private refreshing: Promise<StoredSession> | undefined;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly store: TokenStore,
    private readonly deviceName?: string,
  ) {
    super();
  }

  /** Reads the stored session, once. */
  async restore(): Promise<UserDto | null> {
    this.loaded ??= this.store.load().then((session) => void (this.current ??= session));
    await this.loaded;
    return this.current?.user ?? null;
  }

  get user(): UserDto | null {
    return this.current?.user ?? null;
  }

  get session(): StoredSession | null {
    return this.current;
  }

  register(input: { email: string; password: string; name: string }): Promise<UserDto> {
    return this.signIn('/api/auth/register', input);
  }

  login(input: { email: string; password: string }): Promise<UserDto> {
    return this.signIn('/api/auth/login', input);
  }

  /** Ends the session on the server (best effort) and here. */
  async logout(): Promise<void> {
    const refreshToken = this.current?.refreshToken;
    if (refreshToken) await this.transport.request('/api/auth/logout', { method: 'POST', body: { refreshToken } }).catch(() => undefined);
    await this.end('signed_out');
  }

  /** A live access token: refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    await this.restore();
    const session = this.requireSession();
    if (Date.now() < session.refreshAt) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * After the server answered TOKEN_EXPIRED to `rejected`: a newer token when some other caller has
   * rotated meanwhile, else the result of the (shared) refresh.
   */
  async tokenAfterExpiry(rejected: string): Promise<string> {
    const session = this.requireSession();
    if (session.accessToken !== rejected) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Rotates the tokens; concurrent calls share one request. */
  refresh(): Promise<StoredSession> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The server ended the session (SESSION_ENDED, a refused token): forget it. */
  async end(reason: SignedOutReason): Promise<void> {
    if (!this.current) return;
    this.current = null;
    await this.store.clear();
    this.emit('signedOut', reason);
  }

  private async rotate(): Promise<StoredSession> {
    const session = this.requireSession();
    try {
      const pair = await this.transport.request<TokenPair>('/api/auth/refresh-token', { method: 'POST', body: { refreshToken: session.refreshToken } });
      return await this.adopt(session.user, pair);
    } catch (error) {
      // A refresh token the server no longer takes ends the session; a network failure does not.
      if (error instanceof ApiError && !error.retryable) {
        await this.end(error.code === 'REFRESH_TOKEN_REUSED' ? 'refresh_token_reused' : error.code === 'ACCOUNT_BANNED' ? 'account_banned' : 'unauthorized');
      }
      throw error;
    }
  }

  private async signIn(path: string, body: object): Promise<UserDto> {
    const answer = await this.transport.request<AuthResponse>(path, { method: 'POST', body: { ...body, ...(this.deviceName ? { deviceName: this.deviceName } : {}) } });
    await this.adopt(answer.user, answer);
    return answer.user;
  }

  private async adopt(user: UserDto, pair: TokenPair): Promise<StoredSession> {
    const lifetimeMs = pair.expiresIn * 1000;
    const accessExpiresAt = Date.now() + lifetimeMs;
    const session: StoredSession = {
      user,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      accessExpiresAt,
      refreshAt: accessExpiresAt - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2),
    };
    this.current = session;
    await this.store.save(session);
    this.emit('tokens', session);
    return session;
  }

  private requireSession(): StoredSession {
    if (!this.current) throw new ApiError({ code: 'UNAUTHORIZED', message: 'Not signed in' });
    return this.current;
  }
}
