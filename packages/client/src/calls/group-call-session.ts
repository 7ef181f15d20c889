import { Emitter } from '../emitter.js';
import type { GroupCallDto, GroupCallResult, IceCandidate, ParticipantDto, SessionDescription } from '../protocol.js';
import type { Realtime } from '../realtime.js';
import type { CallUiState } from './call-session.js';
import type { PeerLink } from './peer-link.js';
import type { CandidateLike, MediaStreamLike } from './webrtc.js';

/** Another device in the call, with its media once it flows. */
export interface RemoteParticipant {
  participant: ParticipantDto;
  connectionState: string;
  stream: MediaStreamLike | undefined;
}

type GroupCallEvents = {
  state: (state: CallUiState) => void;
  /** Someone joined, left, or their media or connection changed. */
  participants: (participants: RemoteParticipant[]) => void;
};

type LinkFactory = (localStream: MediaStreamLike | undefined, sendCandidate: (candidate: IceCandidate) => void) => PeerLink;

/**
 * A group call in a mesh: one connection per other participant device. Of each pair the later joiner
 * (higher joinOrder) makes every offer, the first one and ICE restarts, so two offers never cross.
 */
export class GroupCallSession extends Emitter<GroupCallEvents> {
  state: CallUiState;
  endReason: string | undefined;
  you: ParticipantDto | undefined;
  private localStream: MediaStreamLike | undefined;
  private readonly links = new Map<string, { participant: ParticipantDto; link: PeerLink }>();

  constructor(
    private readonly realtime: Realtime,
    public call: GroupCallDto,
    readonly conversation: { id: string; title: string },
    readonly from: { id: string; name: string },
    private readonly makeLink: LinkFactory,
    direction: 'outgoing' | 'incoming',
  ) {
    super();
    this.state = direction;
  }

  get id(): string {
    return this.call.id;
  }

  get participants(): RemoteParticipant[] {
    return [...this.links.values()].map(({ participant, link }) => ({ participant, connectionState: link.connectionState, stream: link.remoteStream }));
  }

  /** Joins the call that rings here (CALL_JOIN) and offers to everyone already in it. */
  async join(localStream?: MediaStreamLike): Promise<void> {
    this.localStream = localStream;
    this.setState('connecting');
    await this.joined(await this.realtime.request('CALL_JOIN', { callId: this.id }));
  }

  /** The starter's side: its CALL_REQUEST ack. */
  async started(result: GroupCallResult, localStream: MediaStreamLike | undefined): Promise<void> {
    this.localStream = localStream;
    await this.joined(result);
  }

  decline(): Promise<void> {
    return this.endWith('CALL_REJECT');
  }

  leave(): Promise<void> {
    return this.endWith('CALL_ENDED');
  }

  /** Restarts ICE with every participant this device offers to (after a network change or a reconnect). */
  async restartIce(): Promise<void> {
    for (const { participant, link } of this.links.values()) {
      if (this.offersTo(participant)) await this.sendOffer(participant, link, true);
    }
  }

  // ---- signaling, called by Calls ----

  participantJoined(participant: ParticipantDto): void {
    if (participant.deviceId === this.you?.deviceId) return;
    // The newcomer offers; this side waits with a connection ready for its offer.
    this.linkFor(participant);
    this.changed();
  }

  participantLeft(deviceId: string): void {
    const entry = this.links.get(deviceId);
    if (!entry) return;
    entry.link.close();
    this.links.delete(deviceId);
    this.changed();
  }

  participantState(participant: ParticipantDto): void {
    const entry = this.links.get(participant.deviceId);
    if (entry) entry.participant = participant;
    this.changed();
  }

  async onSignal(fromDevice: string, description: SessionDescription): Promise<void> {
    const entry = this.links.get(fromDevice);
    if (!entry) return;
    if (description.type === 'answer') return entry.link.applyAnswer(description);
    const answer = await entry.link.answer(description);
    await this.realtime.request('CALL_SIGNAL', { callId: this.id, to: fromDevice, description: answer });
  }

  onCandidate(fromDevice: string, candidate: CandidateLike): void {
    void this.links.get(fromDevice)?.link.addRemoteCandidate(candidate);
  }

  /** After a reconnect within the grace (CALL_STATE): the participants as they are now, then ICE restarts. */
  async resumed(result: GroupCallResult): Promise<void> {
    this.call = result.call;
    this.you = result.you;
    const present = new Set(result.participants.map((p) => p.deviceId));
    for (const deviceId of this.links.keys()) if (!present.has(deviceId)) this.participantLeft(deviceId);
    for (const participant of result.participants) if (participant.deviceId !== result.you.deviceId && !this.links.has(participant.deviceId)) this.linkFor(participant);
    await this.restartIce();
  }

  finish(reason: string): void {
    if (this.state === 'ended') return;
    this.endReason = reason;
    for (const { link } of this.links.values()) link.close();
    this.links.clear();
    this.setState('ended');
    this.changed();
  }

  private async joined(result: GroupCallResult): Promise<void> {
    if (result.topology !== 'mesh') {
      await this.realtime.request('CALL_ENDED', { callId: result.call.id }).catch(() => undefined);
      this.finish('unsupported_topology');
      throw new Error('This call runs through the SFU, which this client does not support yet');
    }
    this.call = result.call;
    this.you = result.you;
    if (result.participants.length > 1) this.setState('connecting');
    for (const participant of result.participants) {
      if (participant.deviceId === result.you.deviceId) continue;
      const link = this.linkFor(participant);
      await this.sendOffer(participant, link, false);
    }
    this.changed();
  }

  private offersTo(participant: ParticipantDto): boolean {
    return this.you !== undefined && this.you.joinOrder > participant.joinOrder;
  }

  private async sendOffer(participant: ParticipantDto, link: PeerLink, iceRestart: boolean): Promise<void> {
    const description = await link.offer(iceRestart);
    await this.realtime.request('CALL_SIGNAL', { callId: this.id, to: participant.deviceId, description });
  }

  private linkFor(participant: ParticipantDto): PeerLink {
    const existing = this.links.get(participant.deviceId);
    if (existing) return existing.link;
    const link = this.makeLink(this.localStream, (candidate) =>
      this.realtime.send('ICE_CANDIDATE', { callId: this.id, to: participant.deviceId, candidate }),
    );
    link.ready();
    link.on('track', () => this.changed());
    link.on('state', (state) => {
      if (state === 'connected') this.setState('connected');
      else if (state === 'failed' && this.offersTo(participant)) void this.sendOffer(participant, link, true).catch(() => undefined);
      this.changed();
    });
    this.links.set(participant.deviceId, { participant, link });
    return link;
  }

  private async endWith(event: 'CALL_REJECT' | 'CALL_ENDED'): Promise<void> {
    if (this.state === 'ended') return;
    try {
      await this.realtime.request(event, { callId: this.id });
    } finally {
      this.finish('local');
    }
  }

  private changed(): void {
    this.emit('participants', this.participants);
  }

  private setState(state: CallUiState): void {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', state);
  }
}
