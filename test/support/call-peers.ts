import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import type {
  CallAcceptedEvent,
  CallSignalEvent,
  GroupCallResult,
  IceCandidateEvent,
  IncomingCallEvent,
  ParticipantLeftEvent,
  SfuSignalEvent,
} from '../../src/protocol/call-events.js';
import type { IceServersResponse } from '../../src/protocol/calls.js';
import { callEventOk } from './calls.js';
import { request } from './http.js';
import { emitAck, nextEvent, type ClientSocket } from './sockets.js';
import { WebRtcPeer, type IceCandidate, type SessionDescription, type WebRtcPeerOptions } from './webrtc-peer.js';

const SIGNALING_TIMEOUT_MS = 10_000;

/** The ICE servers the app hands this user, as a client fetches them before a call. */
export async function iceServersFor(baseUrl: string, token: string): Promise<IceServersResponse> {
  const result = await request<IceServersResponse>(baseUrl, 'GET', '/api/call/ice-servers', { token });
  if (result.status !== 200) throw new Error(`ice-servers: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/**
 * One side of a call as an app drives it: a WebRTC peer whose signaling goes only through the server's
 * call events on `socket`. Candidates gathered before the call id is known wait for it; candidates
 * from the other side go into the peer. Refused signaling is kept in `errors`.
 */
class SignaledPeer {
  readonly peer: WebRtcPeer;
  /** Its microphone, when the call was placed with audio. */
  readonly audio: AudioLine | undefined;
  readonly errors: string[] = [];
  private callId: string | undefined;
  private readonly waiting: IceCandidate[] = [];

  constructor(
    private readonly socket: ClientSocket,
    options: Omit<WebRtcPeerOptions, 'onIceCandidate'>,
    audio = false,
  ) {
    this.peer = new WebRtcPeer({ ...options, onIceCandidate: (candidate) => this.trickle(candidate) });
    this.audio = audio ? new AudioLine(this.peer) : undefined;
    socket.on('ICE_CANDIDATE', (event: IceCandidateEvent) => {
      if (event.callId === this.callId) void this.peer.addRemoteCandidate(event.candidate);
    });
  }

  joined(callId: string): void {
    this.callId = callId;
    for (const candidate of this.waiting.splice(0)) this.trickle(candidate);
  }

  private trickle(candidate: IceCandidate): void {
    if (this.callId === undefined) {
      this.waiting.push(candidate);
      return;
    }
    void emitAck(this.socket, 'ICE_CANDIDATE', { callId: this.callId, candidate }).then((ack) => {
      if (!ack.ok) this.errors.push(`ICE_CANDIDATE refused: ${JSON.stringify(ack.error)}`);
    });
  }
}

export interface SignaledCall {
  callId: string;
  caller: SignaledPeer;
  callee: SignaledPeer;
}

/**
 * The caller offers in CALL_REQUEST, the callee's device answers in CALL_ACCEPT, and both trickle
 * candidates with ICE_CANDIDATE: the whole setup through the server, nothing passed in-process.
 * With `audio`, each side also sends and counts RTP audio (its `audio`).
 */
export async function callThroughServer(
  callerSocket: ClientSocket,
  calleeSocket: ClientSocket,
  calleeId: string,
  options: { caller: Omit<WebRtcPeerOptions, 'onIceCandidate'>; callee: Omit<WebRtcPeerOptions, 'onIceCandidate'>; audio?: boolean },
): Promise<SignaledCall> {
  const caller = new SignaledPeer(callerSocket, options.caller, options.audio);
  const callee = new SignaledPeer(calleeSocket, options.callee, options.audio);
  const offer = await caller.peer.createOffer();
  const ringing = nextEvent<IncomingCallEvent>(calleeSocket, 'CALL_REQUEST', SIGNALING_TIMEOUT_MS);
  const call = await callEventOk(callerSocket, 'CALL_REQUEST', { to: calleeId, type: 'video', offer });
  caller.joined(call.id);

  const incoming = await ringing;
  if (!incoming.offer) throw new Error('CALL_REQUEST came without the offer');
  callee.joined(incoming.call.id);
  const answer = await callee.peer.acceptOffer(incoming.offer);
  const answered = nextEvent<CallAcceptedEvent>(callerSocket, 'CALL_ACCEPT', SIGNALING_TIMEOUT_MS);
  await callEventOk(calleeSocket, 'CALL_ACCEPT', { callId: call.id, answer });
  const accepted = await answered;
  if (!accepted.answer) throw new Error('CALL_ACCEPT came without the answer');
  await caller.peer.applyAnswer(accepted.answer);
  return { callId: call.id, caller, callee };
}

/**
 * A microphone for a peer: an audio track that sends a small Opus-shaped RTP packet every 20 ms once
 * connected, and a count of the RTP packets that arrive from the other side. Added before negotiating,
 * so the offer and the answer both carry a sendrecv audio section.
 */
class AudioLine {
  received = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly waiters: (() => void)[] = [];

  constructor(peer: WebRtcPeer) {
    const track = new MediaStreamTrack({ kind: 'audio' });
    peer.connection.addTrack(track);
    peer.connection.onTrack.subscribe((remote) =>
      remote.onReceiveRtp.subscribe(() => {
        this.received += 1;
        for (const waiter of this.waiters.splice(0)) waiter();
      }),
    );
    let sequence = 0;
    this.timer = setInterval(() => {
      sequence += 1;
      track.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: sequence & 0xffff, timestamp: (sequence * 960) >>> 0, marker: true }), OPUS_SILENCE));
    }, 20);
    this.timer.unref();
  }

  /** Resolves once `count` packets have arrived. */
  async waitForRtp(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received < count) {
      if (Date.now() > deadline) throw new Error(`${this.received} of ${count} RTP packets within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100).unref();
      });
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** An Opus frame of silence (TOC byte for 20 ms CELT fullband, then a silent payload). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

/** One pair of a mesh call, seen from one side: the peer with the other device and its audio. */
interface MeshLink {
  peer: WebRtcPeer;
  audio: AudioLine;
}

/**
 * A group-call participant as an app drives a mesh: one RTCPeerConnection (with audio) per other
 * participant device, every description and candidate sent through the server with CALL_SIGNAL /
 * ICE_CANDIDATE addressed `to` that device. It follows the mesh rule: on joining it offers to everyone
 * already in (they joined earlier), and it answers the offers of those who join after it.
 */
export class MeshParticipant {
  readonly links = new Map<string, MeshLink>();
  readonly errors: string[] = [];
  deviceId = '';
  private callId = '';

  constructor(
    readonly socket: ClientSocket,
    private readonly options: Omit<WebRtcPeerOptions, 'onIceCandidate'> = {},
  ) {
    socket.on('CALL_SIGNAL', (event: CallSignalEvent | SfuSignalEvent) => {
      if (event.callId !== this.callId || !('fromDevice' in event) || !event.fromDevice) return;
      void this.onDescription(event.fromDevice, event.description).catch((error: unknown) => this.errors.push(String(error)));
    });
    socket.on('ICE_CANDIDATE', (event: IceCandidateEvent) => {
      if (event.callId !== this.callId || !event.fromDevice) return;
      void this.links.get(event.fromDevice)?.peer.addRemoteCandidate(event.candidate);
    });
    socket.on('CALL_PARTICIPANT_LEFT', (event: ParticipantLeftEvent) => {
      if (event.callId !== this.callId) return;
      void this.drop(event.deviceId);
    });
  }

  /** This device is in the call `joined` describes: it offers to every participant who joined before it. */
  async entered(joined: GroupCallResult): Promise<void> {
    this.callId = joined.call.id;
    this.deviceId = joined.you.deviceId;
    for (const other of joined.participants) {
      if (other.joinOrder >= joined.you.joinOrder) continue;
      const link = this.link(other.deviceId);
      const offer = await link.peer.createOffer();
      await this.send('CALL_SIGNAL', { callId: this.callId, to: other.deviceId, description: offer });
    }
  }

  /** Resolves once connected with each of `deviceIds` and `packets` RTP packets from each have arrived. */
  async mediaFrom(deviceIds: readonly string[], timeoutMs: number, packets = 5): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (deviceIds.some((deviceId) => !this.links.has(deviceId))) {
      if (Date.now() > deadline) throw new Error(`${this.deviceId}: no peer for ${deviceIds.filter((id) => !this.links.has(id)).join(', ')} within ${timeoutMs} ms (${this.errors.join('; ')})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await Promise.all(
      deviceIds.map(async (deviceId) => {
        const link = this.links.get(deviceId)!;
        await link.peer.waitForConnected(Math.max(1, deadline - Date.now()));
        await link.audio.waitForRtp(packets, Math.max(1, deadline - Date.now()));
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.keys()].map((deviceId) => this.drop(deviceId)));
  }

  private link(deviceId: string): MeshLink {
    const existing = this.links.get(deviceId);
    if (existing) return existing;
    const peer = new WebRtcPeer({
      ...this.options,
      onIceCandidate: (candidate) => void this.send('ICE_CANDIDATE', { callId: this.callId, to: deviceId, candidate }),
    });
    const link = { peer, audio: new AudioLine(peer) };
    this.links.set(deviceId, link);
    return link;
  }

  private async onDescription(from: string, description: SessionDescription): Promise<void> {
    if (description.type === 'offer') {
      const answer = await this.link(from).peer.acceptOffer(description);
      await this.send('CALL_SIGNAL', { callId: this.callId, to: from, description: answer });
    } else {
      await this.links.get(from)?.peer.applyAnswer(description);
    }
  }

  private async drop(deviceId: string): Promise<void> {
    const link = this.links.get(deviceId);
    if (!link) return;
    this.links.delete(deviceId);
    link.audio.stop();
    await link.peer.close();
  }

  private async send(event: 'CALL_SIGNAL' | 'ICE_CANDIDATE', payload: unknown): Promise<void> {
    const ack = await emitAck(this.socket, event, payload);
    if (!ack.ok) this.errors.push(`${event} refused: ${JSON.stringify(ack.error)}`);
  }
}
