import type { CallSignalInput, IceCandidateInput, SessionDescription, SfuConnection, SfuSignalEvent } from '../protocol/call-events.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { Logger } from '../shared/logger.js';
import type { CallTopology } from './call-topology.js';
import type { LiveGroupCall, LiveGroupCalls, ParticipantDevice } from './live-group-calls.js';
import { SfuError } from './sfu/sfu-error.js';
import type { SfuHandover, SfuRoom, SfuRoomEvent, SfuRooms } from './sfu/sfu-rooms.js';

export interface SfuTopologyDeps {
  rooms: SfuRooms;
  /** To find a device's current socket when the room has something for it. */
  live: Pick<LiveGroupCalls, 'get'>;
  delivery: Pick<Delivery, 'toSockets'>;
  logger: Logger;
  /** Publishing devices a room holds at most. */
  maxParticipants: number;
  /** Calls whose room could not be made: they end (the lifecycle's mediaServerLost). */
  callsLost: (callIds: string[]) => void;
}

/**
 * Every participant device negotiates with the SFU only, over our signaling: a room per call, made
 * when the call starts (the starter's join) and destroyed when it ends. A device's `publish` offer goes
 * to the room and the room's answer back to that device; the room's offers for its `subscribe`
 * connection (on joining, and whenever the feeds it receives change) go to the device, and its answers
 * back to the room. Each description and candidate names its `connection`; `to` means nothing here.
 * The room's keys stay in this process: nobody reaches a room but through a participant's signaling.
 */
export class SfuTopology implements CallTopology {
  readonly kind = 'sfu' as const;
  readonly maxParticipants: number;
  private readonly rooms = new Map<string, Promise<SfuRoom>>();
  /** The socket each subscribe offer went to, so one that reached a device's current socket is not sent there twice. */
  private readonly deliveredTo = new WeakMap<SessionDescription, string>();

  constructor(private readonly deps: SfuTopologyDeps) {
    this.maxParticipants = deps.maxParticipants;
  }

  async signal(live: LiveGroupCall, from: ParticipantDevice, input: CallSignalInput): Promise<void> {
    const connection = requireConnection(input.connection);
    const room = await this.roomOf(live);
    if (connection === 'publish') {
      if (input.description.type !== 'offer') throw new AppError('INVALID_STATE', 'On the publish connection you offer and the media server answers');
      const answer = await room.publish(from.deviceId, input.description);
      this.send(live.call.id, from, { description: answer, connection: 'publish' });
      return;
    }
    if (input.description.type !== 'answer') throw new AppError('INVALID_STATE', 'On the subscribe connection the media server offers and you answer');
    await room.answerSubscription(from.deviceId, input.description);
  }

  async candidate(live: LiveGroupCall, from: ParticipantDevice, input: IceCandidateInput): Promise<void> {
    const connection = requireConnection(input.connection);
    await (await this.roomOf(live)).trickle(from.deviceId, connection, input.candidate);
  }

  /**
   * The starter's join makes the call's room; every joiner then starts receiving: the room's first
   * offer for its `subscribe` connection, if anyone publishes yet, goes to it before its join's ack.
   * The join is stored already, so the SFU's trouble does not refuse it: a room that cannot be made
   * ends the call, a lost SFU is reported by the rooms and ends it too.
   */
  async joined(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    const callId = live.call.id;
    let room: SfuRoom;
    try {
      room = await this.roomFor(callId);
    } catch (error) {
      this.deps.logger.error({ err: error, callId }, 'could not make the SFU room of a group call: ending it');
      this.deps.callsLost([callId]);
      return;
    }
    try {
      const offer = await room.subscribe(participant.deviceId);
      if (offer) this.send(callId, participant, subscription(room, participant, offer));
    } catch (error) {
      this.deps.logger.warn({ err: error, callId }, 'could not start a participant receiving through the SFU');
    }
  }

  /**
   * The device came back within the grace, on a new socket: it missed whatever was sent meanwhile and
   * its path has probably changed, so it gets an offer for its `subscribe` connection to answer (an
   * ICE restart, or the offer it may have missed first). Its `publish` connection it restarts itself.
   */
  async reconnected(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    const room = await this.existingRoom(live.call.id);
    try {
      const offer = await room?.restartSubscription(participant.deviceId);
      if (room && offer && this.deliveredTo.get(offer) !== participant.socketId) this.send(live.call.id, participant, subscription(room, participant, offer));
    } catch (error) {
      this.deps.logger.warn({ err: error, callId: live.call.id }, 'could not restart the subscription of a participant that came back');
    }
  }

  /** The device's connections close; Janus renegotiates the others' subscriptions without its feed. */
  async left(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    const room = await this.existingRoom(live.call.id);
    await room?.leave(participant.deviceId).catch((error: unknown) => this.deps.logger.warn({ err: error, callId: live.call.id }, 'could not take a device out of its SFU room'));
  }

  async ended(live: LiveGroupCall): Promise<void> {
    const creating = this.rooms.get(live.call.id);
    this.rooms.delete(live.call.id);
    const room = await creating?.catch(() => undefined);
    await room?.destroy().catch((error: unknown) => this.deps.logger.warn({ err: error, callId: live.call.id }, 'could not destroy the SFU room of a call that ended'));
  }

  /** At shutdown, after the calls ended: the rooms left and the SFU session go. */
  close(): Promise<void> {
    return this.deps.rooms.close();
  }

  /** The call ended after the process holding its room died: the room it left on the SFU goes. */
  async destroyLeftover(callId: string): Promise<void> {
    await this.deps.rooms.destroyLeftover(callId).catch((error: unknown) => this.deps.logger.warn({ err: error, callId }, 'could not destroy the SFU room a stopped process left'));
  }

  /** Lets go of every room, leaving its media flowing, for another process to adopt (undefined: no rooms). */
  async release(): Promise<SfuHandover | undefined> {
    await Promise.all([...this.rooms.values()].map((room) => room.catch(() => undefined)));
    this.rooms.clear();
    return this.deps.rooms.release();
  }

  /** Takes over the rooms another process released: their operations run here from now on. */
  async adopt(handover: SfuHandover): Promise<void> {
    for (const room of await this.deps.rooms.adopt(handover, (callId, event) => void this.relay(callId, event))) this.rooms.set(room.callId, Promise.resolve(room));
  }

  private roomFor(callId: string): Promise<SfuRoom> {
    let room = this.rooms.get(callId);
    if (!room) {
      room = this.deps.rooms.create(callId, { maxParticipants: this.maxParticipants, onEvent: (event) => void this.relay(callId, event) });
      this.rooms.set(callId, room);
      room.catch(() => {
        if (this.rooms.get(callId) === room) this.rooms.delete(callId);
      });
    }
    return room;
  }

  /** The call's room if it was made; undefined while none is, or when making it failed. */
  private async existingRoom(callId: string): Promise<SfuRoom | undefined> {
    return this.rooms.get(callId)?.catch(() => undefined);
  }

  private async roomOf(live: LiveGroupCall): Promise<SfuRoom> {
    const room = await this.existingRoom(live.call.id);
    if (!room) throw new SfuError('not_in_room', { reason: `call ${live.call.id} has no room` });
    return room;
  }

  /** What the room has for a device, outside any client event: a new subscription offer goes to it. */
  private async relay(callId: string, event: SfuRoomEvent): Promise<void> {
    if (event.type === 'connection') {
      this.deps.logger.debug({ callId, connection: event.connection, up: event.up }, 'SFU connection of a participant device');
      return;
    }
    const room = await this.existingRoom(callId);
    const participant = (await this.deps.live.get(callId))?.participants.find((entry) => entry.deviceId === event.device);
    if (room && participant) this.send(callId, participant, subscription(room, participant, event.offer));
  }

  /** A description for one of `to`'s connections; dropped while its connection is down (as in a mesh). */
  private send(callId: string, to: ParticipantDevice, signal: Omit<SfuSignalEvent, 'callId'>): void {
    if (!to.connected) return;
    this.deps.delivery.toSockets([to.socketId], 'CALL_SIGNAL', { callId, ...signal });
    if (signal.connection === 'subscribe') this.deliveredTo.set(signal.description, to.socketId);
  }
}

/** An offer for `to`'s subscribe connection, with whose media each of its streams carries. */
function subscription(room: SfuRoom, to: ParticipantDevice, offer: SessionDescription): Omit<SfuSignalEvent, 'callId'> {
  const streams = room.streams(to.deviceId).map(({ mid, device, kind }) => ({ mid, deviceId: device, kind }));
  return { description: offer, connection: 'subscribe', streams };
}

function requireConnection(connection: SfuConnection | undefined): SfuConnection {
  if (connection === undefined) {
    throw new AppError('VALIDATION_FAILED', 'Name the connection it is for', { details: [{ path: 'connection', message: 'required in an SFU call: publish or subscribe' }] });
  }
  return connection;
}
