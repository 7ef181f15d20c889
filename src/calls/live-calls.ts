import type { IceCandidate, SessionDescription } from '../protocol/call-events.js';
import type { CallRecord } from './call-state-machine.js';

/**
 * One connection of one signed-in device: the session tells the device, the socket its current
 * connection. A device that reconnects keeps its session and gets a new socket.
 */
export interface Device {
  userId: string;
  sessionId: string;
  socketId: string;
  /** The server process holding the socket (its storage liveness id): when it dies, so does the socket. */
  processId: string;
}

/** The device a party takes part in a call with, and whether it is connected now. */
export interface CallDevice {
  sessionId: string;
  socketId: string;
  processId: string;
  connected: boolean;
}

/** `device`, connected, as the one its user takes part in a call with. */
export function callDevice(device: Device): CallDevice {
  return { sessionId: device.sessionId, socketId: device.socketId, processId: device.processId, connected: true };
}

/** What the server keeps about a call while it is ringing or accepted, beside the stored record. */
export interface LiveCall {
  /** The record as last stored. */
  call: CallRecord;
  offer: SessionDescription | null;
  caller: CallDevice;
  /** The device that accepted; null while ringing, when every device of the callee rings. */
  callee: CallDevice | null;
  /** The caller's candidates sent before the answer, for the device that accepts. */
  heldFromCaller: IceCandidate[];
  /** Each ringing callee socket's candidates sent before its accept went through, by socket id. */
  heldFromCallee: Record<string, IceCandidate[]>;
}

/**
 * Who is in which call. A user is in at most one call at a time (ringing or accepted, as caller or
 * callee); anything else is busy. In one process this is a map; with several processes it moves to a
 * shared store (Redis), where `add` is one atomic check-and-set over both users.
 */
export interface LiveCalls {
  /**
   * Whether calls outlive this process: when they do, a stopping process leaves them to the others (its
   * devices reconnect elsewhere within the grace) instead of ending them.
   */
  readonly sharedAcrossProcesses: boolean;
  /** Adds a ringing call unless its caller or callee is already in one; false then (busy). Atomic. */
  add(live: LiveCall): Promise<boolean>;
  get(callId: string): Promise<LiveCall | undefined>;
  /** The call `userId` is in, if any. */
  ofUser(userId: string): Promise<LiveCall | undefined>;
  /** Replaces the call's entry (the call id and parties never change). */
  save(live: LiveCall): Promise<void>;
  remove(callId: string): Promise<void>;
  all(): Promise<LiveCall[]>;
}

export class InProcessLiveCalls implements LiveCalls {
  readonly sharedAcrossProcesses = false;
  private readonly calls = new Map<string, LiveCall>();
  private readonly callOfUser = new Map<string, string>();

  async add(live: LiveCall): Promise<boolean> {
    const { id, callerId, calleeId } = live.call;
    if (this.callOfUser.has(callerId) || this.callOfUser.has(calleeId)) return false;
    this.calls.set(id, live);
    this.callOfUser.set(callerId, id);
    this.callOfUser.set(calleeId, id);
    return true;
  }

  async get(callId: string): Promise<LiveCall | undefined> {
    return this.calls.get(callId);
  }

  async ofUser(userId: string): Promise<LiveCall | undefined> {
    const callId = this.callOfUser.get(userId);
    return callId === undefined ? undefined : this.calls.get(callId);
  }

  async save(live: LiveCall): Promise<void> {
    if (this.calls.has(live.call.id)) this.calls.set(live.call.id, live);
  }

  async remove(callId: string): Promise<void> {
    const live = this.calls.get(callId);
    if (!live) return;
    this.calls.delete(callId);
    this.callOfUser.delete(live.call.callerId);
    this.callOfUser.delete(live.call.calleeId);
  }

  async all(): Promise<LiveCall[]> {
    return [...this.calls.values()];
  }
}
