import { isInCall, type GroupCallRecord } from './group-call-state-machine.js';

/** One participant's device in a group call: its address for the others, its connection and media state. */
export interface ParticipantDevice {
  userId: string;
  /** Handed to the others as the `to` of signaling; new for every join, so it says nothing about the session. */
  deviceId: string;
  sessionId: string;
  socketId: string;
  /** The server process holding the socket, as in Device. */
  processId: string;
  connected: boolean;
  /** Counts the joins of the call: in a mesh the later joiner of a pair offers. */
  joinOrder: number;
  joinedAt: Date;
  muted: boolean;
  camera: boolean;
}

/** What the server keeps about a group call while it is ringing or accepted, beside the stored record. */
export interface LiveGroupCall {
  /** The record as last stored. */
  call: GroupCallRecord;
  /** The group's title, for the ring. */
  title: string;
  /** The devices in the call, by joinOrder: one per participant. */
  participants: ParticipantDevice[];
  /** Whether the members who are not in the call (and did not decline) are still rung. */
  ringing: boolean;
  /** Members removed from the group while the call ran: never rung again. */
  removed: string[];
  nextJoinOrder: number;
}

/** The members rung for `live` right now: not in it, not declined, not removed, while the ring lasts. */
export function ringingMembers(live: LiveGroupCall): string[] {
  if (!live.ringing) return [];
  return live.call.members
    .filter((member) => !isInCall(member) && member.declinedAt === null && member.userId !== live.call.startedBy && !live.removed.includes(member.userId))
    .map((member) => member.userId);
}

/**
 * Live group calls, found by id, by group (a group has at most one live call), by participant (a user
 * is in at most one group call) and by rung member (a device that connects rings for each). In one
 * process these are maps; with several processes they move to Redis like LiveCalls.
 */
export interface LiveGroupCalls {
  /**
   * Whether calls outlive this process: when they do, a stopping process leaves them to the others (its
   * devices reconnect elsewhere within the grace) instead of ending them.
   */
  readonly sharedAcrossProcesses: boolean;
  /** Adds a new call unless its group already has one; false then. Atomic. */
  add(live: LiveGroupCall): Promise<boolean>;
  get(callId: string): Promise<LiveGroupCall | undefined>;
  ofConversation(conversationId: string): Promise<LiveGroupCall | undefined>;
  /** The call `userId` is in, if any. */
  ofUser(userId: string): Promise<LiveGroupCall | undefined>;
  /** The calls ringing for `userId`. */
  ringingFor(userId: string): Promise<LiveGroupCall[]>;
  save(live: LiveGroupCall): Promise<void>;
  remove(callId: string): Promise<void>;
  all(): Promise<LiveGroupCall[]>;
}

export class InProcessLiveGroupCalls implements LiveGroupCalls {
  readonly sharedAcrossProcesses = false;
  private readonly calls = new Map<string, LiveGroupCall>();
  private readonly callOfConversation = new Map<string, string>();
  private readonly callOfUser = new Map<string, string>();
  private readonly ringingOf = new Map<string, Set<string>>();

  async add(live: LiveGroupCall): Promise<boolean> {
    if (this.callOfConversation.has(live.call.conversationId)) return false;
    this.callOfConversation.set(live.call.conversationId, live.call.id);
    this.calls.set(live.call.id, live);
    this.index(live, true);
    return true;
  }

  async get(callId: string): Promise<LiveGroupCall | undefined> {
    return this.calls.get(callId);
  }

  async ofConversation(conversationId: string): Promise<LiveGroupCall | undefined> {
    const callId = this.callOfConversation.get(conversationId);
    return callId === undefined ? undefined : this.calls.get(callId);
  }

  async ofUser(userId: string): Promise<LiveGroupCall | undefined> {
    const callId = this.callOfUser.get(userId);
    return callId === undefined ? undefined : this.calls.get(callId);
  }

  async ringingFor(userId: string): Promise<LiveGroupCall[]> {
    return [...(this.ringingOf.get(userId) ?? [])].flatMap((callId) => this.calls.get(callId) ?? []);
  }

  async save(live: LiveGroupCall): Promise<void> {
    const previous = this.calls.get(live.call.id);
    if (!previous) return;
    this.index(previous, false);
    this.calls.set(live.call.id, live);
    this.index(live, true);
  }

  async remove(callId: string): Promise<void> {
    const live = this.calls.get(callId);
    if (!live) return;
    this.index(live, false);
    this.calls.delete(callId);
    this.callOfConversation.delete(live.call.conversationId);
  }

  async all(): Promise<LiveGroupCall[]> {
    return [...this.calls.values()];
  }

  private index(live: LiveGroupCall, add: boolean): void {
    const callId = live.call.id;
    for (const { userId } of live.participants) {
      if (add) this.callOfUser.set(userId, callId);
      else if (this.callOfUser.get(userId) === callId) this.callOfUser.delete(userId);
    }
    for (const userId of ringingMembers(live)) {
      const calls = this.ringingOf.get(userId) ?? new Set<string>();
      if (add) calls.add(callId);
      else calls.delete(callId);
      if (calls.size === 0) this.ringingOf.delete(userId);
      else this.ringingOf.set(userId, calls);
    }
  }
}
