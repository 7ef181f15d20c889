import type { CallSignalInput, IceCandidateInput } from '../protocol/call-events.js';
import type { CallTopologyKind } from '../protocol/calls.js';
import type { LiveGroupCall, ParticipantDevice } from './live-group-calls.js';

/**
 * How the media of one group call is routed, chosen when the call starts and kept for its life. The
 * lifecycle (who is in, rings, graces, history) is GroupCallService's and the same for every topology;
 * a topology only carries each participant's signaling and learns who came and went.
 *
 * - mesh (mesh-topology.ts): every pair of devices negotiates directly; a description or candidate
 *   goes to the participant device named by `to`.
 * - sfu: each device negotiates with a forwarding server only; signaling goes to the server's session
 *   for that participant, and what it answers goes back to the device. An SFU implements this same
 *   interface and is passed to GroupCallService as `topologies.sfu`; nothing else changes.
 */
export interface CallTopology {
  readonly kind: CallTopologyKind;
  /** Participants a call of this topology holds at most. */
  readonly maxParticipants: number;
  /** Called in the call's queue, after `live` is stored; throws AppError to refuse. */
  signal(live: LiveGroupCall, from: ParticipantDevice, input: CallSignalInput): Promise<void>;
  candidate(live: LiveGroupCall, from: ParticipantDevice, input: IceCandidateInput): Promise<void>;
  /** `participant` joined `live` (it is among its participants). */
  joined(live: LiveGroupCall, participant: ParticipantDevice): Promise<void>;
  /**
   * `participant`'s device came back within the reconnect grace (on a new socket, after its
   * CALL_STATE) and restarts its media. A mesh needs nothing: each pair restarts ICE by its glare rule.
   */
  reconnected?(live: LiveGroupCall, participant: ParticipantDevice): Promise<void>;
  /** `participant` left `live` (no longer among its participants). */
  left(live: LiveGroupCall, participant: ParticipantDevice): Promise<void>;
  /** The call is over: release whatever the topology holds for it. */
  ended(live: LiveGroupCall): Promise<void>;
  /**
   * Of these live calls of this topology, those whose media went with a server process that is gone
   * (asked by the periodic sweep): they end as media_server_lost. A mesh loses nothing with a process.
   */
  lost?(calls: LiveGroupCall[]): Promise<string[]>;
  /**
   * At shutdown, when the processes share their calls (each of `calls` locked): moves what this process
   * carries of these calls' media to another process, and resolves with the ids of the calls it could
   * not move, which end. A mesh's media never passes a process.
   */
  handOver?(calls: LiveGroupCall[]): Promise<string[]>;
}

export interface CallTopologies {
  mesh: CallTopology;
  /** A forwarding server, when one is configured. */
  sfu?: CallTopology | undefined;
  /** Every group call through the SFU (GROUP_CALL_TOPOLOGY=sfu), not only those of larger groups. */
  sfuForEveryCall?: boolean;
}

/**
 * A call whose group fits a mesh runs as one; a larger group runs through the SFU if there is one,
 * else as a mesh (and fills up at its limit).
 */
export function chooseTopology(topologies: CallTopologies, memberCount: number): CallTopology {
  if (topologies.sfu && (topologies.sfuForEveryCall || memberCount > topologies.mesh.maxParticipants)) return topologies.sfu;
  return topologies.mesh;
}

/** The topology a live call was started with. */
export function topologyOf(topologies: CallTopologies, live: LiveGroupCall): CallTopology {
  const topology = live.call.topology === 'sfu' ? topologies.sfu : topologies.mesh;
  if (!topology) throw new Error(`call ${live.call.id} runs on an ${live.call.topology} that is not configured`);
  return topology;
}
