import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/protocol/events.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const open = new Set<ClientSocket>();

/**
 * Socket.io's transports as a client picks them: the default (long-polling first, then the upgrade to
 * WebSocket, as browsers and React Native do), WebSocket only, or long-polling only (a proxy that strips
 * upgrades).
 */
export type Transports = 'default' | 'websocket' | 'polling';

const transportOptions = (transports: Transports) =>
  transports === 'default' ? {} : { transports: [transports], upgrade: transports !== 'polling' };

/** Connects a real socket.io-client with the access token, with default options unless told, and resolves once connected. */
export async function connectSocket(baseUrl: string, token: string, transports: Transports = 'default'): Promise<ClientSocket> {
  const socket: ClientSocket = io(baseUrl, { auth: { token }, ...transportOptions(transports), reconnection: false, forceNew: true });
  open.add(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Resolves with the connect_error message a refused handshake gets. */
export async function connectError(baseUrl: string, auth: Record<string, unknown>, transports: Transports = 'default'): Promise<string> {
  const socket: ClientSocket = io(baseUrl, { auth, ...transportOptions(transports), reconnection: false, forceNew: true });
  open.add(socket);
  return new Promise<string>((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, expected a refusal')));
    socket.once('connect_error', (error) => resolve(error.message));
  });
}

/** Resolves with the next payload of `event` on `socket`, or rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(socket: ClientSocket, event: string, timeoutMs = 3000): Promise<T> {
  const untyped = socket as unknown as Socket;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      untyped.off(event, listener);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    };
    untyped.once(event, listener);
  });
}

/** Collects every payload of `event` from now on; read `.items` later (to assert nothing arrived). */
export function collect<T = unknown>(socket: ClientSocket, event: string): { items: T[] } {
  const box = { items: [] as T[] };
  (socket as unknown as Socket).on(event, (payload: T) => box.items.push(payload));
  return box;
}

/** Emits an event and resolves with its acknowledgement. */
export function emitAck<T = any>(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<T> {
  return (socket as unknown as Socket).timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

export function closeAllSockets(): void {
  for (const socket of open) socket.disconnect();
  open.clear();
}
