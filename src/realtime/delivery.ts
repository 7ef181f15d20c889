import type { ServerToClientEvents } from '../protocol/events.js';
import type { PresenceEvent } from '../protocol/people.js';
import { presenceRoom, userRoom, type AppServer } from './socket-types.js';

export type ServerEvent = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

/**
 * How services reach people's devices without knowing Socket.io. Everything goes to rooms, so with the
 * Socket.io Redis adapter the same calls reach the sockets of every process.
 */
export interface Delivery {
  /** To every connected device of these users, except the socket `exceptSocketId` (it gets an ack instead). */
  toUsers<E extends ServerEvent>(
    userIds: readonly string[],
    event: E,
    payload: ServerEventPayload<E>,
    options?: { exceptSocketId?: string | undefined },
  ): void;
  /** To every socket watching the presence of `userId`. */
  toPresenceWatchers(userId: string, payload: PresenceEvent): void;
  /**
   * To these sockets (one device's connection each). A socket that dropped and comes back within the
   * connection-recovery window still receives it.
   */
  toSockets<E extends ServerEvent>(socketIds: readonly string[], event: E, payload: ServerEventPayload<E>): void;
  /** Whether any device of `userId` is connected right now. */
  hasConnectedDevice(userId: string): Promise<boolean>;
}

export function createSocketDelivery(io: AppServer): Delivery {
  return {
    toUsers(userIds, event, payload, options = {}) {
      if (userIds.length === 0) return;
      const rooms = io.to(userIds.map(userRoom));
      const target = options.exceptSocketId ? rooms.except(options.exceptSocketId) : rooms;
      // Socket.io cannot relate a generic event name to its payload type; the signature above does.
      (target.emit as (event: ServerEvent, payload: unknown) => boolean)(event, payload);
    },
    toPresenceWatchers(userId, payload) {
      io.to(presenceRoom(userId)).emit('PRESENCE', payload);
    },
    toSockets(socketIds, event, payload) {
      if (socketIds.length === 0) return;
      // A socket's own room, not the socket object: the broadcast is kept for connection recovery.
      (io.to([...socketIds]).emit as (event: ServerEvent, payload: unknown) => boolean)(event, payload);
    },
    async hasConnectedDevice(userId) {
      return (await io.in(userRoom(userId)).fetchSockets()).length > 0;
    },
  };
}
