import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import type { SfuConnection, SfuRoom, SfuRoomEvent } from '../../src/calls/sfu/sfu-rooms.js';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { CallSignalEvent, GroupCallResult, SessionDescription, SfuSignalEvent } from '../../src/protocol/call-events.js';
import { JANUS_NETWORK } from './janus-network.js';
import { emitAck, type ClientSocket } from './sockets.js';
import { WebRtcPeer, type IceCandidate } from './webrtc-peer.js';

/** What a participant device asks of the SFU: an SfuRoom itself, or the app's signaling standing in for it. */
type SfuSignaling = Pick<SfuRoom, 'publish' | 'subscribe' | 'answerSubscription' | 'trickle'>;

const PACKET_INTERVAL_MS = 20;
/** A VP8 payload descriptor for the start of a partition (S bit), so the packets pass as VP8. */
const VP8_DESCRIPTOR = Buffer.from([0x10]);

/**
 * One participant device in an SFU room, driven the way the lifecycle would drive a client's two
 * connections: a werift `publish` connection sending audio and video whose RTP payloads carry the
 * participant's label, and a `subscribe` connection that counts the RTP it receives per label. Every
 * description and candidate goes through the SfuRoom (what the server relays), never to Janus directly.
 */
export class SfuParticipant {
  readonly publisher: WebRtcPeer;
  readonly subscriber: WebRtcPeer;
  /** RTP packets received, per sender label and kind ("bob/audio"), with when the first came. */
  readonly received = new Map<string, { packets: number; firstAt: number }>();
  readonly errors: string[] = [];
  /** When publish() sent the offer. */
  publishedAt: number | undefined;
  private readonly tracks = { audio: new MediaStreamTrack({ kind: 'audio' }), video: new MediaStreamTrack({ kind: 'video' }) };
  private sending: NodeJS.Timeout | undefined;
  private negotiating = Promise.resolve();
  /** Candidates gathered before the device is in the room (a client sends its offer first, then candidates). */
  private held: [SfuConnection, IceCandidate][] | undefined = [];

  constructor(
    readonly label: string,
    private readonly room: () => SfuSignaling,
  ) {
    const extraHosts = [JANUS_NETWORK.janus, JANUS_NETWORK.peers];
    this.publisher = new WebRtcPeer({ extraHosts, onIceCandidate: (candidate) => this.trickle('publish', candidate) });
    this.subscriber = new WebRtcPeer({ extraHosts, onIceCandidate: (candidate) => this.trickle('subscribe', candidate) });
    for (const peer of [this.publisher, this.subscriber]) {
      const connection: SfuConnection = peer === this.publisher ? 'publish' : 'subscribe';
      peer.connection.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') this.trickle(connection, { candidate: '' });
      });
    }
    this.subscriber.connection.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        const payload = track.kind === 'video' ? rtp.payload.subarray(VP8_DESCRIPTOR.length) : rtp.payload;
        const key = `${payload.toString('utf8')}/${track.kind}`;
        const seen = this.received.get(key);
        if (seen) seen.packets += 1;
        else this.received.set(key, { packets: 1, firstAt: Date.now() });
      });
    });
    this.publisher.connection.addTransceiver(this.tracks.audio, { direction: 'sendonly' });
    this.publisher.connection.addTransceiver(this.tracks.video, { direction: 'sendonly' });
  }

  /** The room's `connection` events for this device, as "publish up", "subscribe down"... */
  readonly connectionEvents: string[] = [];

  /** The room's events for this device: Janus's renegotiated subscription offers, connections coming and going. */
  onRoomEvent(event: SfuRoomEvent): void {
    if (event.type === 'subscription-offer') void this.answer(event.offer);
    else this.connectionEvents.push(`${event.connection} ${event.up ? 'up' : 'down'}`);
  }

  /** Publishes (offer, Janus's answer) and starts sending RTP every 20 ms on both tracks. */
  async publish(): Promise<void> {
    const offer = await this.publisher.createOffer();
    this.publishedAt = Date.now();
    const answering = this.room().publish(this.label, offer);
    const held = this.held ?? [];
    this.held = undefined;
    for (const [connection, candidate] of held) this.trickle(connection, candidate);
    await this.publisher.applyAnswer(await answering);
    let sequenceNumber = 0;
    this.sending = setInterval(() => {
      sequenceNumber = (sequenceNumber + 1) % 65536;
      const timestamp = (sequenceNumber * 960) >>> 0;
      const label = Buffer.from(this.label, 'utf8');
      this.tracks.audio.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber, timestamp, marker: true }), label));
      this.tracks.video.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber, timestamp, marker: true }), Buffer.concat([VP8_DESCRIPTOR, label])));
    }, PACKET_INTERVAL_MS);
  }

  /** Offers the `publish` connection again with an ICE restart (after a reconnect); resolves once Janus answered. */
  async republish(): Promise<void> {
    await this.publisher.applyAnswer(await this.room().publish(this.label, await this.publisher.restartIce()));
  }

  /** Asks to receive the others; answers Janus's offer if there is one yet. */
  async receive(): Promise<void> {
    const offer = await this.room().subscribe(this.label);
    if (offer) await this.answer(offer);
  }

  /** Resolves once both connections are up and RTP of `kind` from every one of `labels` has arrived. */
  async waitForMediaFrom(labels: string[], kinds: ('audio' | 'video')[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.publisher.waitForConnected(timeoutMs);
    if (labels.length === 0) return;
    await this.subscriber.waitForConnected(Math.max(1, deadline - Date.now()));
    await this.waitForRtpFrom(labels, kinds, Math.max(1, deadline - Date.now()));
  }

  /** Resolves once RTP of `kind` from every one of `labels` has arrived. */
  async waitForRtpFrom(labels: string[], kinds: ('audio' | 'video')[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const missing = () => labels.flatMap((label) => kinds.map((kind) => `${label}/${kind}`)).filter((key) => !this.received.has(key));
    while (missing().length > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${this.label} got no RTP from ${missing().join(', ')} within ${timeoutMs} ms (got ${[...this.received.keys()].join(', ') || 'none'}; errors: ${this.errors.join('; ') || 'none'})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sending);
    await Promise.all([this.publisher.close(), this.subscriber.close()]);
  }

  private answer(offer: SessionDescription): Promise<void> {
    this.negotiating = this.negotiating.then(async () => {
      try {
        await this.room().answerSubscription(this.label, await this.subscriber.acceptOffer(offer));
      } catch (error) {
        this.errors.push(`answering the subscription: ${(error as Error).message}`);
      }
    });
    return this.negotiating;
  }

  private trickle(connection: SfuConnection, candidate: IceCandidate): void {
    if (this.held) {
      this.held.push([connection, candidate]);
      return;
    }
    this.room()
      .trickle(this.label, connection, candidate)
      .catch((error: Error) => this.errors.push(`trickle ${connection}: ${error.message}`));
  }
}

/**
 * A participant device of an SFU group call in the app: the same SfuParticipant, its descriptions and
 * candidates going only over the device's socket (CALL_SIGNAL and ICE_CANDIDATE naming the
 * connection), never to Janus. The server starts its subscription when it joins, so the room's offers
 * arrive as CALL_SIGNAL events, possibly before the join's acknowledgement.
 */
export class SfuCallDevice {
  readonly media: SfuParticipant;
  readonly errors: string[] = [];
  /** Janus's offers for the subscribe connection so far, in order: one more each time the feeds it receives change. */
  readonly subscribeOffers: SfuSignalEvent[] = [];
  callId = '';
  private publishAnswer: ((answer: SessionDescription) => void) | undefined;

  constructor(
    readonly socket: ClientSocket,
    label: string,
  ) {
    this.media = new SfuParticipant(label, () => this.signaling);
    socket.on('CALL_SIGNAL', (event: CallSignalEvent | SfuSignalEvent) => {
      if (event.callId !== this.callId || !('connection' in event)) return;
      if (event.connection === 'publish') this.publishAnswer?.(event.description);
      else {
        this.subscribeOffers.push(event);
        this.media.onRoomEvent({ type: 'subscription-offer', device: label, offer: event.description });
      }
    });
  }

  /** Joins call `id` (CALL_JOIN) or starts a video call in group `id` (CALL_REQUEST), then publishes: resolves once Janus answered. */
  async enter(event: 'CALL_JOIN' | 'CALL_REQUEST', id: string): Promise<GroupCallResult> {
    if (event === 'CALL_JOIN') this.callId = id;
    const ack = await emitAck<AckResponse<GroupCallResult>>(this.socket, event, event === 'CALL_JOIN' ? { callId: id } : { conversationId: id, type: 'video' });
    if (!ack.ok) throw new Error(`${event} refused: ${JSON.stringify(ack.error)}`);
    this.callId = ack.call.id;
    await this.media.publish();
    return ack;
  }

  get subscriptionOffers(): number {
    return this.subscribeOffers.length;
  }

  /** The latest subscribe offer's streams: whose media each mid carries. */
  get streams(): NonNullable<SfuSignalEvent['streams']> {
    return this.subscribeOffers.at(-1)?.streams ?? [];
  }

  async close(): Promise<void> {
    await this.media.close();
  }

  private readonly signaling: SfuSignaling = {
    publish: async (_device, offer) => {
      const answered = new Promise<SessionDescription>((resolve) => {
        this.publishAnswer = resolve;
      });
      await this.send('CALL_SIGNAL', { callId: this.callId, connection: 'publish', description: offer });
      return answered;
    },
    // The server subscribed this device when it joined.
    subscribe: async () => null,
    answerSubscription: (_device, answer) => this.send('CALL_SIGNAL', { callId: this.callId, connection: 'subscribe', description: answer }),
    trickle: (_device, connection, candidate) => this.send('ICE_CANDIDATE', { callId: this.callId, connection, candidate }),
  };

  private async send(event: 'CALL_SIGNAL' | 'ICE_CANDIDATE', payload: unknown): Promise<void> {
    const ack = await emitAck<AckResponse>(this.socket, event, payload);
    if (!ack.ok) {
      this.errors.push(`${event} refused: ${JSON.stringify(ack.error)}`);
      throw new Error(ack.error.message);
    }
  }
}
