import { Emitter } from '../emitter.js';
import type { CallDto, SessionDescription } from '../protocol.js';
import type { Realtime } from '../realtime.js';
import type { PeerLink } from './peer-link.js';
import type { MediaStreamLike } from './webrtc.js';

/**
 * What a call screen shows: `outgoing` (ringing at the other end), `incoming` (ringing here),
 * `connecting` (answered, media not flowing yet), `connected`, `reconnecting` (the network path is
 * being restored), `ended`.
 */
export type CallUiState = 'outgoing' | 'incoming' | 'connecting' | 'connected' | 'reconnecting' | 'ended';

/** Why a call ended, as the server said it, or `local` for this device's own hang-up or rejection. */
export type CallEndCause = string;

type CallEvents = {
  state: (state: CallUiState) => void;
  /** The remote media stream to show (set on a video element or RTCView). */
  remoteStream: (stream: MediaStreamLike) => void;
};

/**
 * One 1:1 call on this device. The caller's device makes every offer (the first and ICE restarts), so
 * two restarts never cross; the callee's device only answers.
 */
export class CallSession extends Emitter<CallEvents> {
  state: CallUiState;
  endReason: CallEndCause | undefined;
  private link: PeerLink | undefined;
  private offer: SessionDescription | null;

  constructor(
    private readonly realtime: Realtime,
    public call: CallDto,
    readonly peer: { id: string; name: string },
    readonly direction: 'outgoing' | 'incoming',
    private readonly makeLink: (session: CallSession, localStream: MediaStreamLike | undefined) => PeerLink,
    options: { link?: PeerLink; offer?: SessionDescription | null } = {},
  ) {
    super();
    this.state = direction;
    this.link = options.link;
    this.offer = options.offer ?? null;
    if (this.link) this.watch(this.link);
  }

  get id(): string {
    return this.call.id;
  }

  get remoteStream(): MediaStreamLike | undefined {
    return this.link?.remoteStream;
  }

  /** Answers an incoming call with this device's media. */
  async accept(localStream?: MediaStreamLike): Promise<void> {
    if (this.state !== 'incoming' || !this.offer) throw new Error('Only a ringing incoming call with an offer can be accepted');
    const link = this.makeLink(this, localStream);
    this.link = link;
    this.watch(link);
    this.setState('connecting');
    const answer = await link.answer(this.offer);
    try {
      const { call } = await this.realtime.request('CALL_ACCEPT', { callId: this.id, answer });
      this.call = call;
      link.ready();
    } catch (error) {
      this.finish('failed');
      throw error;
    }
  }

  reject(): Promise<void> {
    return this.endWith('CALL_REJECT');
  }

  /** Cancels a ringing outgoing call, or ends an answered one. */
  hangUp(): Promise<void> {
    return this.endWith('CALL_ENDED');
  }

  /** A new ICE negotiation, for a path that changed (the network, a reconnect); only the caller offers. */
  async restartIce(): Promise<void> {
    if (!this.link || this.direction !== 'outgoing' || (this.state !== 'connected' && this.state !== 'reconnecting' && this.state !== 'connecting')) return;
    if (this.call.status !== 'accepted') return;
    const description = await this.link.offer(true);
    await this.realtime.request('CALL_SIGNAL', { callId: this.id, description });
  }

  getStats(): Promise<unknown> | undefined {
    return this.link?.getStats();
  }

  /** Handlers for the call's signaling, called by Calls. */
  async onAccepted(answer: SessionDescription | null): Promise<void> {
    this.call = { ...this.call, status: 'accepted' };
    this.setState('connecting');
    if (answer) await this.link?.applyAnswer(answer);
  }

  async onSignal(description: SessionDescription): Promise<void> {
    if (!this.link) return;
    if (description.type === 'answer') return this.link.applyAnswer(description);
    const answer = await this.link.answer(description);
    await this.realtime.request('CALL_SIGNAL', { callId: this.id, description: answer });
  }

  onCandidate(candidate: Parameters<PeerLink['addRemoteCandidate']>[0]): Promise<void> | undefined {
    return this.link?.addRemoteCandidate(candidate);
  }

  /** The call is over (the other side, the server, or this device): closes the connection. */
  finish(reason: CallEndCause): void {
    if (this.state === 'ended') return;
    this.endReason = reason;
    this.link?.close();
    this.setState('ended');
  }

  private async endWith(event: 'CALL_REJECT' | 'CALL_ENDED'): Promise<void> {
    if (this.state === 'ended') return;
    try {
      const { call } = await this.realtime.request(event, { callId: this.id });
      if ('callerId' in call && !('conversationId' in call)) this.call = call;
    } finally {
      this.finish('local');
    }
  }

  private watch(link: PeerLink): void {
    link.on('track', (_track, stream) => {
      if (stream) this.emit('remoteStream', stream);
    });
    link.on('state', (state) => {
      if (this.state === 'ended') return;
      if (state === 'connected') this.setState('connected');
      else if (state === 'disconnected' || state === 'failed') {
        this.setState('reconnecting');
        // A path that broke: the caller renegotiates ICE (the callee waits for its offer).
        if (state === 'failed') void this.restartIce().catch(() => undefined);
      }
    });
  }

  private setState(state: CallUiState): void {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', state);
  }
}
