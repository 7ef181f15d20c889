import type { Server, Socket } from 'socket.io';
import type { Principal } from '../auth/principal.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../protocol/events.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

export interface SocketData {
  principal: Principal;
}

export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Every socket of a user joins this room: "to a user" means to this room. */
export const userRoom = (userId: string) => `user:${userId}`;
/** Every socket of a session joins this room, so revoking the session can disconnect it. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
/** Every socket of a group's current members joins this room: a group message is one emit to it. */
export const conversationRoom = (conversationId: string) => `conversation:${conversationId}`;
/** Sockets watching a user's presence join this room (PRESENCE_SUBSCRIBE). */
export const presenceRoom = (userId: string) => `presence:${userId}`;
export const isPresenceRoom = (room: string) => room.startsWith('presence:');
