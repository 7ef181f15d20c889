/**
 * Group-call join time in a mesh: the server in its own process, four werift peers (test/support's
 * MeshParticipant) on loopback, on PGlite and (with DATABASE_URL) on PostgreSQL. Each round a member
 * starts a call in a group of four and the three others join one after another; for the 2nd, 3rd and
 * 4th participant: from sending CALL_JOIN to being connected (ICE and DTLS) with every device already
 * in and holding the first RTP packet from each. The newcomer offers to everyone in (the mesh rule), so
 * the 4th participant sets up three connections at once.
 */
import { callEventOk, callUser, device, type CallUser } from '../test/support/calls.js';
import { MeshParticipant } from '../test/support/call-peers.js';
import { groupCallOk } from '../test/support/group-calls.js';
import { createGroup } from '../test/support/groups.js';
import { closeAllSockets } from '../test/support/sockets.js';
import { report } from './support/report.js';
import { startServerProcess, type BenchDatabase } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const PARTICIPANTS = 4;
const ROUNDS = { tiny: 2, quick: 5, full: 15 }[process.env['BENCH_SIZE'] ?? 'full'] ?? 15;
const MEDIA_TIMEOUT_MS = 20_000;

async function oneRound(members: CallUser[], groupId: string): Promise<number[]> {
  const peers = members.map((member) => new MeshParticipant(device(member)));
  const joinMs: number[] = [];
  try {
    const started = await groupCallOk(device(members[0]!), 'CALL_REQUEST', { conversationId: groupId, type: 'audio' });
    await peers[0]!.entered(started);
    for (const peer of peers.slice(1)) {
      const sent = performance.now();
      const joined = await groupCallOk(peer.socket, 'CALL_JOIN', { callId: started.call.id });
      await peer.entered(joined);
      await peer.mediaFrom(joined.participants.filter((other) => other.deviceId !== joined.you.deviceId).map((other) => other.deviceId), MEDIA_TIMEOUT_MS, 1);
      joinMs.push(performance.now() - sent);
    }
    for (const member of members) await callEventOk(device(member), 'CALL_ENDED', { callId: started.call.id });
    return joinMs;
  } finally {
    await Promise.all(peers.map((peer) => peer.close()));
  }
}

async function measure(database: BenchDatabase) {
  const server = await startServerProcess(database, { GROUP_CALL_JOINS_PER_MINUTE: '1000000', GROUP_CALL_MESH_MAX: String(PARTICIPANTS) });
  try {
    const members = await Promise.all(Array.from({ length: PARTICIPANTS }, (_, index) => callUser(server.baseUrl, `Member ${index}`)));
    const group = await createGroup(server.baseUrl, members[0]!.tokens[0]!, 'Bench', members.slice(1).map((member) => member.id));
    const byPosition: number[][] = Array.from({ length: PARTICIPANTS - 1 }, () => []);
    for (let r = 0; r < ROUNDS; r += 1) {
      (await oneRound(members, group.id)).forEach((ms, index) => byPosition[index]!.push(ms));
    }
    closeAllSockets();
    return Object.fromEntries(
      byPosition.map((values, index) => [
        `participant${index + 2}`,
        { p50Ms: round(percentile(values, 50)), p95Ms: round(percentile(values, 95)), maxMs: round(Math.max(...values)) },
      ]),
    );
  } finally {
    await server.stop();
  }
}

const databases: BenchDatabase[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
const results: Record<string, unknown> = {};
for (const database of databases) results[database] = await measure(database);
await report('group-call-join', { rounds: ROUNDS, participants: PARTICIPANTS, topology: 'mesh', joinTime: results });
