import type { ServerToClientEvents } from '../protocol/events.js';
import type { PresenceEvent } from '../protocol/people.js';
import { conversationRoom, presenceRoom, sessionRoom, userRoom, type AppServer } from './socket-types.js';

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
  /**
   * To every connected device of a group's current members (the sockets in its room), except the socket
   * `exceptSocketId` or every device of `exceptUserId`.
   */
  toConversation<E extends ServerEvent>(
    conversationId: string,
    event: E,
    payload: ServerEventPayload<E>,
    options?: { exceptSocketId?: string | undefined; exceptUserId?: string | undefined },
  ): void;
  /** These users' connected devices now receive the group's events (the join runs on every process). */
  joinConversation(userIds: readonly string[], conversationId: string): void;
  /** These users' connected devices stop receiving the group's events at once. */
  leaveConversation(userIds: readonly string[], conversationId: string): void;
  /** To every socket watching the presence of `userId`. */
  toPresenceWatchers(userId: string, payload: PresenceEvent): void;
  /** The devices of `watcherIds` stop watching the presence of `userId` at once. */
  unwatchPresence(watcherIds: readonly string[], userId: string): void;
  /**
   * To these sockets (one device's connection each). A socket that dropped and comes back within the
   * connection-recovery window still receives it.
   */
  toSockets<E extends ServerEvent>(socketIds: readonly string[], event: E, payload: ServerEventPayload<E>): void;
  /** To every connected socket of these sessions (signed-in devices). */
  toSessions<E extends ServerEvent>(sessionIds: readonly string[], event: E, payload: ServerEventPayload<E>): void;
}

type Emit = (event: ServerEvent, payload: unknown) => boolean;

export function createSocketDelivery(io: AppServer): Delivery {
  return {
    toUsers(userIds, event, payload, options = {}) {
      if (userIds.length === 0) return;
      const rooms = io.to(userIds.map(userRoom));
      const target = options.exceptSocketId ? rooms.except(options.exceptSocketId) : rooms;
      // Socket.io cannot relate a generic event name to its payload type; the signature above does.
      (target.emit as Emit)(event, payload);
    },
    toConversation(conversationId, event, payload, options = {}) {
      let target = io.to(conversationRoom(conversationId));
      if (options.exceptSocketId) target = target.except(options.exceptSocketId);
      if (options.exceptUserId) target = target.except(userRoom(options.exceptUserId));
      (target.emit as Emit)(event, payload);
    },
    joinConversation(userIds, conversationId) {
      if (userIds.length > 0) io.in(userIds.map(userRoom)).socketsJoin(conversationRoom(conversationId));
    },
    leaveConversation(userIds, conversationId) {
      if (userIds.length > 0) io.in(userIds.map(userRoom)).socketsLeave(conversationRoom(conversationId));
    },
    toPresenceWatchers(userId, payload) {
      io.to(presenceRoom(userId)).emit('PRESENCE', payload);
    },
    unwatchPresence(watcherIds, userId) {
      if (watcherIds.length > 0) io.in(watcherIds.map(userRoom)).socketsLeave(presenceRoom(userId));
    },
    toSockets(socketIds, event, payload) {
      if (socketIds.length === 0) return;
      // A socket's own room, not the socket object: the broadcast is kept for connection recovery.
      (io.to([...socketIds]).emit as Emit)(event, payload);
    },
    toSessions(sessionIds, event, payload) {
      if (sessionIds.length > 0) (io.to(sessionIds.map(sessionRoom)).emit as Emit)(event, payload);
    },
  };
}
