import { Emitter } from '../emitter.js';
import type { IceCandidate, SessionDescription } from '../protocol.js';
import type { CandidateLike, MediaStreamLike, PeerConnectionLike, TrackLike } from './webrtc.js';

export type MediaKind = 'audio' | 'video';

type LinkEvents = {
  /** The connection's connectionState (new, connecting, connected, disconnected, failed, closed). */
  state: (state: string) => void;
  /** A remote track arrived; `stream` is the remote stream it belongs to, when the platform gives one. */
  track: (track: TrackLike, stream: MediaStreamLike | undefined) => void;
};

export interface PeerLinkOptions {
  /** Where this side's candidates go; until `ready` they are held (a caller needs the call id first). */
  sendCandidate: (candidate: IceCandidate) => void;
  localStream: MediaStreamLike | undefined;
  /** Media to receive even when this side sends none of it. */
  kinds: MediaKind[];
}

/**
 * One RTCPeerConnection and its side of the signaling: offer/answer, trickle ICE both ways (remote
 * candidates that come before the remote description are held), ICE restarts.
 */
export class PeerLink extends Emitter<LinkEvents> {
  private readonly heldLocal: IceCandidate[] = [];
  private readonly heldRemote: CandidateLike[] = [];
  private canSend = false;
  private hasRemote = false;
  private closed = false;
  remoteStream: MediaStreamLike | undefined;

  constructor(
    readonly pc: PeerConnectionLike,
    private readonly options: PeerLinkOptions,
  ) {
    super();
    const sending = new Set<string>();
    for (const track of options.localStream?.getTracks() ?? []) {
      pc.addTrack(track, options.localStream!);
      sending.add(track.kind);
    }
    for (const kind of options.kinds) if (!sending.has(kind)) pc.addTransceiver(kind, { direction: 'recvonly' });
    pc.addEventListener('icecandidate', (event) => {
      // The end-of-candidates event (null) needs no signaling: trickle ICE works without it.
      if (event.candidate) this.localCandidate(toJson(event.candidate));
    });
    pc.addEventListener('track', (event) => {
      if (event.streams?.[0]) this.remoteStream = event.streams[0];
      if (event.track) this.emit('track', event.track, event.streams?.[0]);
    });
    pc.addEventListener('connectionstatechange', () => this.emit('state', pc.connectionState));
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** Lets held and future local candidates go out. */
  ready(): void {
    this.canSend = true;
    for (const candidate of this.heldLocal.splice(0)) this.options.sendCandidate(candidate);
  }

  async offer(iceRestart = false): Promise<{ type: 'offer'; sdp: string }> {
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await this.pc.setLocalDescription(offer);
    return { type: 'offer', sdp: offer.sdp ?? '' };
  }

  async answer(offer: SessionDescription): Promise<{ type: 'answer'; sdp: string }> {
    await this.setRemote(offer);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { type: 'answer', sdp: answer.sdp ?? '' };
  }

  async applyAnswer(answer: SessionDescription): Promise<void> {
    // A late or duplicate answer (an ICE restart that crossed another) has nothing to apply to.
    if (this.pc.signalingState !== 'have-local-offer') return;
    await this.setRemote(answer);
  }

  async addRemoteCandidate(candidate: CandidateLike): Promise<void> {
    if (!this.hasRemote) {
      this.heldRemote.push(candidate);
      return;
    }
    // A candidate of an ICE generation that is gone is refused by some stacks: nothing to do about it.
    await this.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  getStats(): Promise<unknown> {
    return this.pc.getStats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
  }

  private async setRemote(remote: SessionDescription): Promise<void> {
    await this.pc.setRemoteDescription(remote);
    this.hasRemote = true;
    for (const candidate of this.heldRemote.splice(0)) await this.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  private localCandidate(candidate: IceCandidate): void {
    if (this.closed) return;
    if (this.canSend) this.options.sendCandidate(candidate);
    else this.heldLocal.push(candidate);
  }
}

function toJson(candidate: CandidateLike): IceCandidate {
  const json = (candidate.toJSON ? candidate.toJSON() : candidate) as CandidateLike;
  return {
    candidate: json.candidate,
    ...(json.sdpMid == null ? {} : { sdpMid: json.sdpMid }),
    ...(json.sdpMLineIndex == null ? {} : { sdpMLineIndex: json.sdpMLineIndex }),
    ...(json.usernameFragment == null ? {} : { usernameFragment: json.usernameFragment }),
  };
}
