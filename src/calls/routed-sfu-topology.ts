import type { CallSignalInput, IceCandidateInput } from '../protocol/call-events.js';
import type { Claims } from '../scale-out/claims.js';
import { ProcessGoneError, type ProcessRequests } from '../scale-out/process-requests.js';
import type { Logger } from '../shared/logger.js';
import type { ProcessLiveness } from '../storage/ports.js';
import type { CallTopology } from './call-topology.js';
import type { LiveGroupCall, ParticipantDevice } from './live-group-calls.js';
import { SfuError } from './sfu/sfu-error.js';
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

/**
 * The SFU topology for any number of processes: a call's room lives in one process, the one whose
 * participant started the call (it holds the Janus session and handles, which cannot move), and every
 * operation on it runs there, whichever process heard the device: asked of the holder when that is
 * another process. The room's offers reach each device's socket on its own process through the
 * shared delivery. A holder that dies takes the room's media with it: its calls end as
 * media_server_lost (found at the next operation, or by the periodic sweep), and a holder that shuts
 * down ends them first. One process holds every room itself.
 */
export class RoutedSfuTopology implements CallTopology {
  readonly kind = 'sfu' as const;
  readonly maxParticipants: number;

  constructor(private readonly deps: RoutedSfuTopologyDeps) {
    this.maxParticipants = deps.local.maxParticipants;
    deps.requests.answer(REQUEST_KIND, (request) => this.runHere(request as RoomRequest));
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

  /** The room goes with its holder's help; a holder that is gone took it already. */
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

  async outlivesThisProcess(live: LiveGroupCall): Promise<boolean> {
    return (await this.deps.holders.holderOf(live.call.id)) !== this.deps.processes.id;
  }

  /** At shutdown, after the calls it held ended: its rooms left and its Janus session go. */
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
      if (request.operation !== 'ended') this.deps.callsLost([request.live.call.id]);
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
