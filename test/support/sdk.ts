import type { Socket } from 'node:dgram';
import { subscribe } from 'node:diagnostics_channel';
import { RTCPeerConnection } from 'werift';
import { createClient, type CallAppClient, type ClientOptions, type Fetch, type WebRtc } from '../../packages/client/src/index.js';
import { uniqueEmail, PASSWORD } from './http.js';

/** Fast backoff, so reconnect and retry paths run in test time. */
export const TEST_BACKOFF = { initialMs: 50, maxMs: 400 };

/** Every request a client made, as `METHOD /path`. */
export interface CountingFetch {
  fetch: Fetch;
  calls: string[];
  count(prefix: string): number;
}

export function countingFetch(): CountingFetch {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(`${init.method} ${new URL(input).pathname}`);
      return globalThis.fetch(input, init);
    },
    count: (prefix) => calls.filter((call) => call.startsWith(prefix)).length,
  };
}

const loopback = (host: string) => host.startsWith('127.');

// werift 0.24 keeps the UDP sockets of an ICE restart's gathering open after close(), which keeps the
// test process alive. Only werift opens UDP sockets in these tests: closeSdkClients closes what is left.
const udpSockets = new Set<Socket>();
subscribe('udp.socket', (message) => {
  const { socket } = message as { socket: Socket };
  udpSockets.add(socket);
  socket.once('close', () => udpSockets.delete(socket));
});

/**
 * werift as the platform's WebRTC, on loopback only: tests may send no traffic to the machine's other
 * interfaces (see test/support/webrtc-peer.ts).
 */
export const weriftWebRtc: WebRtc = {
  createPeerConnection: ({ iceServers }) =>
    new RTCPeerConnection({
      iceServers,
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => loopback(pair.localCandidate.host) && loopback(pair.remoteCandidate.host),
    }) as unknown as ReturnType<WebRtc['createPeerConnection']>,
};

const clients = new Set<CallAppClient>();

/** A client of the SDK against the test app, with test backoff and werift for calls. */
export function sdkClient(baseUrl: string, options: Partial<ClientOptions> = {}): CallAppClient {
  const client = createClient({ baseUrl, backoff: TEST_BACKOFF, webrtc: weriftWebRtc, ...options });
  clients.add(client);
  return client;
}

/** A freshly registered user's client, connected and synced. */
export async function signedInClient(baseUrl: string, name: string, options: Partial<ClientOptions> = {}): Promise<CallAppClient> {
  const client = sdkClient(baseUrl, options);
  await client.auth.register({ email: uniqueEmail(name.toLowerCase()), password: PASSWORD, name });
  const synced = new Promise<void>((resolve) => {
    const off = client.realtime.on('connected', () => {
      off();
      void client.chat.sync().then(resolve, resolve);
    });
  });
  client.connect();
  await synced;
  return client;
}

export function closeSdkClients(): void {
  for (const client of clients) client.realtime.disconnect();
  clients.clear();
  for (const socket of udpSockets) {
    try {
      socket.close();
    } catch {
      // closed already; its 'close' event is on its way
    }
  }
}

/** Resolves once `check` holds, polling; rejects after `timeoutMs` naming `what`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
