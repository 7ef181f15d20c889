import type { Socket } from 'socket.io';
import { AppError, toErrorBody } from '../shared/app-error.js';
import type { Logger } from '../shared/logger.js';
import { memoryRateLimit, type RateLimit } from '../shared/rate-limit.js';
import type { AppSocket } from './socket-types.js';
import { whenGone } from './when-gone.js';

/**
 * The largest event the contract allows (an SDP of 64 KiB, JSON-escaped) fits in this. A larger event is
 * refused with PAYLOAD_TOO_LARGE in its ack; the transport itself accepts up to MAX_SOCKET_FRAME_BYTES.
 */
export const MAX_EVENT_BYTES = 100 * 1024;
/** Frames beyond this close the connection (Socket.io's maxHttpBufferSize): the one hard limit. */
export const MAX_SOCKET_FRAME_BYTES = 1024 * 1024;

export interface SocketLimitSettings {
  rateWindowSeconds: number;
  eventsPerWindow: number;
  bytesPerWindow: number;
  maxBufferedBytes: number;
  maxConnectionsPerUser: number;
}

/** What one connection may cost: every event it sends, whatever its name, and what waits to be sent to it. */
export class SocketLimits {
  private readonly events: RateLimit;
  private readonly bytes: RateLimit;
  private readonly connections = new Map<string, number>();

  constructor(
    private readonly settings: SocketLimitSettings,
    private readonly logger: Logger,
  ) {
    this.events = memoryRateLimit({ points: settings.eventsPerWindow, windowSeconds: settings.rateWindowSeconds }, 'events on this connection');
    this.bytes = memoryRateLimit({ points: settings.bytesPerWindow, windowSeconds: settings.rateWindowSeconds }, 'bytes on this connection');
  }

  /**
   * Counts a connection of `userId` being opened, or throws TOO_MANY_CONNECTIONS. The count is given back
   * when the transport closes, however the connection ends (also when it closes before it was set up).
   */
  admit(socket: AppSocket, userId: string): void {
    const open = this.connections.get(userId) ?? 0;
    if (open >= this.settings.maxConnectionsPerUser) {
      throw new AppError('TOO_MANY_CONNECTIONS', `At most ${this.settings.maxConnectionsPerUser} connections per user; close another one first`);
    }
    this.connections.set(userId, open + 1);
    whenGone(socket, () => {
      const left = (this.connections.get(userId) ?? 1) - 1;
      if (left > 0) this.connections.set(userId, left);
      else this.connections.delete(userId);
    });
  }

  /**
   * Every incoming event spends the connection's event and byte budgets before any handler sees it, and
   * one larger than MAX_EVENT_BYTES is refused. A refused event with an ack gets `{ ok: false, error }`;
   * one without is dropped.
   */
  guard(socket: AppSocket): void {
    (socket as unknown as Socket).use((packet, next) => {
      const ack = typeof packet.at(-1) === 'function' ? (packet.at(-1) as (response: unknown) => void) : undefined;
      const bytes = Buffer.byteLength(JSON.stringify(ack ? packet.slice(0, -1) : packet));
      const refuse = (error: unknown) => {
        this.logger.debug({ socketId: socket.id, userId: socket.data.principal.userId, event: packet[0] }, 'event refused by the connection budget');
        ack?.({ ok: false, error: toErrorBody(error) });
      };
      if (bytes > MAX_EVENT_BYTES) {
        refuse(new AppError('PAYLOAD_TOO_LARGE', `An event may be at most ${MAX_EVENT_BYTES} bytes`));
        return;
      }
      this.events
        .consume(socket.id)
        .then(() => this.bytes.consume(socket.id, bytes))
        .then(() => next(), refuse);
    });
  }

  /**
   * Closes a connection that lets more than maxBufferedBytes wait to be sent to it: a client that stopped
   * reading must not make the server hold everything sent to it. It reconnects and catches up.
   */
  watchBackpressure(socket: AppSocket): void {
    let waiting = 0;
    const conn = socket.conn;
    conn.on('packetCreate', (packet: { data?: string | { byteLength: number } }) => {
      waiting += typeof packet.data === 'string' ? packet.data.length : (packet.data?.byteLength ?? 0);
      if (waiting <= this.settings.maxBufferedBytes) return;
      this.logger.warn({ socketId: socket.id, userId: socket.data.principal.userId, waiting }, 'closing a connection that does not read what is sent to it');
      conn.close(true);
    });
    conn.on('drain', () => (waiting = 0));
  }
}
