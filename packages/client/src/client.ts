import { Admin } from './admin.js';
import { Api, type ApiOptions } from './api.js';
import { AuthSession } from './auth.js';
import type { BackoffOptions } from './backoff.js';
import { Calls } from './calls/calls.js';
import type { WebRtc } from './calls/webrtc.js';
import { Chat } from './chat.js';
import { Realtime, type RealtimeOptions } from './realtime.js';
import { MemoryChatStore, type ChatStore } from './store.js';
import { memoryTokenStore, type TokenStore } from './token-store.js';
import { Transport, type Fetch } from './transport.js';

export interface ClientOptions {
  /** The server, e.g. `https://chat.example.com` (REST and Socket.io on the same origin). */
  baseUrl: string;
  /** Where the session is kept between launches (default: memory only). */
  tokenStore?: TokenStore;
  /** Where messages and conversations are kept (default: memory only). */
  store?: ChatStore;
  /** The platform's WebRTC, for calls. */
  webrtc?: WebRtc;
  /** Labels this device's session in the list of sessions. */
  deviceName?: string;
  fetch?: Fetch;
  backoff?: BackoffOptions;
  api?: ApiOptions;
  realtime?: RealtimeOptions;
}

/** Everything an app needs, wired together. Sign in, then `connect()`. */
export class CallAppClient {
  readonly auth: AuthSession;
  readonly api: Api;
  readonly realtime: Realtime;
  readonly chat: Chat;
  readonly calls: Calls;
  /** The admin endpoints, for an admin account. */
  readonly admin: Admin;

  constructor(options: ClientOptions) {
    const transport = new Transport(options.baseUrl, options.fetch);
    this.auth = new AuthSession(transport, options.tokenStore ?? memoryTokenStore(), options.deviceName);
    const backoff = options.backoff ? { backoff: options.backoff } : {};
    this.api = new Api(transport, this.auth, { ...backoff, ...options.api });
    this.realtime = new Realtime(options.baseUrl, this.auth, { ...backoff, ...options.realtime });
    const store = options.store ?? new MemoryChatStore();
    this.chat = new Chat(this.api, this.realtime, this.auth, store, backoff);
    this.calls = new Calls(this.api, this.realtime, options.webrtc);
    this.admin = new Admin(this.api);
    // A session that ends leaves nothing of the user on the device.
    this.auth.on('signedOut', () => void store.clear());
  }

  get user() {
    return this.auth.user;
  }

  /** Opens the realtime connection; every (re)connection syncs the chat. */
  connect(): void {
    this.realtime.connect();
  }

  /** Signs out here and on the server, and closes the connection. */
  async logout(): Promise<void> {
    await this.auth.logout();
  }
}

export function createClient(options: ClientOptions): CallAppClient {
  return new CallAppClient(options);
}
