import type { CallSignalInput, IceCandidateInput } from '../protocol/call-events.js';
import type { Claims } from '../scale-out/claims.js';
import { ProcessGoneError, type ProcessRequests } from '../scale-out/process-requests.js';
import type { Logger } from '../shared/logger.js';
import type { ProcessLiveness } from '../storage/ports.js';
import type { CallTopology } from './call-topology.js';
import type { LiveGroupCall, ParticipantDevice } from './live-group-calls.js';
import { SfuError } from './sfu/sfu-error.js';
import type { SfuHandover } from './sfu/sfu-rooms.js';
import type { SfuTopology } from './sfu-topology.js';

export interface RoutedSfuTopologyDeps {
  /** The rooms this process holds. */
  local: SfuTopology;
  /** Which process holds each call's room, by call id. */
  holders: Claims;
  requests: ProcessRequests;
  processes: Pick<ProcessLiveness, 'id' | 'gone'>;
  /** Calls whose room went with its process: they end (the lifecycle's mediaServerLost). */
  callsLost: (callIds: string[]) => void;
  logger: Logger;
}

/** One operation on a call's room, as another process asks the room's holder for it. */
type RoomRequest =
  | { operation: 'signal'; live: LiveGroupCall; participant: ParticipantDevice; input: CallSignalInput }
  | { operation: 'candidate'; live: LiveGroupCall; participant: ParticipantDevice; input: IceCandidateInput }
  | { operation: 'joined' | 'reconnected' | 'left'; live: LiveGroupCall; participant: ParticipantDevice }
  | { operation: 'ended'; live: LiveGroupCall };

const REQUEST_KIND = 'sfu-room';
/** A stopping holder hands its rooms to another process. */
const ADOPT_KIND = 'sfu-adopt';

/**
 * The SFU topology for any number of processes: a call's room lives in one process, the one whose
 * participant started the call (it holds the Janus session and handles), and every
 * operation on it runs there, whichever process heard the device: asked of the holder when that is
 * another process. The room's offers reach each device's socket on its own process through the
 * shared delivery. A holder that shuts down hands its rooms to another process (handOver); one that
 * dies takes the rooms' media with it: their calls end as media_server_lost (found at the next
 * operation, or by the periodic sweep). One process holds every room itself.
 */
export class RoutedSfuTopology implements CallTopology {
  readonly kind = 'sfu' as const;
  readonly maxParticipants: number;

  constructor(private readonly deps: RoutedSfuTopologyDeps) {
    this.maxParticipants = deps.local.maxParticipants;
    deps.requests.answer(REQUEST_KIND, (request) => this.runHere(request as RoomRequest));
    deps.requests.answer(ADOPT_KIND, async (handover) => deps.local.adopt(handover as SfuHandover));
  }

  signal(live: LiveGroupCall, participant: ParticipantDevice, input: CallSignalInput): Promise<void> {
    return this.route({ operation: 'signal', live, participant, input });
  }

  candidate(live: LiveGroupCall, participant: ParticipantDevice, input: IceCandidateInput): Promise<void> {
    return this.route({ operation: 'candidate', live, participant, input });
  }

  /** The starter's join, the first, makes this process the room's holder. */
  async joined(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    await this.deps.holders.claim(live.call.id, this.deps.processes.id);
    await this.route({ operation: 'joined', live, participant });
  }

  reconnected(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    return this.route({ operation: 'reconnected', live, participant });
  }

  left(live: LiveGroupCall, participant: ParticipantDevice): Promise<void> {
    return this.route({ operation: 'left', live, participant });
  }

  /** The holder destroys the room; when the holder is gone, this process destroys what it left. */
  async ended(live: LiveGroupCall): Promise<void> {
    const holder = await this.deps.holders.holderOf(live.call.id);
    try {
      await this.route({ operation: 'ended', live }, holder);
    } catch (error) {
      if (!(error instanceof SfuError)) this.deps.logger.warn({ err: error, callId: live.call.id }, 'could not have the SFU room of a call that ended destroyed');
    }
    if (holder !== undefined) await this.deps.holders.release(live.call.id, holder);
  }

  async lost(calls: LiveGroupCall[]): Promise<string[]> {
    const holders = await Promise.all(calls.map(({ call }) => this.deps.holders.holderOf(call.id)));
    const others = [...new Set(holders.filter((holder): holder is string => holder !== undefined && holder !== this.deps.processes.id))];
    if (others.length === 0) return [];
    const gone = new Set(await this.deps.processes.gone(others));
    return calls.filter((_, index) => gone.has(holders[index] ?? '')).map(({ call }) => call.id);
  }

  /**
   * The rooms this process holds go to another process, with their Janus session: it resumes the
   * session (Janus keeps it, and queues its events, meanwhile) and the claims pass to it, so media never
   * stops. Run with every one of `calls` locked, so no operation on them runs meanwhile. When no process
   * takes them, they are this process's again and their calls end with it.
   */
  async handOver(calls: LiveGroupCall[]): Promise<string[]> {
    const me = this.deps.processes.id;
    const held = (await Promise.all(calls.map(async ({ call }) => ((await this.deps.holders.holderOf(call.id)) === me ? call.id : undefined)))).filter(
      (callId): callId is string => callId !== undefined,
    );
    if (held.length === 0) return [];
    const handover = await this.deps.local.release();
    if (!handover) return held;
    for (const successor of await this.deps.requests.others()) {
      try {
        await this.deps.requests.ask(successor, ADOPT_KIND, handover);
      } catch (error) {
        this.deps.logger.warn({ err: error, successor }, 'a process would not take over the SFU rooms of this one');
        continue;
      }
      await Promise.all(held.map((callId) => this.deps.holders.pass(callId, me, successor)));
      this.deps.logger.info({ calls: held.length, successor }, 'handed the SFU rooms of this process to another');
      return [];
    }
    await this.deps.local.adopt(handover).catch((error: unknown) => this.deps.logger.error({ err: error }, 'could not take back the SFU rooms nobody took over'));
    return held;
  }

  /** At shutdown, after its rooms were handed over (or their calls ended): whatever is left goes. */
  close(): Promise<void> {
    return this.deps.local.close();
  }

  private async route(request: RoomRequest, known?: string): Promise<void> {
    const holder = known ?? (await this.deps.holders.holderOf(request.live.call.id));
    if (holder === undefined || holder === this.deps.processes.id) return this.runHere(request);
    try {
      await this.deps.requests.ask(holder, REQUEST_KIND, request);
    } catch (error) {
      if (!(error instanceof ProcessGoneError)) throw error;
      if (request.operation === 'ended') return this.deps.local.destroyLeftover(request.live.call.id);
      this.deps.callsLost([request.live.call.id]);
      throw new SfuError('unavailable', { reason: `the process holding the room (${holder}) is gone` });
    }
  }

  private runHere(request: RoomRequest): Promise<void> {
    const { local } = this.deps;
    switch (request.operation) {
      case 'signal':
        return local.signal(request.live, request.participant, request.input);
      case 'candidate':
        return local.candidate(request.live, request.participant, request.input);
      case 'joined':
        return local.joined(request.live, request.participant);
      case 'reconnected':
        return local.reconnected(request.live, request.participant);
      case 'left':
        return local.left(request.live, request.participant);
      case 'ended':
        return local.ended(request.live);
    }
  }
}
