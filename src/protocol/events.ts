import type { CallClientEvents, CallServerEvents } from './call-events.js';
import type { CallQualityClientEvents } from './call-quality.js';
import type { ChatClientEvents, ChatServerEvents } from './chat-events.js';
import type { KeysServerEvents } from './keys.js';
import type { PresenceClientEvents, PresenceServerEvents } from './presence-events.js';
import type { SessionClientEvents, SessionServerEvents } from './session-events.js';

/** Every event a client may send. Socket.io's server and the clients are typed with these. */
export interface ClientToServerEvents extends SessionClientEvents, ChatClientEvents, PresenceClientEvents, CallClientEvents, CallQualityClientEvents {}

/** Every event the server sends. */
export interface ServerToClientEvents extends SessionServerEvents, ChatServerEvents, PresenceServerEvents, CallServerEvents, KeysServerEvents {}

/** `connect_error` messages: the handshake's refusal reasons. */
export type ConnectErrorCode = 'UNAUTHORIZED' | 'TOKEN_EXPIRED' | 'ACCOUNT_BANNED' | 'TOO_MANY_CONNECTIONS';
