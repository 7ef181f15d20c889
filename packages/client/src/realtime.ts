import { io, type Socket } from 'socket.io-client';
import type { AuthSession } from './auth.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError, ConnectionError } from './errors.js';
import type { AckResponse, ClientToServerEvents, ErrorCode, ServerToClientEvents } from './protocol.js';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'waiting';

type PayloadOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends keyof ClientToServerEvents> = NonNullable<Parameters<ClientToServerEvents[E]>[1]>;
/** What an event's acknowledgement carries besides `ok: true`. */
export type ResultOf<E extends keyof ClientToServerEvents> = Extract<Parameters<AckOf<E>>[0], { ok: true }>;

type RealtimeEvents = {
  state: (state: ConnectionState) => void;
  /** Every (re)connection, after the handshake: the time to sync and to re-subscribe. */
  connected: () => void;
};

export interface RealtimeOptions {
  backoff?: BackoffOptions;
  /** How long an event waits for its acknowledgement. */
  ackTimeoutMs?: number;
  /** Socket.io transports; the default starts with polling and upgrades to WebSocket. */
  transports?: ('polling' | 'websocket')[];
}

/** Handshake refusals that end the session: reconnecting would be refused the same way. */
const FATAL_HANDSHAKE: Partial<Record<ErrorCode, 'unauthorized' | 'account_banned'>> = { UNAUTHORIZED: 'unauthorized', ACCOUNT_BANNED: 'account_banned' };

/**
 * The Socket.io connection: authenticated with the session's access token, kept open across network
 * drops (reconnecting with exponential backoff and jitter), re-authenticated on rotation (AUTHENTICATE)
 * and after TOKEN_EXPIRED (refresh, then connect again), and closed for good when the session ends.
 */
export class Realtime extends Emitter<RealtimeEvents> {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private stateValue: ConnectionState = 'disconnected';
  private wanted = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: BackoffOptions;
  private readonly ackTimeoutMs: number;

  constructor(
    baseUrl: string,
    private readonly auth: AuthSession,
    options: RealtimeOptions = {},
  ) {
    super();
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.socket = io(baseUrl, {
      autoConnect: false,
      // This class reconnects itself: it must refresh a token first, and it backs off after refusals too.
      reconnection: false,
      // Each client owns its connection (two clients in one page or process never share one).
      forceNew: true,
      ...(options.transports ? { transports: options.transports } : {}),
      // Read at every connection attempt, so a reconnect carries the newest token.
      auth: (callback) => {
        this.auth.accessToken().then(
          (token) => callback({ token }),
          () => callback({ token: '' }),
        );
      },
    });
    this.socket.on('connect', () => {
      this.attempt = 0;
      this.setState('connected');
      this.scheduleRotation();
      this.emit('connected');
    });
    this.socket.on('connect_error', (error) => void this.onRefused(error.message));
    this.socket.on('disconnect', (reason) => {
      clearTimeout(this.refreshTimer);
      // Our own disconnect() stays down; every other reason (network, server shutdown) comes back.
      if (reason !== 'io client disconnect') this.retryLater();
    });
    this.socket.on('SESSION_ENDED', ({ reason }) => {
      if (reason === 'token_expired') {
        // The disconnect follows; the reconnect it schedules takes a fresh token through `auth`.
        void this.auth.refresh().catch(() => undefined);
        return;
      }
      this.wanted = false;
      void this.auth.end(reason);
    });
    // Each rotation (whoever caused it) goes to the open connection, which then lives on.
    this.auth.on('tokens', (session) => {
      if (!this.socket.connected) return;
      this.socket.emit('AUTHENTICATE', { token: session.accessToken }, (ack: AckResponse) => {
        if (ack.ok) this.scheduleRotation();
      });
    });
    this.auth.on('signedOut', () => this.disconnect());
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  connect(): void {
    this.wanted = true;
    if (this.socket.connected || this.stateValue === 'connecting') return;
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    this.socket.connect();
  }

  disconnect(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    this.socket.disconnect();
    this.setState('disconnected');
  }

  /** Resolves once connected (at once if it is). */
  whenConnected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('connected', () => {
        off();
        resolve();
      });
    });
  }

  /**
   * Sends a client event and resolves with its acknowledgement; a refusal rejects with an ApiError of
   * the contract's code, no acknowledgement in time with a ConnectionError.
   */
  async request<E extends keyof ClientToServerEvents>(event: E, payload: PayloadOf<E>, timeoutMs = this.ackTimeoutMs): Promise<ResultOf<E>> {
    if (!this.socket.connected) throw new ConnectionError(`${String(event)}: not connected`);
    let ack: AckResponse;
    try {
      // The typed emit cannot express "the acknowledgement is the last argument" generically.
      ack = (await (this.socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<AckResponse> }).emitWithAck(event, payload));
    } catch (error) {
      throw new ConnectionError(`${String(event)}: no acknowledgement within ${timeoutMs} ms`, { cause: error });
    }
    if (!ack.ok) throw new ApiError(ack.error);
    return ack as ResultOf<E>;
  }

  /** Fire and forget: for events whose outcome nobody waits for (typing). */
  send<E extends keyof ClientToServerEvents>(event: E, payload: PayloadOf<E>): void {
    if (this.socket.connected) (this.socket as unknown as { emit(e: string, p: unknown): void }).emit(event, payload);
  }

  private async onRefused(code: string): Promise<void> {
    const fatal = FATAL_HANDSHAKE[code as ErrorCode];
    if (fatal) {
      this.wanted = false;
      this.setState('disconnected');
      await this.auth.end(fatal);
      return;
    }
    if (code === 'TOKEN_EXPIRED') {
      try {
        await this.auth.refresh();
      } catch {
        // A refused refresh ended the session (signedOut disconnects); a network failure retries below.
      }
    }
    this.retryLater();
  }

  private retryLater(): void {
    if (!this.wanted) {
      this.setState('disconnected');
      return;
    }
    this.setState('waiting');
    clearTimeout(this.retryTimer);
    const delay = backoffDelay(this.attempt, this.backoff);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      if (!this.wanted || this.socket.connected) return;
      this.setState('connecting');
      this.socket.connect();
    }, delay);
  }

  /** Rotates shortly before the token expires; the rotation's AUTHENTICATE keeps the connection. */
  private scheduleRotation(): void {
    clearTimeout(this.refreshTimer);
    const session = this.auth.session;
    if (!session) return;
    const delay = Math.max(0, session.refreshAt - Date.now());
    this.refreshTimer = setTimeout(() => void this.auth.refresh().catch(() => undefined), Math.min(delay, 2 ** 31 - 1));
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}
