import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { Server } from 'socket.io';
import type { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.js';
import type { ClientToServerEvents } from '../protocol/events.js';
import type { SessionEndReason } from '../protocol/session-events.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Logger } from '../shared/logger.js';
import type { EventBudgets } from './event-budgets.js';
import { handleEvent, type ResultOf } from './handle-event.js';
import { InFlight } from '../shared/in-flight.js';
import { registerSessionEvents } from './session-socket.js';
import { MAX_SOCKET_FRAME_BYTES, SocketLimits, type SocketLimitSettings } from './socket-limits.js';
import { sessionRoom, userRoom, type AppServer, type AppSocket } from './socket-types.js';

/** How long shutdown waits for disconnected clients to close their transports. */
const DISCONNECT_FLUSH_MS = 1000;

export interface RealtimeOptions {
  authenticator: Authenticator;
  events: DomainEvents;
  logger: Logger;
  corsOrigins: (string | RegExp)[];
  budgets: EventBudgets;
  limits: SocketLimitSettings & { maxPendingEvents: number };
  /** Told of every handled client event: `ok`, or the error code it was answered with. */
  observeEvent: (event: keyof ClientToServerEvents, result: string) => void;
}

export type ConnectionHandler = (socket: AppSocket) => void;
/** Runs during an authenticated socket's handshake, before it connects; must not throw. */
export type HandshakeHandler = (socket: AppSocket) => Promise<void>;

export interface RealtimeServer {
  io: AppServer;
  /** Features register their socket handlers here; each runs for every authenticated connection. */
  onConnection(handler: ConnectionHandler): void;
  /**
   * Work that must be done before a socket connects (joining rooms whose events it must not miss once
   * connected). The socket is not yet in its user's room, so changes made meanwhile need a second look
   * on connection.
   */
  onHandshake(handler: HandshakeHandler): void;
  /** Registers a client event on a socket: budgeted, validated, acknowledged, and waited for at shutdown. */
  handle<E extends keyof ClientToServerEvents, S extends z.ZodType>(
    socket: AppSocket,
    event: E,
    schema: S,
    run: (payload: z.infer<S>) => Promise<ResultOf<E>>,
  ): void;
  /**
   * Work a connection started outside an event handler (on connect or disconnect): shutdown waits for
   * it, and a failure is logged as `what` for `socket`'s user.
   */
  track(socket: AppSocket, what: string, work: Promise<unknown>): void;
  /** Refuses new events, waits (at most `timeoutMs`) for handlers still running, then disconnects every socket. */
  close(timeoutMs: number): Promise<void>;
}

function handshakeToken(socket: AppSocket): string | undefined {
  const token: unknown = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/** Tells the sockets in `rooms` why, then closes them. */
function endSessions(io: AppServer, rooms: string[], reason: SessionEndReason): void {
  if (rooms.length === 0) return;
  io.in(rooms).emit('SESSION_ENDED', { reason });
  io.in(rooms).disconnectSockets(true);
}

/**
 * Socket.io, to be attached to the app's HTTP server (`io.attach`) once Express handles its requests.
 * The handshake must carry a valid access token (refused with a `connect_error` whose message is the
 * error code); every socket joins its user's and session's rooms, and lives only as long as its session
 * and its access token (unless it re-authenticates with AUTHENTICATE).
 *
 * There is no connection-state recovery: Socket.io restores a recovered socket's rooms and missed
 * packets before any middleware runs, which would hand them to whoever presents the old socket's id.
 * A client that reconnects catches up through chat sync and CALL_STATE instead.
 */
export function createRealtimeServer(options: RealtimeOptions): RealtimeServer {
  const { logger } = options;
  const io: AppServer = new Server({
    cors: { origin: options.corsOrigins },
    maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
    // A client that opened a transport but never completes the Socket.io handshake is cut quickly.
    connectTimeout: 5_000,
  });
  const handlers: ConnectionHandler[] = [];
  const handshakeHandlers: HandshakeHandler[] = [];
  const inFlight = new InFlight();
  const limits = new SocketLimits(options.limits, logger);
  let closing = false;
  /** Each connected socket's logger: its lines carry the socket's id and its user's. */
  const socketLoggers = new WeakMap<AppSocket, Logger>();
  const loggerOf = (socket: AppSocket) => socketLoggers.get(socket) ?? logger.child({ socketId: socket.id, userId: socket.data.principal.userId });
  const context = (socket: AppSocket, event: keyof ClientToServerEvents) => ({
    logger: loggerOf(socket),
    inFlight,
    budget: options.budgets[event],
    maxPending: options.limits.maxPendingEvents,
    closing: () => closing,
    observe: options.observeEvent,
  });
  const handle: RealtimeServer['handle'] = (socket, event, schema, run) => handleEvent(socket, context(socket, event), event, schema, run);

  /** The revocation count when each socket's handshake checked its session. */
  const checkedAt = new WeakMap<AppSocket, number>();

  io.use(async (socket, next) => {
    try {
      const token = handshakeToken(socket);
      if (!token) throw new AppError('UNAUTHORIZED', 'Connect with auth: { token: accessToken }');
      checkedAt.set(socket, options.authenticator.revocations);
      socket.data.principal = await options.authenticator.authenticate(token);
      limits.admit(socket, socket.data.principal.userId);
      for (const handler of handshakeHandlers) await handler(socket);
      next();
    } catch (error) {
      const appError = error instanceof AppError ? error : new AppError('UNAUTHORIZED', 'Authentication failed');
      if (!(error instanceof AppError)) logger.error({ err: error }, 'socket authentication failed');
      next(Object.assign(new Error(appError.code), { data: { message: appError.message } }));
    }
  });

  io.on('connection', (socket) => {
    const { userId, sessionId } = socket.data.principal;
    socketLoggers.set(socket, logger.child({ socketId: socket.id, userId }));
    limits.guard(socket);
    limits.watchBackpressure(socket);
    void socket.join([userRoom(userId), sessionRoom(sessionId)]);
    // A revocation heard while the handshake ran may have missed this socket (it was in no room yet).
    if (checkedAt.get(socket) !== options.authenticator.revocations) {
      const token = handshakeToken(socket) ?? '';
      options.authenticator.authenticate(token).catch((error: unknown) => {
        socket.emit('SESSION_ENDED', { reason: error instanceof AppError && error.code === 'ACCOUNT_BANNED' ? 'account_banned' : 'session_revoked' });
        socket.disconnect(true);
      });
    }
    registerSessionEvents(socket, { authenticator: options.authenticator, handle });
    for (const handler of handlers) handler(socket);
  });

  options.events.on('accountChanged', ({ userId, status }) => {
    if (status !== 'active') endSessions(io, [userRoom(userId)], status === 'banned' ? 'account_banned' : 'account_deleted');
  });
  options.events.on('sessionsRevoked', ({ sessionIds }) => endSessions(io, sessionIds.map(sessionRoom), 'session_revoked'));

  return {
    io,
    onConnection: (handler) => handlers.push(handler),
    onHandshake: (handler) => handshakeHandlers.push(handler),
    handle,
    track: (socket, what, work) =>
      inFlight.track(work.catch((error: unknown) => loggerOf(socket).error({ err: error }, `${what} failed`))),
    async close(timeoutMs) {
      // Events already received finish and are acknowledged; new ones are refused (UNAVAILABLE) meanwhile.
      closing = true;
      await inFlight.drain(timeoutMs);
      const connections = [...io.of('/').sockets.values()].map((socket) => once(socket.conn, 'close'));
      // This process's sockets only: with an adapter, io.disconnectSockets would close every process's.
      io.local.disconnectSockets(true);
      // Let the disconnect packets leave before the engine closes what is left without flushing, and
      // finish the work the disconnects started (presence, calls' devices).
      await Promise.all([Promise.race([Promise.all(connections), setTimeout(DISCONNECT_FLUSH_MS)]), inFlight.drain(timeoutMs)]);
      // io.close() also closes the HTTP server, which the app's stop() does itself with a deadline.
      io.engine.close();
    },
  };
}
