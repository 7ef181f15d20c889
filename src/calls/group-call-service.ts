import type { CallSignalInput, GroupCallRequestInput, GroupCallResult, IceCandidateInput, ParticipantsResult, ParticipantStateInput } from '../protocol/call-events.js';
import type { GroupCallDto } from '../protocol/calls.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { InFlight } from '../shared/in-flight.js';
import { newId } from '../shared/ids.js';
import type { Serializer } from '../shared/keyed-queue.js';
import type { Logger } from '../shared/logger.js';
import type { ConversationsRepository, GroupCallsRepository, ProcessLiveness, UsersRepository } from '../storage/ports.js';
import { CallPartyNames } from './call-party-names.js';
import { announceCallProgress } from './call-progress-events.js';
import { isFinalStatus, type CallEndedNoticeReason } from './call-state-machine.js';
import { InProcessCallTimers, type CallTimers } from './call-timers.js';
import { chooseTopology, topologyOf, type CallTopologies } from './call-topology.js';
import { deliverGroupNotices } from './group-call-notices.js';
import { presentGroupCall, presentJoined, presentParticipant } from './group-call-presenter.js';
import { createGroupCall, transitionGroupCall, type GroupCallEvent, type GroupCallRecord } from './group-call-state-machine.js';
import { ringingMembers, type LiveGroupCall, type LiveGroupCalls, type ParticipantDevice } from './live-group-calls.js';
import type { Device, LiveCalls } from './live-calls.js';
import { UnstoredExpiries, type UnstoredWrite } from './unstored-expiries.js';

/** The ring of a group call, each participant's reconnect grace, and `store` (as for 1:1 calls, see CallTimer). */
export type GroupCallTimer = 'ring' | `grace:${string}` | 'store';

export interface GroupCallServiceDeps {
  groupCalls: GroupCallsRepository;
  conversations: Pick<ConversationsRepository, 'membership' | 'memberIds' | 'find'>;
  users: Pick<UsersRepository, 'findPeople'>;
  /** The 1:1 calls: someone in one is not free to join a group call, and their events are not group events. */
  directCalls: Pick<LiveCalls, 'get' | 'ofUser'>;
  live: LiveGroupCalls;
  /** Which processes still run: the devices of one that died are gone with it. */
  processes: ProcessLiveness;
  timers: CallTimers<GroupCallTimer>;
  topologies: CallTopologies;
  /** Runs each call's changes one at a time (across processes, when several share the calls). */
  queue: Serializer;
  delivery: Delivery;
  events: DomainEvents;
  logger: Logger;
  ringTimeoutMs: number;
  reconnectGraceMs: number;
  /** Participants of any group call, whatever its topology allows. */
  maxParticipants: number;
  now?: () => Date;
}

const graceTimer = (userId: string): GroupCallTimer => `grace:${userId}`;

/** A decided record with the compare-and-set it is stored with. */
type GroupCallWrite = UnstoredWrite<GroupCallRecord, Parameters<GroupCallsRepository['update']>[1]>;
/** Takes a decided record instead of storing it: a timer given up after its retries, whose outcome is stored later. */
type StoreLater = (write: GroupCallWrite) => void;

/**
 * The life of group calls: starting one in a group, joining, leaving, declining, devices that drop
 * and come back, members removed from the group, and each participant's signaling through the call's
 * topology. As in CallService, every change of a call runs in that call's queue, is decided by the
 * state machine, stored (a compare-and-set on the record's revision), and only then told.
 */
export class GroupCallService {
  private readonly inFlight = new InFlight();
  /** Outcomes kept aside wait in this process's memory, so their `store` timers are this process's own. */
  private readonly storeTimers = new InProcessCallTimers<'store'>();
  private readonly names: CallPartyNames;
  private readonly unstored: UnstoredExpiries<GroupCallRecord, GroupCallWrite['expected'], GroupCallTimer>;
  private readonly now: () => Date;
  private closing = false;

  constructor(private readonly deps: GroupCallServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.unstored = new UnstoredExpiries({
      store: (call, expected) => deps.groupCalls.update(call, expected),
      timers: deps.timers,
      storeTimers: this.storeTimers,
      logger: deps.logger,
    });
    this.names = new CallPartyNames(deps.users, deps.events);
    deps.timers.onExpiry((callId, timer, attempt) => this.expire(callId, timer, attempt));
    this.storeTimers.onExpiry((callId, timer, attempt) => this.expire(callId, timer, attempt));
    deps.events.on('groupMembersChanged', ({ conversationId, leftIds }) => {
      for (const userId of leftIds) void this.track(this.memberRemoved(conversationId, userId));
    });
  }

  /** Whether `callId` is a group call (else it is a 1:1 call, or none): live ones are known without a read. */
  async owns(callId: string): Promise<boolean> {
    if (await this.deps.live.get(callId)) return true;
    if (await this.deps.directCalls.get(callId)) return false;
    return (await this.deps.groupCalls.findById(callId)) !== null;
  }

  /** Starts a call in a group: the starter is in it, every other member's devices ring. */
  request(device: Device, input: GroupCallRequestInput): Promise<GroupCallResult> {
    return this.track(this.start(device, input));
  }

  join(device: Device, callId: string): Promise<GroupCallResult> {
    return this.inCall(callId, async () => {
      const live = await this.liveFor(callId, device.userId);
      const mine = live.participants.find((participant) => participant.userId === device.userId);
      if (mine) throw new AppError('INVALID_STATE', mine.sessionId === device.sessionId ? 'You are already in the call' : 'The call is on another of your devices');
      await this.requireFree(device.userId);
      const topology = topologyOf(this.deps.topologies, live);
      const participant = this.newParticipant(device, live.call, live.nextJoinOrder);
      const after = await this.change(
        live,
        { type: 'join', userId: device.userId, maxParticipants: Math.min(this.deps.maxParticipants, topology.maxParticipants) },
        (call) => ({ ...live, call, participants: [...live.participants, participant], nextJoinOrder: live.nextJoinOrder + 1 }),
        device.socketId,
      );
      await topology.joined(after, participant);
      return presentJoined(after, participant, this.now());
    });
  }

  /** CALL_ENDED from a participant: leaves; the call ends when nobody is left. */
  leave(device: Device, callId: string): Promise<{ call: GroupCallDto }> {
    return this.inCall(callId, async () => {
      const live = await this.liveFor(callId, device.userId);
      const participant = this.deviceIn(live, device);
      const after = await this.leaveCall(live, participant, 'left', device.socketId);
      return { call: presentGroupCall(after.call, this.now()) };
    });
  }

  /** CALL_REJECT from a rung member: their devices stop ringing, the participants are told. */
  decline(device: Device, callId: string): Promise<{ call: GroupCallDto }> {
    return this.inCall(callId, async () => {
      const live = await this.liveFor(callId, device.userId);
      const after = await this.change(live, { type: 'decline', userId: device.userId }, (call) => ({ ...live, call }), device.socketId);
      return { call: presentGroupCall(after.call, this.now()) };
    });
  }

  /** Who is in the call now; any member of the group may ask. */
  participants(device: Device, callId: string): Promise<ParticipantsResult> {
    return this.inCall(callId, async () => {
      const live = await this.liveFor(callId, device.userId);
      return { call: presentGroupCall(live.call, this.now()), participants: live.participants.map(presentParticipant) };
    });
  }

  /** A participant's mute and camera state, relayed to the others. */
  setState(device: Device, input: ParticipantStateInput): Promise<void> {
    return this.inCall(input.callId, async () => {
      const live = await this.liveFor(input.callId, device.userId);
      const participant = this.deviceIn(live, device);
      await this.updateParticipant(live, { ...participant, muted: input.muted, camera: input.camera });
    });
  }

  relaySignal(device: Device, input: CallSignalInput): Promise<void> {
    return this.inCall(input.callId, async () => {
      const live = await this.liveFor(input.callId, device.userId);
      await topologyOf(this.deps.topologies, live).signal(live, this.deviceIn(live, device), input);
    });
  }

  relayCandidate(device: Device, input: IceCandidateInput): Promise<void> {
    return this.inCall(input.callId, async () => {
      const live = await this.liveFor(input.callId, device.userId);
      await topologyOf(this.deps.topologies, live).candidate(live, this.deviceIn(live, device), input);
    });
  }

  /**
   * A device connected: it rings for each group call ringing for its user, and when it is the device
   * its user is in a call with, coming back, it takes the call over, the grace stops, it gets
   * CALL_STATE and the others see it connected again; then the call's topology restarts its media.
   */
  async deviceConnected(device: Device): Promise<void> {
    for (const ringing of await this.deps.live.ringingFor(device.userId)) {
      await this.inCall(ringing.call.id, async () => {
        const live = await this.deps.live.get(ringing.call.id);
        if (live && ringingMembers(live).includes(device.userId)) await this.ring(live, [device.socketId]);
      });
    }
    const found = await this.deps.live.ofUser(device.userId);
    if (!found) return;
    await this.inCall(found.call.id, async () => {
      const live = await this.deps.live.get(found.call.id);
      const participant = live?.participants.find((entry) => entry.userId === device.userId && entry.sessionId === device.sessionId);
      if (!live || !participant) return;
      await this.deps.timers.cancel(live.call.id, graceTimer(device.userId));
      const back = { ...participant, socketId: device.socketId, processId: device.processId, connected: true };
      const after = await this.updateParticipant(live, back);
      this.deps.delivery.toSockets([device.socketId], 'CALL_STATE', presentJoined(after, back, this.now()));
      await topologyOf(this.deps.topologies, after).reconnected?.(after, back);
    });
  }

  /** A participant's device in the call disconnected: the others see it reconnecting, and the grace starts. */
  async deviceDisconnected(device: Device): Promise<void> {
    const found = await this.deps.live.ofUser(device.userId);
    if (!found) return;
    await this.inCall(found.call.id, async () => {
      const live = await this.deps.live.get(found.call.id);
      const participant = live?.participants.find((entry) => entry.socketId === device.socketId);
      if (!live || !participant) return;
      await this.updateParticipant(live, { ...participant, connected: false });
      await this.deps.timers.start(live.call.id, graceTimer(device.userId), this.deps.reconnectGraceMs);
    });
  }

  /**
   * The media server carrying these calls is gone (or would not make a call's room): each ends at once
   * as failed with reason media_server_lost, and everyone in it and still rung is told.
   */
  mediaServerLost(callIds: readonly string[]): Promise<void> {
    return Promise.all(
      callIds.map((callId) =>
        this.inCall(callId, async () => {
          const live = await this.deps.live.get(callId);
          if (live) await this.change(live, { type: 'media_server_lost' }, (call) => ({ ...live, call }));
        }).catch((error: unknown) => this.deps.logger.error({ err: error, callId }, 'could not end a group call whose media server was lost')),
      ),
    ).then(() => undefined);
  }

  /**
   * Run at start-up and then periodically, as CallService.sweep: closes the unfinished group calls of
   * dead processes that no process runs any more, ends the calls whose media went with a dead process
   * (media_server_lost), and lets the participants' devices whose process died go as if they had
   * disconnected.
   */
  async sweep(): Promise<void> {
    let closed = 0;
    for (const call of await this.deps.groupCalls.listOrphaned()) {
      if (await this.deps.live.get(call.id)) continue;
      const result = transitionGroupCall(call, { type: 'server_restart' }, this.now());
      if (result.ok && (await this.deps.groupCalls.update(result.call, { revision: call.revision, changedMembers: result.changedMembers }))) {
        closed += 1;
        announceCallProgress(this.deps.events, call.status, { kind: 'group', call: result.call });
      }
    }
    if (closed > 0) this.deps.logger.info({ calls: closed }, 'closed the group calls a stopped process left open');
    const lives = await this.deps.live.all();
    const sfu = this.deps.topologies.sfu;
    const mediaLost = (await sfu?.lost?.(lives.filter((live) => live.call.topology === sfu.kind))) ?? [];
    if (mediaLost.length > 0) {
      this.deps.logger.warn({ calls: mediaLost.length }, 'ending the group calls whose media went with a stopped process');
      await this.mediaServerLost(mediaLost);
    }
    const devices = lives.flatMap((live) =>
      live.participants.filter((participant) => participant.connected && participant.processId !== this.deps.processes.id),
    );
    if (devices.length === 0) return;
    const dead = new Set(await this.deps.processes.gone([...new Set(devices.map((device) => device.processId))]));
    for (const device of devices) if (dead.has(device.processId)) await this.deviceDisconnected(device);
  }

  /**
   * At shutdown: refuses new calls and lets the changes under way finish. Calls kept in this process
   * alone end (server_restart); calls every process shares go on without it, their media (the SFU
   * rooms it holds) handed to another process, or ended when none takes it. Outcomes still waiting for
   * storage get a last try; a call left unfinished is closed by the next process to sweep.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.deps.timers.close();
    this.storeTimers.close();
    await this.inFlight.drain(timeoutMs);
    const ending = await this.endingAtShutdown();
    await Promise.all(
      [...new Set([...ending, ...this.unstored.callIds()])].map((callId) =>
        this.deps.queue
          .run(callId, async () => {
            const live = ending.includes(callId) ? await this.deps.live.get(callId) : undefined;
            // Ending a live call stores what its timers left unstored first.
            if (live) await this.change(live, { type: 'server_restart' }, (next) => ({ ...live, call: next }));
            else await this.unstored.store(callId);
          })
          .catch((error: unknown) => this.deps.logger.error({ err: error, callId }, 'could not end a group call or store its outcome at shutdown')),
      ),
    );
  }

  /**
   * The calls that cannot go on without this process: all of them when it keeps them alone, else those
   * whose media it carries and could not hand to another process.
   */
  private async endingAtShutdown(): Promise<string[]> {
    const lives = await this.deps.live.all();
    if (!this.deps.live.sharedAcrossProcesses) return lives.map(({ call }) => call.id);
    const sfu = this.deps.topologies.sfu;
    const carried = lives.filter((live) => live.call.topology === sfu?.kind);
    if (!sfu?.handOver || carried.length === 0) return [];
    const handOver = sfu.handOver.bind(sfu);
    // Every call locked at once, in one order, so no change to any of them runs while their media moves.
    const locked = carried.reduceRight<() => Promise<string[]>>((inner, { call }) => () => this.deps.queue.run(call.id, inner), () => handOver(carried));
    return locked().catch((error: unknown) => {
      this.deps.logger.error({ err: error }, 'could not hand the media of the group calls to another process: ending them');
      return carried.map(({ call }) => call.id);
    });
  }

  private async start(device: Device, input: GroupCallRequestInput): Promise<GroupCallResult> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The server is shutting down; call again in a moment');
    const membership = await this.deps.conversations.membership(input.conversationId, device.userId);
    if (!membership || membership.type !== 'group') throw new AppError('NOT_FOUND', 'No such group');
    await this.requireFree(device.userId);
    const running = await this.deps.live.ofConversation(input.conversationId);
    if (running) throw this.alreadyRunning(running.call.id);
    const [memberIds, group, names] = await Promise.all([
      this.deps.conversations.memberIds(input.conversationId),
      this.deps.conversations.find(input.conversationId),
      this.names.of([device.userId]),
    ]);
    const callerName = names.get(device.userId);
    if (callerName === undefined) throw new AppError('UNAUTHORIZED', 'Sign in again');
    const topology = chooseTopology(this.deps.topologies, memberIds.length);
    const now = this.now();
    const call = createGroupCall({ id: newId(), conversationId: input.conversationId, startedBy: device.userId, memberIds, type: input.type, topology: topology.kind, now });
    const starter = this.newParticipant(device, call, 0);
    const live: LiveGroupCall = { call, title: group?.title ?? '', participants: [starter], ringing: true, removed: [], nextJoinOrder: 1 };
    if (!(await this.deps.live.add(live))) {
      const other = await this.deps.live.ofConversation(input.conversationId);
      throw this.alreadyRunning(other?.call.id ?? '');
    }
    return this.deps.queue.run(call.id, async () => {
      try {
        await this.deps.groupCalls.create(call);
      } catch (error) {
        await this.deps.live.remove(call.id);
        throw error;
      }
      await this.deps.timers.start(call.id, 'ring', this.deps.ringTimeoutMs);
      await this.ring(live);
      await topology.joined(live, starter);
      const rung = ringingMembers(live);
      this.deps.events.emit('groupCallRang', {
        callId: call.id,
        callType: call.type,
        conversationId: call.conversationId,
        title: live.title,
        caller: { id: device.userId, name: callerName },
        memberIds: rung,
        ringTimeoutMs: this.deps.ringTimeoutMs,
      });
      return presentJoined(live, starter, now);
    });
  }

  private alreadyRunning(callId: string): AppError {
    return new AppError('INVALID_STATE', 'The group already has a call: join it', { details: [{ path: 'conversationId', message: `call ${callId} is running: send CALL_JOIN` }] });
  }

  /** Rings the members still rung: on all their devices, or on these sockets (a device that connected). */
  private async ring(live: LiveGroupCall, socketIds?: string[]): Promise<void> {
    const starterName = (await this.names.of([live.call.startedBy])).get(live.call.startedBy) ?? '';
    const incoming = {
      call: presentGroupCall(live.call, this.now()),
      from: { id: live.call.startedBy, name: starterName },
      conversation: { id: live.call.conversationId, title: live.title },
      offer: null,
    };
    if (socketIds) this.deps.delivery.toSockets(socketIds, 'CALL_REQUEST', incoming);
    else this.deps.delivery.toUsers(ringingMembers(live), 'CALL_REQUEST', incoming);
  }

  /**
   * Applies `event`: the state machine decides, the record is stored if nobody changed it meanwhile
   * (or handed to `storeLater`), the live entry becomes `next(call)` (or goes, when the call is over),
   * then the devices are told.
   */
  private async change(
    live: LiveGroupCall,
    event: GroupCallEvent,
    next: (call: GroupCallRecord) => LiveGroupCall,
    actingSocketId?: string,
    storeLater?: StoreLater,
  ): Promise<LiveGroupCall> {
    const result = transitionGroupCall(live.call, event, this.now());
    if (!result.ok) throw new AppError(result.code, result.message);
    if (result.call !== live.call) {
      const write = { record: result.call, expected: { revision: live.call.revision, changedMembers: result.changedMembers } };
      if (storeLater) storeLater(write);
      else await this.store(live, write);
    }
    const over = isFinalStatus(result.call.status);
    const ringOver = over || event.type === 'ring_timeout';
    const after: LiveGroupCall = { ...next(result.call), ...(ringOver ? { ringing: false } : {}), ...(over ? { participants: [] } : {}) };
    if (over) await this.forget(after);
    else await this.deps.live.save(after);
    if (ringOver) await this.deps.timers.cancel(after.call.id, 'ring');
    deliverGroupNotices(this.deps.delivery, live, after, result.notices, actingSocketId);
    this.stoppedRinging(live, after, event);
    announceCallProgress(this.deps.events, live.call.status, { kind: 'group', call: result.call });
    if (over) await topologyOf(this.deps.topologies, live).ended(after);
    return after;
  }

  /** Stores a change, after the records of the call its timers could not store: its compare-and-set follows on from them. */
  private async store(live: LiveGroupCall, write: GroupCallWrite): Promise<void> {
    await this.unstored.store(live.call.id);
    if (!(await this.deps.groupCalls.update(write.record, write.expected))) {
      // This process changes a call one step at a time: only another process can have changed it.
      await this.forget(live);
      throw new AppError('INVALID_STATE', 'The call changed meanwhile');
    }
  }

  /** Tells push which members the call stopped ringing for. */
  private stoppedRinging(before: LiveGroupCall, after: LiveGroupCall, event: GroupCallEvent): void {
    const still = new Set(ringingMembers(after));
    const userIds = ringingMembers(before).filter((userId) => !still.has(userId));
    if (userIds.length === 0) return;
    const reason: CallEndedNoticeReason =
      event.type === 'join' ? 'answered_elsewhere' : event.type === 'decline' ? 'rejected' : (after.call.endReason ?? 'timeout');
    this.deps.events.emit('groupCallStoppedRinging', { callId: after.call.id, userIds, reason });
  }

  private async leaveCall(
    live: LiveGroupCall,
    participant: ParticipantDevice,
    reason: 'left' | 'connection_lost' | 'removed',
    actingSocketId?: string,
    storeLater?: StoreLater,
  ): Promise<LiveGroupCall> {
    await this.deps.timers.cancel(live.call.id, graceTimer(participant.userId));
    const after = await this.change(
      live,
      { type: 'leave', userId: participant.userId, reason },
      (call) => ({ ...live, call, participants: live.participants.filter((entry) => entry !== participant) }),
      actingSocketId,
      storeLater,
    );
    await topologyOf(this.deps.topologies, live).left(after, participant);
    return after;
  }

  /** Stores nothing: the participant's device or media state, shown to the others. */
  private async updateParticipant(live: LiveGroupCall, participant: ParticipantDevice): Promise<LiveGroupCall> {
    const after = { ...live, participants: live.participants.map((entry) => (entry.userId === participant.userId ? participant : entry)) };
    await this.deps.live.save(after);
    const others = after.participants.filter((entry) => entry !== participant && entry.connected).map((entry) => entry.socketId);
    this.deps.delivery.toSockets(others, 'CALL_PARTICIPANT_STATE', { callId: live.call.id, participant: presentParticipant(participant) });
    return after;
  }

  /** A member left or was removed from the group: out of its call at once, and no longer rung. */
  private async memberRemoved(conversationId: string, userId: string): Promise<void> {
    const found = await this.deps.live.ofConversation(conversationId);
    if (!found) return;
    await this.inCall(found.call.id, async () => {
      const live = await this.deps.live.get(found.call.id);
      // Every process hears of the change; the first to get here takes the member out.
      if (!live || this.closing || live.removed.includes(userId)) return;
      const participant = live.participants.find((entry) => entry.userId === userId);
      const wasRung = ringingMembers(live).includes(userId);
      const without = { ...live, removed: [...live.removed, userId] };
      if (participant) {
        await this.leaveCall(without, participant, 'removed');
        return;
      }
      await this.deps.live.save(without);
      if (wasRung) {
        this.deps.delivery.toUsers([userId], 'CALL_ENDED', { callId: live.call.id, reason: 'removed' });
        this.deps.events.emit('groupCallStoppedRinging', { callId: live.call.id, userIds: [userId], reason: 'removed' });
      }
    }).catch((error: unknown) => this.deps.logger.error({ err: error, conversationId, userId }, 'could not take a removed member out of the group call'));
  }

  /** A timer ran out; when its change cannot be stored, as for 1:1 calls (see UnstoredExpiries). */
  private expire(callId: string, timer: GroupCallTimer, attempt: number): Promise<void> {
    return this.inCall(callId, async () => {
      if (timer === 'store') {
        // Once stopping, stop() makes the last try.
        if (!this.closing) await this.unstored.storeLater(callId, attempt);
        return;
      }
      const live = await this.deps.live.get(callId);
      const expiry = live && this.expiry(live, timer);
      if (!expiry) return;
      try {
        await expiry();
      } catch (error) {
        if (error instanceof AppError) throw error;
        await this.unstored.failed(callId, timer, attempt, error, async () => {
          let decided: GroupCallWrite | undefined;
          await expiry((write) => (decided = write));
          return decided;
        });
      }
    }).catch((error: unknown) => this.deps.logger.error({ err: error, callId, timer }, 'group call timer failed'));
  }

  /** What `timer` running out does to `live`, when it still applies: the ring stops (missed if nobody joined), a participant still away leaves. */
  private expiry(live: LiveGroupCall, timer: Exclude<GroupCallTimer, 'store'>): ((storeLater?: StoreLater) => Promise<LiveGroupCall>) | undefined {
    if (timer === 'ring') return live.ringing ? (storeLater) => this.change(live, { type: 'ring_timeout' }, (call) => ({ ...live, call }), undefined, storeLater) : undefined;
    const participant = live.participants.find((entry) => graceTimer(entry.userId) === timer);
    if (!participant || participant.connected) return undefined;
    return (storeLater) => this.leaveCall(live, participant, 'connection_lost', undefined, storeLater);
  }

  /**
   * The live call `callId` for a member of its group. NOT_FOUND for a call that never was, FORBIDDEN
   * for anyone who is not a current member of the group, INVALID_STATE for a call that is over.
   */
  private async liveFor(callId: string, userId: string): Promise<LiveGroupCall> {
    const live = await this.deps.live.get(callId);
    const call = live?.call ?? this.unstored.outcome(callId) ?? (await this.deps.groupCalls.findById(callId));
    if (!call) throw new AppError('NOT_FOUND', 'No such call');
    const membership = await this.deps.conversations.membership(call.conversationId, userId);
    if (!membership || live?.removed.includes(userId)) throw new AppError('FORBIDDEN', 'Only members of the group may take part in its call');
    if (!live) {
      throw new AppError('INVALID_STATE', isFinalStatus(call.status) ? `The call is already over (${call.status})` : 'The call is run by another server process');
    }
    return live;
  }

  /** The device of `device`'s user in the call: INVALID_STATE when not in it, or in it on another device. */
  private deviceIn(live: LiveGroupCall, device: Device): ParticipantDevice {
    const participant = live.participants.find((entry) => entry.userId === device.userId);
    if (!participant) throw new AppError('INVALID_STATE', 'You are not in the call');
    if (participant.sessionId !== device.sessionId) throw new AppError('INVALID_STATE', 'The call is on another of your devices');
    return participant;
  }

  /** A user takes part in one call at a time. */
  private async requireFree(userId: string): Promise<void> {
    if ((await this.deps.live.ofUser(userId)) || (await this.deps.directCalls.ofUser(userId))) {
      throw new AppError('INVALID_STATE', 'You are in another call: end it first');
    }
  }

  /** A device joining: unmuted, with its camera on in a video call, until it says otherwise. */
  private newParticipant(device: Device, call: GroupCallRecord, joinOrder: number): ParticipantDevice {
    return {
      userId: device.userId,
      deviceId: newId(),
      sessionId: device.sessionId,
      socketId: device.socketId,
      processId: device.processId,
      connected: true,
      joinOrder,
      joinedAt: this.now(),
      muted: false,
      camera: call.type === 'video',
    };
  }

  private async forget(live: LiveGroupCall): Promise<void> {
    await this.deps.timers.cancelAll(live.call.id);
    await this.deps.live.remove(live.call.id);
  }

  private inCall<T>(callId: string, task: () => Promise<T>): Promise<T> {
    return this.track(this.deps.queue.run(callId, task));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.track(work);
    return work;
  }
}
