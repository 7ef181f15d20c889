import { AppError } from '../../shared/app-error.js';
import { KeyedQueue } from '../../shared/keyed-queue.js';
import type { IceCandidate, SessionDescription } from '../../protocol/call-events.js';
import type { HandleEvent, JanusHandle, JanusSession } from './janus-session.js';
import { SfuError } from './sfu-error.js';
import type { SfuConnection, SfuRoom, SfuRoomEvent, SfuStream } from './sfu-rooms.js';

export const VIDEOROOM = 'janus.plugin.videoroom';

/** Candidates held per connection while its handle is being attached (the 1:1 calls' bound too). */
const MAX_HELD_CANDIDATES = 100;

/** What Janus needs to let one in and to end the room; never leaves the server. */
export interface RoomKeys {
  room: number;
  secret: string;
  pin: string;
}

interface Participant {
  publisher: JanusHandle | undefined;
  /** The device's publisher id in the room, once it published. */
  feed: number | undefined;
  subscriber: JanusHandle | undefined;
  /** subscribe() was called: the device receives every other live feed. */
  receiving: boolean;
  /** Feeds in the device's subscription. */
  subscribed: Set<number>;
  /** The subscription's streams as Janus last described them: which mid carries whose media. */
  streams: JanusStream[];
  /** The offer for the `subscribe` connection that is out and not yet answered. */
  offer: SessionDescription | undefined;
  /** The device came back while an offer was out: its subscription restarts ICE after the answer. */
  restartAfterAnswer: boolean;
  /** Feeds changed while an offer was out: renegotiate after the answer. */
  stale: boolean;
  held: Record<SfuConnection, IceCandidate[]>;
  gone: boolean;
}

/** A device of a room as another process takes it over: its state, with its handles by id. */
interface ParticipantSnapshot extends Omit<Participant, 'publisher' | 'subscriber' | 'subscribed' | 'gone'> {
  device: string;
  publisher?: number | undefined;
  subscriber?: number | undefined;
  subscribed: number[];
}

/** Everything a room knows, for the process that takes it over (JSON: no handles, no sets). */
export interface JanusRoomSnapshot {
  callId: string;
  keys: RoomKeys;
  participants: ParticipantSnapshot[];
  feedOwners: [number, string][];
  liveFeeds: [number, string][];
}

/**
 * One call's videoroom: a publisher handle and (once it receives) a multistream subscriber handle per
 * device. Feeds whose connection is up are added to every receiving device's subscription; Janus
 * itself renegotiates subscriptions when a feed goes away. Each device's operations run one at a time.
 */
export class JanusRoom implements SfuRoom {
  private readonly participants = new Map<string, Participant>();
  /** Every published feed of a device still in the room, to the device. */
  private readonly feedOwners = new Map<number, string>();
  /** Feeds whose publisher connection is up, to the device publishing them. */
  private readonly liveFeeds = new Map<number, string>();
  private readonly queue = new KeyedQueue();
  private destroyed = false;

  constructor(
    readonly callId: string,
    private readonly keys: RoomKeys,
    private readonly session: JanusSession,
    private readonly control: JanusHandle,
    private readonly onEvent: (event: SfuRoomEvent) => void,
    private readonly onDestroyed: () => void,
  ) {}

  /** A room another process made and released, on the session this process resumed. */
  static restore(
    snapshot: JanusRoomSnapshot,
    session: JanusSession,
    control: JanusHandle,
    onEvent: (event: SfuRoomEvent) => void,
    onDestroyed: () => void,
  ): JanusRoom {
    const room = new JanusRoom(snapshot.callId, snapshot.keys, session, control, onEvent, onDestroyed);
    for (const [feed, device] of snapshot.feedOwners) room.feedOwners.set(feed, device);
    for (const [feed, device] of snapshot.liveFeeds) room.liveFeeds.set(feed, device);
    for (const { device, publisher, subscriber, subscribed, ...state } of snapshot.participants) {
      const participant: Participant = { ...state, publisher: undefined, subscriber: undefined, subscribed: new Set(subscribed), gone: false };
      const bind = (id: number | undefined, connection: SfuConnection) =>
        id === undefined ? undefined : session.handle(id, (event) => room.handleEvent(device, participant, connection, event));
      participant.publisher = bind(publisher, 'publish');
      participant.subscriber = bind(subscriber, 'subscribe');
      room.participants.set(device, participant);
    }
    return room;
  }

  /** Whether the room's handles belong to `session`. */
  isOn(session: JanusSession): boolean {
    return this.session === session;
  }

  /** The room's id on Janus, for logs (joining needs the pin too). */
  get janusRoomId(): number {
    return this.keys.room;
  }

  async publish(device: string, offer: SessionDescription): Promise<SessionDescription> {
    // The participant exists from the call on, so candidates trickled while Janus answers are held.
    this.participant(device);
    return this.queue.run(device, async () => {
      const participant = this.participant(device);
      if (participant.publisher) return answerOf(await participant.publisher.message({ request: 'configure' }, offer));
      const handle = await this.attach(device, participant, 'publish');
      participant.publisher = handle;
      const reply = await this.joining(participant, 'publish', () =>
        handle.message({ request: 'joinandconfigure', ptype: 'publisher', room: this.keys.room, pin: this.keys.pin }, offer),
      );
      if (typeof reply.data['id'] !== 'number') throw new SfuError('refused', { reason: 'joined without a feed id' });
      participant.feed = reply.data['id'];
      this.feedOwners.set(reply.data['id'], device);
      await this.flushHeld(participant, 'publish');
      return answerOf(reply);
    });
  }

  async subscribe(device: string): Promise<SessionDescription | null> {
    return this.queue.run(device, async () => {
      const participant = this.participant(device);
      participant.receiving = true;
      return this.syncSubscription(device, participant);
    });
  }

  async answerSubscription(device: string, answer: SessionDescription): Promise<void> {
    return this.queue.run(device, async () => {
      const participant = this.participants.get(device);
      if (!participant?.subscriber || !participant.offer || this.destroyed) throw new SfuError('not_in_room', { reason: 'no subscription offer out' });
      await participant.subscriber.message({ request: 'start' }, answer);
      participant.offer = undefined;
      await this.flushHeld(participant, 'subscribe');
      if (participant.restartAfterAnswer) {
        participant.restartAfterAnswer = false;
        this.onEvent({ type: 'subscription-offer', device, offer: await this.restartIce(participant, participant.subscriber) });
      } else if (participant.stale) {
        participant.stale = false;
        const offer = await this.syncSubscription(device, participant);
        if (offer) this.onEvent({ type: 'subscription-offer', device, offer });
      }
    });
  }

  async restartSubscription(device: string): Promise<SessionDescription | null> {
    return this.queue.run(device, async () => {
      const participant = this.participants.get(device);
      if (!participant?.subscriber || participant.gone) return null;
      if (!participant.offer) return this.restartIce(participant, participant.subscriber);
      participant.restartAfterAnswer = true;
      return participant.offer;
    });
  }

  async trickle(device: string, connection: SfuConnection, candidate: IceCandidate): Promise<void> {
    const participant = this.participants.get(device);
    if (!participant || this.destroyed) throw new SfuError('not_in_room', { reason: 'trickle from a device not in the room' });
    const handle = connection === 'publish' ? participant.publisher : participant.subscriber;
    if (handle) return sendCandidate(handle, candidate);
    if (participant.held[connection].length >= MAX_HELD_CANDIDATES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `At most ${MAX_HELD_CANDIDATES} candidates are held before the connection exists`);
    }
    participant.held[connection].push(candidate);
  }

  streams(device: string): SfuStream[] {
    return (this.participants.get(device)?.streams ?? []).flatMap(({ mid, feed, kind }) => {
      const owner = this.feedOwners.get(feed);
      return owner === undefined ? [] : [{ mid, device: owner, kind }];
    });
  }

  async leave(device: string): Promise<void> {
    return this.queue.run(device, async () => {
      const participant = this.participants.get(device);
      if (!participant) return;
      this.forget(device, participant);
      await Promise.all([participant.subscriber?.detach(), participant.publisher?.detach()].map((detaching) => detaching?.catch(() => undefined)));
    });
  }

  /** What another process needs to take the room over; this one then forgets it without touching Janus. */
  release(): JanusRoomSnapshot {
    this.destroyed = true;
    this.onDestroyed();
    return {
      callId: this.callId,
      keys: this.keys,
      participants: [...this.participants].map(([device, { publisher, subscriber, subscribed, gone: _gone, ...state }]) => ({
        ...state,
        device,
        publisher: publisher?.id,
        subscriber: subscriber?.id,
        subscribed: [...subscribed],
      })),
      feedOwners: [...this.feedOwners],
      liveFeeds: [...this.liveFeeds],
    };
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const participants = [...this.participants.entries()];
    for (const [device, participant] of participants) this.forget(device, participant);
    this.onDestroyed();
    if (!this.session.isOpen) return;
    await this.control.message({ request: 'destroy', room: this.keys.room, secret: this.keys.secret }).catch((error: unknown) => {
      if (!(error instanceof SfuError && error.kind === 'unavailable')) throw error;
    });
    // The session outlives the room: its handles must not pile up on Janus.
    const handles = participants.flatMap(([, participant]) => [participant.publisher, participant.subscriber]);
    await Promise.all(handles.map((handle) => handle?.detach().catch(() => undefined)));
  }

  /** Brings the device's subscription up to the live feeds; resolves with Janus's offer if one was made. */
  private async syncSubscription(device: string, participant: Participant): Promise<SessionDescription | null> {
    if (participant.gone) return null;
    if (participant.offer) {
      participant.stale = true;
      return null;
    }
    const added = [...this.liveFeeds].filter(([feed, owner]) => owner !== device && !participant.subscribed.has(feed)).map(([feed]) => feed);
    if (added.length === 0) return null;
    const streams = added.map((feed) => ({ feed }));
    let reply;
    if (participant.subscriber) {
      reply = await participant.subscriber.message({ request: 'subscribe', streams });
    } else {
      const handle = await this.attach(device, participant, 'subscribe');
      participant.subscriber = handle;
      reply = await this.joining(participant, 'subscribe', () => handle.message({ request: 'join', ptype: 'subscriber', room: this.keys.room, pin: this.keys.pin, streams }));
    }
    for (const feed of added) participant.subscribed.add(feed);
    participant.streams = streamsOf(reply.data) ?? participant.streams;
    if (reply.jsep?.type !== 'offer') return null;
    participant.offer = reply.jsep;
    return reply.jsep;
  }

  /** Janus's new offer for the subscription, with fresh ICE credentials (asked only with no offer out: Janus would hold its reply). */
  private async restartIce(participant: Participant, subscriber: JanusHandle): Promise<SessionDescription> {
    const reply = await subscriber.message({ request: 'configure', restart: true });
    if (reply.jsep?.type !== 'offer') throw new SfuError('refused', { reason: 'no offer for an ICE restart' });
    participant.offer = reply.jsep;
    return reply.jsep;
  }

  /** Runs a handle's join; if Janus refuses it, the handle goes, so the device's next try starts afresh. */
  private async joining<T>(participant: Participant, connection: SfuConnection, join: () => Promise<T>): Promise<T> {
    try {
      return await join();
    } catch (error) {
      const handle = connection === 'publish' ? participant.publisher : participant.subscriber;
      if (connection === 'publish') participant.publisher = undefined;
      else participant.subscriber = undefined;
      await handle?.detach().catch(() => undefined);
      throw error;
    }
  }

  /** A handle whose events belong to this participant only: a device that left and came back is a new one. */
  private async attach(device: string, participant: Participant, connection: SfuConnection): Promise<JanusHandle> {
    return this.session.attach(VIDEOROOM, (event) => this.handleEvent(device, participant, connection, event));
  }

  private handleEvent(device: string, participant: Participant, connection: SfuConnection, event: HandleEvent): void {
    if (participant.gone) return;
    if (event.janus === 'webrtcup' || event.janus === 'hangup') {
      const up = event.janus === 'webrtcup';
      this.onEvent({ type: 'connection', device, connection, up });
      if (connection === 'publish' && participant.feed !== undefined) {
        if (up) this.feedUp(participant.feed, device);
        else this.feedGone(participant.feed);
      }
      return;
    }
    // Janus renegotiates a subscription by itself when one of its feeds goes away.
    if (connection === 'subscribe' && event.jsep?.type === 'offer') {
      participant.offer = event.jsep;
      participant.streams = streamsOf(event.data) ?? participant.streams;
      this.onEvent({ type: 'subscription-offer', device, offer: event.jsep });
    }
  }

  private feedUp(feed: number, owner: string): void {
    this.liveFeeds.set(feed, owner);
    for (const [device, participant] of this.participants) {
      if (device === owner || !participant.receiving || participant.gone) continue;
      void this.queue
        .run(device, () => this.syncSubscription(device, participant))
        .then((offer) => {
          if (offer && !participant.gone) this.onEvent({ type: 'subscription-offer', device, offer });
        })
        .catch(() => {
          // The device's next subscribe or answer tries again; a Janus that is gone is reported by the session.
          participant.stale = true;
        });
    }
  }

  private feedGone(feed: number): void {
    this.liveFeeds.delete(feed);
    for (const participant of this.participants.values()) participant.subscribed.delete(feed);
  }

  private forget(device: string, participant: Participant): void {
    participant.gone = true;
    if (participant.feed !== undefined) {
      this.feedGone(participant.feed);
      this.feedOwners.delete(participant.feed);
    }
    this.participants.delete(device);
  }

  private participant(device: string): Participant {
    if (this.destroyed) throw new SfuError('not_in_room', { reason: 'room destroyed' });
    let participant = this.participants.get(device);
    if (!participant) {
      participant = {
        publisher: undefined,
        feed: undefined,
        subscriber: undefined,
        receiving: false,
        subscribed: new Set(),
        streams: [],
        offer: undefined,
        restartAfterAnswer: false,
        stale: false,
        held: { publish: [], subscribe: [] },
        gone: false,
      };
      this.participants.set(device, participant);
    }
    return participant;
  }

  private async flushHeld(participant: Participant, connection: SfuConnection): Promise<void> {
    const handle = connection === 'publish' ? participant.publisher : participant.subscriber;
    if (!handle) return;
    for (const candidate of participant.held[connection].splice(0)) await sendCandidate(handle, candidate);
  }
}

interface JanusStream {
  mid: string;
  feed: number;
  kind: 'audio' | 'video';
}

/** A subscription's active media streams, from the `streams` of Janus's `attached` or `updated` (null when it lists none). */
function streamsOf(data: Record<string, unknown> | undefined): JanusStream[] | null {
  const listed = data?.['streams'];
  if (!Array.isArray(listed)) return null;
  return listed.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { mid, feed_id: feed, type: kind, active } = entry as Record<string, unknown>;
    if (typeof mid !== 'string' || typeof feed !== 'number' || (kind !== 'audio' && kind !== 'video') || active === false) return [];
    return [{ mid, feed, kind }];
  });
}

function answerOf(reply: { jsep: SessionDescription | undefined }): SessionDescription {
  if (reply.jsep?.type !== 'answer') throw new SfuError('refused', { reason: 'no answer to the offer' });
  return reply.jsep;
}

function sendCandidate(handle: JanusHandle, candidate: IceCandidate): Promise<void> {
  if (candidate.candidate === '') return handle.trickle(null);
  return handle.trickle({ candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
}
