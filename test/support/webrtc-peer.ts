import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { Socket } from 'node:dgram';
import { subscribe } from 'node:diagnostics_channel';
import { RTCPeerConnection, type RTCDataChannel, type RTCIceCandidate, type RTCIceTransport } from 'werift';

/** What travels over signaling, shaped as browsers send it (JSON of RTCSessionDescription / RTCIceCandidate). */
export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null | undefined;
  sdpMLineIndex?: number | null | undefined;
  usernameFragment?: string | null | undefined;
}

export interface IceServerConfig {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

export interface WebRtcPeerOptions {
  iceServers?: IceServerConfig[];
  iceTransportPolicy?: 'all' | 'relay';
  /** Addresses besides loopback the peer may use: only those of a private network namespace (test/support/janus-network.ts). */
  extraHosts?: string[];
  /** Trickle ICE: every local candidate, as soon as it is gathered. */
  onIceCandidate: (candidate: IceCandidate) => void;
}

const DATA_CHANNEL_LABEL = 'harness';

// Tests may only send traffic to loopback; the machine's other interfaces are off limits, so host
// candidates on them are never signalled and never checked.
function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

function candidateHost(candidate: string): string | undefined {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
  return candidate.replace(/^candidate:/, '').split(' ')[4];
}

/** Everything werift created for one peer that must not outlive it. */
interface PeerResources {
  sockets: Set<Socket>;
  timers: Set<NodeJS.Timeout>;
}

// werift 0.24 leaves two things behind after close(), and each keeps the test process alive:
// - the UDP socket of a TURN allocation that failed (refused credentials): createTurnClient does not
//   close its transport when Allocate fails;
// - the TURN refresh loop's timer: TurnProtocol.close() flags the loop to stop but leaves it asleep in
//   a timer of 5/6 of the allocation lifetime (500 s against coturn's default).
// So every werift call runs with the peer's PeerResources in async context; the sockets and timers
// created meanwhile are recorded ('udp.socket' diagnostics channel, an async hook for timers), and
// close() releases what werift left. Callbacks into test code run outside that context, so the
// test's own timers and sockets are never touched.
const resourceOwner = new AsyncLocalStorage<PeerResources>();
const ownedTimers = new Map<number, { timer: NodeJS.Timeout; owner: PeerResources }>();
const timerHook = createHook({
  init(asyncId, type, _triggerAsyncId, resource) {
    const owner = type === 'Timeout' ? resourceOwner.getStore() : undefined;
    if (!owner) return;
    // For type 'Timeout' the resource is the timer object itself.
    const timer = resource as NodeJS.Timeout;
    owner.timers.add(timer);
    ownedTimers.set(asyncId, { timer, owner });
  },
  destroy(asyncId) {
    const entry = ownedTimers.get(asyncId);
    if (!entry) return;
    entry.owner.timers.delete(entry.timer);
    ownedTimers.delete(asyncId);
  },
});
let livePeers = 0;
let subscribedToSockets = false;

function openResources(): PeerResources {
  if (!subscribedToSockets) {
    subscribedToSockets = true;
    subscribe('udp.socket', (message) => {
      const owner = resourceOwner.getStore();
      if (!owner) return;
      const { socket } = message as { socket: Socket };
      owner.sockets.add(socket);
      socket.once('close', () => owner.sockets.delete(socket));
    });
  }
  // The hook costs every async operation something, so it is on only while a peer exists.
  if (livePeers === 0) timerHook.enable();
  livePeers += 1;
  return { sockets: new Set(), timers: new Set() };
}

function releaseResources(resources: PeerResources): void {
  for (const socket of resources.sockets) {
    try {
      socket.close();
    } catch {
      // werift closed it already and its 'close' event has not been emitted yet
    }
  }
  for (const timer of resources.timers) clearTimeout(timer);
  for (const [asyncId, entry] of ownedTimers) if (entry.owner === resources) ownedTimers.delete(asyncId);
  livePeers -= 1;
  if (livePeers === 0) timerHook.disable();
}

/** Runs a callback into test code outside any peer's context. */
function outsidePeer(callback: () => void): void {
  resourceOwner.exit(callback);
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A real WebRTC endpoint (werift, WebRTC in TypeScript) driven the way an app drives a browser's
 * RTCPeerConnection: offer/answer, trickled candidates, and one data channel to prove bytes flow.
 */
export class WebRtcPeer {
  readonly localCandidates: IceCandidate[] = [];
  private readonly pc: RTCPeerConnection;
  private readonly channel: Promise<RTCDataChannel>;
  private resolveChannel!: (channel: RTCDataChannel) => void;
  private readonly received: string[] = [];
  private readonly messageWaiters: ((message: string) => void)[] = [];
  private readonly resources = openResources();
  /** Per ICE transport, the restarts whose checks were started (see startRestartedChecks). */
  private readonly restartsChecked = new Map<RTCIceTransport, number>();
  private closed = false;

  constructor(options: WebRtcPeerOptions) {
    const allowed = (host: string) => isLoopback(host) || (options.extraHosts ?? []).includes(host);
    this.pc = new RTCPeerConnection({
      iceServers: options.iceServers ?? [],
      iceTransportPolicy: options.iceTransportPolicy ?? 'all',
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => allowed(pair.localCandidate.host) && allowed(pair.remoteCandidate.host),
    });
    this.channel = new Promise((resolve) => {
      this.resolveChannel = resolve;
    });
    this.pc.onIceCandidate.subscribe((candidate: RTCIceCandidate | undefined) => {
      if (!candidate) return;
      const host = candidateHost(candidate.candidate);
      if (host === undefined || !allowed(host)) return;
      const json = candidate.toJSON();
      this.localCandidates.push(json);
      outsidePeer(() => options.onIceCandidate(json));
    });
    this.pc.onDataChannel.subscribe((channel) => this.adoptChannel(channel));
  }

  /** The werift connection itself, for media: add tracks before createOffer, watch onTrack. */
  get connection(): RTCPeerConnection {
    return this.pc;
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** The local candidate of the ICE pair in use, none while no pair of the current ICE generation is (after a restart, say). */
  get selectedLocalCandidate(): string | undefined {
    return this.pc.iceTransports[0]?.getSelectedCandidatePair()?.local.candidate;
  }

  /** The offering side opens the data channel, so the offer carries its m=application section. */
  async createOffer(): Promise<SessionDescription> {
    this.adoptChannel(this.pc.createDataChannel(DATA_CHANNEL_LABEL));
    const offer = await this.pc.createOffer();
    // Send the description made before gathering: candidates go by trickle only, as over real signaling.
    await this.owning(() => this.pc.setLocalDescription(offer));
    return { type: 'offer', sdp: offer.sdp };
  }

  /** A new offer with fresh ICE credentials (`createOffer({ iceRestart: true })`), for a path that changed. */
  async restartIce(): Promise<SessionDescription> {
    const offer = await this.pc.createOffer({ iceRestart: true });
    await this.owning(() => this.pc.setLocalDescription(offer));
    return { type: 'offer', sdp: offer.sdp };
  }

  async acceptOffer(offer: SessionDescription): Promise<SessionDescription> {
    await this.owning(() => this.pc.setRemoteDescription(offer));
    const answer = await this.pc.createAnswer();
    await this.owning(() => this.pc.setLocalDescription(answer));
    this.startRestartedChecks();
    return { type: 'answer', sdp: answer.sdp };
  }

  async applyAnswer(answer: SessionDescription): Promise<void> {
    await this.owning(() => this.pc.setRemoteDescription(answer));
    this.startRestartedChecks();
  }

  /** Candidates that arrive before the remote description are buffered by werift and applied with it. */
  async addRemoteCandidate(candidate: IceCandidate): Promise<void> {
    await this.owning(() => this.pc.addIceCandidate(candidate));
  }

  /** Resolves once connected; rejects when the connection fails, closes, or `timeoutMs` passes first. */
  waitForConnected(timeoutMs: number): Promise<void> {
    const connected = new Promise<void>((resolve, reject) => {
      const check = (state: string): boolean => {
        if (state === 'connected') resolve();
        else if (state === 'failed' || state === 'closed') reject(new Error(`Connection ${state}`));
        else return false;
        return true;
      };
      if (!check(this.pc.connectionState)) {
        const { unSubscribe } = this.pc.connectionStateChange.subscribe((state) => {
          if (check(state)) unSubscribe();
        });
      }
    });
    return withTimeout(connected, timeoutMs, `a connection (last state: ${this.pc.connectionState})`);
  }

  /** Waits until the data channel is open on this side. */
  async openChannel(timeoutMs: number): Promise<RTCDataChannel> {
    const channel = await withTimeout(this.channel, timeoutMs, 'the data channel');
    if (channel.readyState !== 'open') {
      await withTimeout(channel.stateChanged.watch((state) => state === 'open'), timeoutMs, 'the data channel to open');
    }
    return channel;
  }

  async send(text: string, timeoutMs: number): Promise<void> {
    const channel = await this.openChannel(timeoutMs);
    await this.owning(async () => channel.send(text));
  }

  nextMessage(timeoutMs: number): Promise<string> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(new Promise<string>((resolve) => this.messageWaiters.push(resolve)), timeoutMs, 'a message');
  }

  /** Closes the connection and releases whatever werift left behind; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.owning(() => this.pc.close());
    releaseResources(this.resources);
  }

  /**
   * werift 0.24 runs no connectivity checks on a transport whose DTLS is up already (its connect()
   * returns early), so after an ICE restart no pair of the new generation would be checked, nor
   * nominated by the controlling side: once a restart is negotiated, its checks are started here. Not
   * awaited: the other side checks only once it has this side's description.
   */
  private startRestartedChecks(): void {
    for (const transport of this.pc.iceTransports) {
      if (transport.iceRestarts === (this.restartsChecked.get(transport) ?? 0)) continue;
      this.restartsChecked.set(transport, transport.iceRestarts);
      // A failed restart shows as media that stops; close() during the checks rejects them too.
      this.owning(() => transport.start()).catch(() => undefined);
    }
  }

  private owning<T>(call: () => Promise<T>): Promise<T> {
    return resourceOwner.run(this.resources, call);
  }

  private adoptChannel(channel: RTCDataChannel): void {
    if (channel.label !== DATA_CHANNEL_LABEL) return;
    channel.onMessage.subscribe((data) => {
      const text = typeof data === 'string' ? data : data.toString('utf8');
      const waiter = this.messageWaiters.shift();
      if (waiter) outsidePeer(() => waiter(text));
      else this.received.push(text);
    });
    this.resolveChannel(channel);
  }
}

/** Two peers whose trickled candidates go straight to each other, in-process. */
export function pairPeers(
  offererOptions: Omit<WebRtcPeerOptions, 'onIceCandidate'>,
  answererOptions = offererOptions,
): { offerer: WebRtcPeer; answerer: WebRtcPeer } {
  // The closures run only once gathering starts, by when both peers exist.
  const offerer: WebRtcPeer = new WebRtcPeer({ ...offererOptions, onIceCandidate: (c) => void answerer.addRemoteCandidate(c) });
  const answerer: WebRtcPeer = new WebRtcPeer({ ...answererOptions, onIceCandidate: (c) => void offerer.addRemoteCandidate(c) });
  return { offerer, answerer };
}

/** Offer/answer between two in-process peers. */
export async function negotiate(offerer: WebRtcPeer, answerer: WebRtcPeer): Promise<void> {
  const offer = await offerer.createOffer();
  const answer = await answerer.acceptOffer(offer);
  await offerer.applyAnswer(answer);
}

/** Sends a distinct message each way over the data channel and returns what each side received. */
export async function exchangeMessages(
  a: WebRtcPeer,
  b: WebRtcPeer,
  timeoutMs: number,
): Promise<{ receivedByA: string; receivedByB: string }> {
  await Promise.all([a.send('hello from a', timeoutMs), b.send('hello from b', timeoutMs)]);
  const [receivedByA, receivedByB] = await Promise.all([a.nextMessage(timeoutMs), b.nextMessage(timeoutMs)]);
  return { receivedByA, receivedByB };
}
