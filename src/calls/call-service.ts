import type { CallAcceptInput, CallRequestInput, CallSignalInput, IceCandidate, IceCandidateInput } from '../protocol/call-events.js';
import type { CallDto, CallHistoryQuery, CallHistoryResponse } from '../protocol/calls.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import { newId } from '../shared/ids.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import type { Logger } from '../shared/logger.js';
import { paginate } from '../shared/pagination.js';
import type { CallsRepository, UsersRepository } from '../storage/ports.js';
import { deliverNotices } from './call-notices.js';
import { presentCall } from './call-presenter.js';
import {
  createRingingCall,
  isFinalStatus,
  partyOf,
  transition,
  type CallEvent,
  type CallParty,
  type CallRecord,
} from './call-state-machine.js';
import type { CallTimer, CallTimers } from './call-timers.js';
import { callDevice, type CallDevice, type Device, type LiveCall, type LiveCalls } from './live-calls.js';

/** Candidates a device may send before the call is answered; a real client gathers a few dozen at most. */
export const MAX_HELD_CANDIDATES = 100;

export interface CallServiceDeps {
  calls: CallsRepository;
  users: UsersRepository;
  live: LiveCalls;
  timers: CallTimers;
  delivery: Delivery;
  logger: Logger;
  ringTimeoutMs: number;
  reconnectGraceMs: number;
  now?: () => Date;
}

const otherParty = (party: CallParty): CallParty => (party === 'caller' ? 'callee' : 'caller');

/**
 * The life of calls: requests, answers, hang-ups, timers, devices that drop and come back, relayed
 * signaling. Every change of a call runs in that call's queue (one at a time, in arrival order), is
 * decided by the state machine, stored as a compare-and-set on the status it started from, and only
 * then told to the parties.
 */
export class CallService {
  private readonly queue = new KeyedQueue();
  private readonly now: () => Date;
  private closing = false;

  constructor(private readonly deps: CallServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    deps.timers.onExpiry((callId, timer) => void this.expire(callId, timer));
  }

  async request(device: Device, input: CallRequestInput): Promise<CallDto> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The server is shutting down; call again in a moment');
    if (input.to === device.userId) {
      throw new AppError('VALIDATION_FAILED', 'You cannot call yourself', { details: [{ path: 'to', message: 'must be another user' }] });
    }
    // Both parties in one query: only active users are found.
    const people = await this.deps.users.findPeople([device.userId, input.to]);
    const caller = people.find((person) => person.id === device.userId);
    const callee = people.find((person) => person.id === input.to);
    if (!caller) throw new AppError('UNAUTHORIZED', 'Sign in again');
    if (!callee) throw new AppError('NOT_FOUND', 'No such user');
    const ringing = createRingingCall({ id: newId(), callerId: caller.id, calleeId: callee.id, type: input.type, now: this.now() });
    const live: LiveCall = {
      call: ringing,
      offer: input.offer ?? null,
      caller: callDevice(device),
      callee: null,
      heldFromCaller: [],
      heldFromCallee: {},
    };
    return this.queue.run(ringing.id, async () => {
      if (!(await this.deps.live.add(live))) return presentCall(await this.refuseBusy(live));
      try {
        await this.deps.calls.create(ringing);
      } catch (error) {
        await this.deps.live.remove(ringing.id);
        throw error;
      }
      await this.deps.timers.start(ringing.id, 'ring', this.deps.ringTimeoutMs);
      this.ring(live, caller.name);
      return presentCall(ringing);
    });
  }

  accept(device: Device, input: CallAcceptInput): Promise<CallDto> {
    return this.queue.run(input.callId, async () => {
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
    return this.queue.run(input.callId, async () => {
      const { live, party } = await this.liveCall(input.callId, device);
      if (live.call.status === 'ringing') return this.hold(live, party, device.socketId, input.candidate);
      const to = live[otherParty(party)];
      if (to) this.sendCandidate(input.callId, to.socketId, input.candidate, device.userId);
    });
  }

  /** Renegotiation of an accepted call (ICE restart, adding or removing video): relayed to the other device. */
  relaySignal(device: Device, input: CallSignalInput): Promise<void> {
    return this.queue.run(input.callId, async () => {
      const { live, party } = await this.liveCall(input.callId, device);
      if (live.call.status !== 'accepted') throw new AppError('INVALID_STATE', 'Renegotiate once the call is accepted');
      const to = live[otherParty(party)];
      if (to) this.deps.delivery.toSockets([to.socketId], 'CALL_SIGNAL', { callId: input.callId, description: input.description, from: device.userId });
    });
  }

  /**
   * A device connected. While its user's call rings for them, it rings too (unless the connection was
   * recovered and missed nothing). When it is the device the user is in a call with, coming back, it
   * takes the call over with its new connection, the reconnect grace stops, and it gets CALL_STATE.
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
        if (!(await this.deps.delivery.hasConnectedDevice(device.userId))) {
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

  async history(userId: string, query: CallHistoryQuery): Promise<CallHistoryResponse> {
    const rows = await this.deps.calls.listForUser(userId, {
      before: query.before,
      limit: query.limit + 1,
      statuses: query.status,
      direction: query.direction,
    });
    const { items, nextCursor } = paginate(rows, query.limit, (call) => call.id);
    return { calls: items.map(presentCall), nextCursor };
  }

  /** At start-up: closes, as failed with reason server_restart, the live calls of processes that died. */
  async closeOrphans(): Promise<void> {
    let closed = 0;
    for (const call of await this.deps.calls.listOrphaned()) {
      const result = transition(call, { type: 'server_restart' }, this.now());
      if (result.ok && (await this.deps.calls.update(result.call, call.status))) closed += 1;
    }
    if (closed > 0) this.deps.logger.info({ calls: closed }, 'closed the calls a stopped process left open');
  }

  /** At shutdown: refuses new calls and ends every live one (server_restart), telling both parties. */
  async stop(): Promise<void> {
    this.closing = true;
    const lives = await this.deps.live.all();
    await Promise.all(
      lives.map((live) =>
        this.queue
          .run(live.call.id, async () => {
            const current = await this.deps.live.get(live.call.id);
            if (current) await this.change(current, { type: 'server_restart' });
          })
          .catch((error: unknown) => this.deps.logger.error({ err: error, callId: live.call.id }, 'could not end a call at shutdown')),
      ),
    );
  }

  private act(device: Device, callId: string, event: CallEvent): Promise<CallDto> {
    return this.queue.run(callId, async () => {
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
    const result = transition(live.call, event, this.now());
    if (!result.ok) throw new AppError(result.code, result.message);
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
    return call;
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
    const call = live?.call ?? (await this.deps.calls.findById(callId));
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
    await this.queue.run(found.call.id, async () => {
      const live = await this.deps.live.get(found.call.id);
      const party = live && partyOf(live.call, userId);
      if (live && party && !this.closing) await task(live, party);
    });
  }

  private async refuseBusy(live: LiveCall): Promise<CallRecord> {
    const result = transition(live.call, { type: 'callee_busy' }, this.now());
    if (!result.ok) throw new Error(`a new call cannot be busy: ${result.message}`);
    await this.deps.calls.create(result.call);
    deliverNotices(this.deps.delivery, live, result.notices);
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

  private async expire(callId: string, timer: CallTimer): Promise<void> {
    try {
      await this.queue.run(callId, async () => {
        const live = await this.deps.live.get(callId);
        if (!live) return;
        if (timer === 'ring') {
          if (live.call.status === 'ringing') await this.change(live, { type: 'ring_timeout' });
          return;
        }
        const party: CallParty = timer === 'caller-grace' ? 'caller' : 'callee';
        if (await this.isPresent(live, party)) return;
        const userId = party === 'caller' ? live.call.callerId : live.call.calleeId;
        await this.change(live, { type: 'party_lost', userId });
        // Also to the lost device itself: should its connection be recovered, it learns the call is over.
        deliverNotices(this.deps.delivery, live, [{ to: party, kind: 'ended', reason: 'connection_lost' }]);
      });
    } catch (error) {
      this.deps.logger.error({ err: error, callId, timer }, 'call timer failed');
    }
  }

  private async isPresent(live: LiveCall, party: CallParty): Promise<boolean> {
    const slot = live[party];
    return slot ? slot.connected : this.deps.delivery.hasConnectedDevice(live.call.calleeId);
  }
}
