import type { CallAcceptInput, CallRequestInput, CallSignalInput, IceCandidate, IceCandidateInput } from '../protocol/call-events.js';
import type { CallDto } from '../protocol/calls.js';
import type { Delivery } from '../realtime/delivery.js';
import type { PresenceTracker } from '../users/presence-tracker.js';
import { InFlight } from '../shared/in-flight.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { Serializer } from '../shared/keyed-queue.js';
import type { Logger } from '../shared/logger.js';
import type { BlocksRepository, CallsRepository, ProcessLiveness, UsersRepository } from '../storage/ports.js';
import { deliverNotices } from './call-notices.js';
import { announceCallProgress } from './call-progress-events.js';
import { CallPartyNames } from './call-party-names.js';
import { presentCall } from './call-presenter.js';
import {
  createRingingCall,
  isFinalStatus,
  partyOf,
  transition,
  type CallEvent,
  type CallNotice,
  type CallParty,
  type CallRecord,
  type CallStatus,
} from './call-state-machine.js';
import { InProcessCallTimers, type CallTimer, type CallTimers } from './call-timers.js';
import { callDevice, type CallDevice, type Device, type LiveCall, type LiveCalls } from './live-calls.js';
import type { LiveGroupCalls } from './live-group-calls.js';
import { UnstoredExpiries, type UnstoredWrite } from './unstored-expiries.js';

/** Candidates a device may send before the call is answered; a real client gathers a few dozen at most. */
export const MAX_HELD_CANDIDATES = 100;

type ExpiringTimer = Exclude<CallTimer, 'store'>;

export interface CallServiceDeps {
  calls: CallsRepository;
  users: UsersRepository;
  /** A callee who blocks the caller does not exist for them; one the caller blocks cannot be called. */
  blocks: Pick<BlocksRepository, 'between'>;
  live: LiveCalls;
  /** Which processes still run: the devices of one that died are gone with it. */
  processes: ProcessLiveness;
  /** Someone in a group call is busy for 1:1 calls too. */
  groupCalls: Pick<LiveGroupCalls, 'ofUser'>;
  timers: CallTimers;
  /** Runs each call's changes one at a time (across processes, when several share the calls). */
  queue: Serializer;
  delivery: Delivery;
  /**
   * Whether a user has a connected device, on any process. Presence answers from its counts (a Redis
   * hash with several processes) rather than by asking every process for its sockets, which waits for
   * each to answer and fails while one has just died.
   */
  presence: Pick<PresenceTracker, 'onlineAmong'>;
  events: DomainEvents;
  logger: Logger;
  ringTimeoutMs: number;
  reconnectGraceMs: number;
  now?: () => Date;
}

const otherParty = (party: CallParty): CallParty => (party === 'caller' ? 'callee' : 'caller');
const graceParty = (timer: `${CallParty}-grace`): CallParty => (timer === 'caller-grace' ? 'caller' : 'callee');

/** What a timer running out does to the call, when it still applies. */
function timerEvent(call: CallRecord, timer: ExpiringTimer): CallEvent {
  if (timer === 'ring') return { type: 'ring_timeout' };
  return { type: 'party_lost', userId: graceParty(timer) === 'caller' ? call.callerId : call.calleeId };
}

/**
 * The life of calls: requests, answers, hang-ups, timers, devices that drop and come back, relayed
 * signaling. Every change of a call runs in that call's queue (one at a time, in arrival order), is
 * decided by the state machine, stored as a compare-and-set on the status it started from, and only
 * then told to the parties. The one exception is the ring of a new call, which goes out while its
 * record is stored (see place).
 */
export class CallService {
  /** Requests and changes under way, which stop() lets finish before it ends the live calls. */
  private readonly inFlight = new InFlight();
  /** Outcomes kept aside wait in this process's memory, so their `store` timers are this process's own. */
  private readonly storeTimers = new InProcessCallTimers<'store'>();
  /** Outcomes of timers already told and not stored yet, each with the status it was decided from. */
  private readonly unstored: UnstoredExpiries<CallRecord, CallStatus, CallTimer>;
  private readonly partyNames: CallPartyNames;
  private readonly now: () => Date;
  private closing = false;

  constructor(private readonly deps: CallServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.unstored = new UnstoredExpiries({
      store: (call, expected) => deps.calls.update(call, expected),
      timers: deps.timers,
      storeTimers: this.storeTimers,
      logger: deps.logger,
    });
    this.partyNames = new CallPartyNames(deps.users, deps.events);
    deps.timers.onExpiry((callId, timer, attempt) => this.expire(callId, timer, attempt));
    this.storeTimers.onExpiry((callId, timer, attempt) => this.expire(callId, timer, attempt));
  }

  request(device: Device, input: CallRequestInput): Promise<CallDto> {
    return this.track(this.place(device, input));
  }

  accept(device: Device, input: CallAcceptInput): Promise<CallDto> {
    return this.inCall(input.callId, async () => {
      const { live } = await this.liveCall(input.callId, device);
      const call = await this.change(
        live,
        { type: 'accept', actorId: device.userId },
        { actingSocketId: device.socketId, answer: input.answer ?? null },
        { callee: callDevice(device), heldFromCaller: [], heldFromCallee: {} },
      );
      // The candidates each side sent before the answer go to the other side now that both are known.
      for (const candidate of live.heldFromCaller) this.sendCandidate(call.id, device.socketId, candidate, call.callerId);
      for (const candidate of live.heldFromCallee[device.socketId] ?? []) this.sendCandidate(call.id, live.caller.socketId, candidate, call.calleeId);
      return presentCall(call);
    });
  }

  reject(device: Device, callId: string): Promise<CallDto> {
    return this.act(device, callId, { type: 'reject', actorId: device.userId });
  }

  declareBusy(device: Device, callId: string): Promise<CallDto> {
    return this.act(device, callId, { type: 'declare_busy', actorId: device.userId });
  }

  /** CALL_ENDED from a party: hangs up an accepted call, cancels or declines a ringing one. */
  hangUp(device: Device, callId: string): Promise<CallDto> {
    return this.act(device, callId, { type: 'hang_up', actorId: device.userId });
  }

  /** Trickle ICE: to the other party's device, or held until the call is answered. */
  relayCandidate(device: Device, input: IceCandidateInput): Promise<void> {
    return this.inCall(input.callId, async () => {
      const { live, party } = await this.liveCall(input.callId, device);
      if (live.call.status === 'ringing') return this.hold(live, party, device.socketId, input.candidate);
      const to = live[otherParty(party)];
      if (to) this.sendCandidate(input.callId, to.socketId, input.candidate, device.userId);
    });
  }

  /** Renegotiation of an accepted call (ICE restart, adding or removing video): relayed to the other device. */
  relaySignal(device: Device, input: CallSignalInput): Promise<void> {
    return this.inCall(input.callId, async () => {
      const { live, party } = await this.liveCall(input.callId, device);
      if (live.call.status !== 'accepted') throw new AppError('INVALID_STATE', 'Renegotiate once the call is accepted');
      const to = live[otherParty(party)];
      if (to) this.deps.delivery.toSockets([to.socketId], 'CALL_SIGNAL', { callId: input.callId, description: input.description, from: device.userId });
    });
  }

  /**
   * A device connected. While its user's call rings for them, it rings too. When it is the device the
   * user is in a call with, coming back, it takes the call over with its new connection, the reconnect
   * grace stops, and it gets CALL_STATE.
   */
  async deviceConnected(device: Device): Promise<void> {
    await this.onLiveCallOf(device.userId, async (live, party) => {
      const slot = live[party];
      if (slot === null) {
        await this.deps.timers.cancel(live.call.id, 'callee-grace');
        await this.ringAgain(live, device.socketId);
        return;
      }
      if (slot.sessionId !== device.sessionId) return;
      const back = callDevice(device);
      await this.deps.live.save(party === 'caller' ? { ...live, caller: back } : { ...live, callee: back });
      await this.deps.timers.cancel(live.call.id, `${party}-grace`);
      const peerId = party === 'caller' ? live.call.calleeId : live.call.callerId;
      const peer = await this.deps.users.findById(peerId);
      this.deps.delivery.toSockets([device.socketId], 'CALL_STATE', { call: presentCall(live.call), peer: { id: peerId, name: peer?.name ?? '' } });
    });
  }

  /**
   * A device disconnected. When it was the party's device in the call (for a ringing callee: when no
   * device of theirs is left), the reconnect grace starts; the call ends if it runs out.
   */
  async deviceDisconnected(device: Device): Promise<void> {
    await this.onLiveCallOf(device.userId, async (live, party) => {
      const slot = live[party];
      if (slot === null) {
        if (device.socketId in live.heldFromCallee) {
          const { [device.socketId]: _useless, ...heldFromCallee } = live.heldFromCallee;
          await this.deps.live.save({ ...live, heldFromCallee });
        }
        if (!(await this.hasConnectedDevice(device.userId))) {
          await this.deps.timers.start(live.call.id, 'callee-grace', this.deps.reconnectGraceMs);
        }
        return;
      }
      if (slot.socketId !== device.socketId) return;
      const gone: CallDevice = { ...slot, connected: false };
      await this.deps.live.save(party === 'caller' ? { ...live, caller: gone } : { ...live, callee: gone });
      await this.deps.timers.start(live.call.id, `${party}-grace`, this.deps.reconnectGraceMs);
    });
  }

  /**
   * Run at start-up and then periodically. Closes, as failed with reason server_restart, the unfinished
   * calls of processes that died that no process runs any more; and lets the devices whose process died
   * go as if they had disconnected, so their reconnect grace starts (with calls every process shares,
   * the call goes on in the others).
   */
  async sweep(): Promise<void> {
    let closed = 0;
    for (const call of await this.deps.calls.listOrphaned()) {
      if (await this.deps.live.get(call.id)) continue;
      const result = transition(call, { type: 'server_restart' }, this.now());
      if (result.ok && (await this.deps.calls.update(result.call, call.status))) {
        closed += 1;
        this.progressed(call.status, result.call);
      }
    }
    if (closed > 0) this.deps.logger.info({ calls: closed }, 'closed the calls a stopped process left open');
    const lives = await this.deps.live.all();
    const devices = lives.flatMap((live) =>
      (['caller', 'callee'] as const).flatMap((party) => {
        const slot = live[party];
        const userId = party === 'caller' ? live.call.callerId : live.call.calleeId;
        return slot?.connected && slot.processId !== this.deps.processes.id ? [{ ...slot, userId }] : [];
      }),
    );
    if (devices.length === 0) return;
    const dead = new Set(await this.deps.processes.gone([...new Set(devices.map((device) => device.processId))]));
    for (const device of devices) if (dead.has(device.processId)) await this.deviceDisconnected(device);
  }

  /**
   * At shutdown: refuses new calls and lets the requests and changes under way finish (a request that
   * got past the refusal rings). Calls kept in this process alone end (server_restart), both parties
   * told; calls every process shares go on, their devices reconnecting to another process within the
   * grace. Outcomes still waiting for storage get a last try; a call left unfinished is closed by the
   * next process to sweep.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.deps.timers.close();
    this.storeTimers.close();
    await this.inFlight.drain(timeoutMs);
    const lastly = (callId: string, what: string, task: () => Promise<void>) =>
      this.deps.queue.run(callId, task).catch((error: unknown) => this.deps.logger.error({ err: error, callId }, `could not ${what} at shutdown`));
    const ending = this.deps.live.sharedAcrossProcesses ? [] : await this.deps.live.all();
    await Promise.all([
      ...ending.map(({ call }) =>
        lastly(call.id, 'end a call', async () => {
          const current = await this.deps.live.get(call.id);
          if (current) await this.change(current, { type: 'server_restart' });
        }),
      ),
      ...this.unstored.callIds().map((callId) => lastly(callId, 'store the outcome of a call', () => this.unstored.store(callId))),
    ]);
  }

  private act(device: Device, callId: string, event: CallEvent): Promise<CallDto> {
    return this.inCall(callId, async () => {
      const { live } = await this.liveCall(callId, device);
      return presentCall(await this.change(live, event, { actingSocketId: device.socketId }));
    });
  }

  /**
   * Applies `event`: the state machine decides, the record is stored if it is still in the status it was
   * read in, the live entry follows (with `changes`), and then the parties are told.
   */
  private async change(
    live: LiveCall,
    event: CallEvent,
    context: Parameters<typeof deliverNotices>[3] = {},
    changes: Partial<Omit<LiveCall, 'call'>> = {},
  ): Promise<CallRecord> {
    const result = this.decide(live.call, event);
    const { call } = result;
    if (!(await this.deps.calls.update(call, live.call.status))) {
      // This process changes a call one step at a time: only another process can have changed it.
      await this.forget(call.id);
      throw new AppError('INVALID_STATE', 'The call changed meanwhile');
    }
    if (isFinalStatus(call.status)) {
      await this.forget(call.id);
    } else {
      await this.deps.live.save({ ...live, ...changes, call });
      if (call.status !== 'ringing') await this.deps.timers.cancel(call.id, 'ring');
    }
    deliverNotices(this.deps.delivery, live, result.notices, context);
    if (live.call.status === 'ringing') this.stoppedRinging(call);
    this.progressed(live.call.status, call);
    return call;
  }

  private progressed(before: CallStatus, call: CallRecord): void {
    announceCallProgress(this.deps.events, before, { kind: 'direct', call });
  }

  /** `call` rang and no longer does: answered on one of the callee's devices, or over. */
  private stoppedRinging(call: CallRecord): void {
    const reason = call.status === 'accepted' ? 'answered_elsewhere' : call.endReason;
    if (reason === null) return;
    this.deps.events.emit('callStoppedRinging', {
      callId: call.id,
      calleeId: call.calleeId,
      callerId: call.callerId,
      reason,
      missed: call.status === 'missed',
    });
  }

  private decide(call: CallRecord, event: CallEvent): { call: CallRecord; notices: CallNotice[] } {
    const result = transition(call, event, this.now());
    if (!result.ok) throw new AppError(result.code, result.message);
    return result;
  }

  private async forget(callId: string): Promise<void> {
    await this.deps.timers.cancelAll(callId);
    await this.deps.live.remove(callId);
  }

  /**
   * The live call `callId` as `device` may act on it. Not live: NOT_FOUND if it never existed,
   * FORBIDDEN for someone else's, INVALID_STATE if it is over. Live: FORBIDDEN for anyone but its
   * parties, INVALID_STATE for a party's device other than the one in the call.
   */
  private async liveCall(callId: string, device: Device): Promise<{ live: LiveCall; party: CallParty }> {
    const live = await this.deps.live.get(callId);
    const call = live?.call ?? this.unstored.outcome(callId) ?? (await this.deps.calls.findById(callId));
    if (!call) throw new AppError('NOT_FOUND', 'No such call');
    const party = partyOf(call, device.userId);
    if (!party) throw new AppError('FORBIDDEN', 'Only the parties of a call may act on it');
    if (!live) {
      throw new AppError('INVALID_STATE', isFinalStatus(call.status) ? `The call is already over (${call.status})` : 'The call is run by another server process');
    }
    const slot = live[party];
    if (slot && slot.sessionId !== device.sessionId) throw new AppError('INVALID_STATE', 'The call is on another of your devices');
    return { live, party };
  }

  /** Runs `task` in the queue of the call `userId` is in, if any, with their party in it. */
  private async onLiveCallOf(userId: string, task: (live: LiveCall, party: CallParty) => Promise<void>): Promise<void> {
    const found = await this.deps.live.ofUser(userId);
    if (!found) return;
    await this.inCall(found.call.id, async () => {
      const live = await this.deps.live.get(found.call.id);
      const party = live && partyOf(live.call, userId);
      if (live && party) await task(live, party);
    });
  }

  private async place(device: Device, input: CallRequestInput): Promise<CallDto> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The server is shutting down; call again in a moment');
    if (input.to === device.userId) {
      throw new AppError('VALIDATION_FAILED', 'You cannot call yourself', { details: [{ path: 'to', message: 'must be another user' }] });
    }
    const [names, blocks] = await Promise.all([this.partyNames.of([device.userId, input.to]), this.deps.blocks.between(device.userId, input.to)]);
    const callerName = names.get(device.userId);
    if (callerName === undefined) throw new AppError('UNAUTHORIZED', 'Sign in again');
    // A callee who blocks the caller answers exactly as an unknown user: the block is not revealed.
    if (!names.has(input.to) || blocks.blockedBy) throw new AppError('NOT_FOUND', 'No such user');
    if (blocks.blocks) throw new AppError('FORBIDDEN', 'You have blocked this user: unblock them to call them');
    const ringing = createRingingCall({ id: newId(), callerId: device.userId, calleeId: input.to, type: input.type, now: this.now() });
    const live: LiveCall = {
      call: ringing,
      offer: input.offer ?? null,
      caller: callDevice(device),
      callee: null,
      heldFromCaller: [],
      heldFromCallee: {},
    };
    return this.deps.queue.run(ringing.id, async () => {
      const inGroupCall = (await this.deps.groupCalls.ofUser(device.userId)) ?? (await this.deps.groupCalls.ofUser(input.to));
      if (inGroupCall || !(await this.deps.live.add(live))) return presentCall(await this.refuseBusy(live));
      // The one thing told before it is stored: the callee's devices ring while the record is written,
      // since a commit under load takes far longer than the ring. The call itself waits: its every
      // change queues behind this task, and the ack, the ring timer and the push follow the commit.
      this.ring(live, callerName);
      try {
        await this.deps.calls.create(ringing);
      } catch (error) {
        await this.unring(live, device.socketId);
        throw error;
      }
      await this.deps.timers.start(ringing.id, 'ring', this.deps.ringTimeoutMs);
      this.deps.events.emit('callRang', {
        callId: ringing.id,
        callType: ringing.type,
        calleeId: ringing.calleeId,
        caller: { id: ringing.callerId, name: callerName },
        ringTimeoutMs: this.deps.ringTimeoutMs,
      });
      return presentCall(ringing);
    });
  }

  /**
   * A call that rang could not be stored: it never existed. Its ringing devices are told it failed, as
   * if the server had restarted; the caller's device gets the error in its ack. Both are free again.
   */
  private async unring(live: LiveCall, callerSocketId: string): Promise<void> {
    await this.deps.live.remove(live.call.id);
    const { notices } = this.decide(live.call, { type: 'server_restart' });
    deliverNotices(this.deps.delivery, live, notices, { actingSocketId: callerSocketId });
  }

  private async refuseBusy(live: LiveCall): Promise<CallRecord> {
    const result = transition(live.call, { type: 'callee_busy' }, this.now());
    if (!result.ok) throw new Error(`a new call cannot be busy: ${result.message}`);
    await this.deps.calls.create(result.call);
    deliverNotices(this.deps.delivery, live, result.notices);
    this.progressed(live.call.status, result.call);
    return result.call;
  }

  private ring(live: LiveCall, callerName: string, socketId?: string): void {
    const incoming = { call: presentCall(live.call), from: { id: live.call.callerId, name: callerName }, offer: live.offer };
    if (socketId) this.deps.delivery.toSockets([socketId], 'CALL_REQUEST', incoming);
    else this.deps.delivery.toUsers([live.call.calleeId], 'CALL_REQUEST', incoming);
  }

  private async ringAgain(live: LiveCall, socketId: string): Promise<void> {
    const caller = await this.deps.users.findById(live.call.callerId);
    this.ring(live, caller?.name ?? '', socketId);
  }

  private async hold(live: LiveCall, party: CallParty, socketId: string, candidate: IceCandidate): Promise<void> {
    const held = party === 'caller' ? live.heldFromCaller : (live.heldFromCallee[socketId] ?? []);
    if (held.length >= MAX_HELD_CANDIDATES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `At most ${MAX_HELD_CANDIDATES} candidates are held until the call is answered`);
    }
    await this.deps.live.save(
      party === 'caller'
        ? { ...live, heldFromCaller: [...held, candidate] }
        : { ...live, heldFromCallee: { ...live.heldFromCallee, [socketId]: [...held, candidate] } },
    );
  }

  private sendCandidate(callId: string, socketId: string, candidate: IceCandidate, from: string): void {
    this.deps.delivery.toSockets([socketId], 'ICE_CANDIDATE', { callId, candidate, from });
  }

  private expire(callId: string, timer: CallTimer, attempt: number): Promise<void> {
    return this.inCall(callId, async () => {
      if (timer === 'store') {
        // Once stopping, stop() makes the last try.
        if (!this.closing) await this.unstored.storeLater(callId, attempt);
        return;
      }
      const live = await this.deps.live.get(callId);
      if (!live) return;
      const event = timerEvent(live.call, timer);
      try {
        if (await this.isDue(live, timer)) await this.change(live, event);
      } catch (error) {
        if (error instanceof AppError) throw error;
        await this.unstored.failed(callId, timer, attempt, error, () => this.giveUp(live, event));
      }
    }).catch((error: unknown) => this.deps.logger.error({ err: error, callId, timer }, 'call timer failed'));
  }

  /** Whether an expiring timer still applies: the call still rings (ring), the party's device is still away (grace). */
  private async isDue(live: LiveCall, timer: ExpiringTimer): Promise<boolean> {
    if (timer === 'ring') return live.call.status === 'ringing';
    const slot = live[graceParty(timer)];
    return !(slot ? slot.connected : await this.hasConnectedDevice(live.call.calleeId));
  }

  /** Ends a call whose timer could not store its outcome, in memory only: the parties are told and free. */
  private async giveUp(live: LiveCall, event: CallEvent): Promise<UnstoredWrite<CallRecord, CallStatus>> {
    const { call, notices } = this.decide(live.call, event);
    await this.forget(call.id);
    deliverNotices(this.deps.delivery, live, notices);
    if (live.call.status === 'ringing') this.stoppedRinging(call);
    this.progressed(live.call.status, call);
    return { record: call, expected: live.call.status };
  }

  private async hasConnectedDevice(userId: string): Promise<boolean> {
    return (await this.deps.presence.onlineAmong([userId])).has(userId);
  }

  /** Runs `task` in the call's queue, as a change stop() waits for. */
  private inCall<T>(callId: string, task: () => Promise<T>): Promise<T> {
    return this.track(this.deps.queue.run(callId, task));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.track(work);
    return work;
  }
}
