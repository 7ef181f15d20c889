/**
 * Group-call join time in both topologies, and the server's CPU per participant through the SFU. The
 * server runs in its own process (PGlite), every participant is a werift peer of this process driven
 * only through the server's signaling (test/support's MeshParticipant and SfuCallDevice), and Janus is
 * the test suites' (test/support/janus.ts), so this file, like the Janus suites, runs itself in a
 * network namespace of its own.
 *
 * Each round a member starts a call in a group of PARTICIPANTS and the others join one after another.
 * Join time, for the nth participant: from sending CALL_JOIN to having its connection(s) up (in a mesh,
 * one with every device already in; through the SFU, its publish and subscribe connections) and the
 * first RTP from every participant already in. Then, with everyone in, the server's CPU time (all its
 * threads, process.cpuUsage) over a steady window, less the same server's idle CPU over as long once
 * the call is over, per participant and second; through the SFU also Janus's (it forwards the media; /proc). There is
 * no relay baseline: a bare Socket.io relay has no calls to compare with.
 */
// First: outside its namespace this runs the same file again inside one.
import '../test/support/janus-network.js';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { MeshParticipant } from '../test/support/call-peers.js';
import { callEventOk, callUser, device, sleep, type CallUser } from '../test/support/calls.js';
import { groupCallOk } from '../test/support/group-calls.js';
import { createGroup } from '../test/support/groups.js';
import { SfuCallDevice } from '../test/support/janus-peers.js';
import { janusSkip, startJanus, type JanusServer } from '../test/support/janus.js';
import { closeAllSockets } from '../test/support/sockets.js';
import { report } from './support/report.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

type Topology = 'mesh' | 'sfu';

const SIZE = process.env['BENCH_SIZE'] ?? 'full';
const PARTICIPANTS = 8;
/** The participants whose join time is reported (the figures), of the 2nd..PARTICIPANTS-th measured. */
const REPORTED = [2, 4, 8];
const ROUNDS = { tiny: 1, quick: 2, full: 5 }[SIZE] ?? 5;
const STEADY_MS = { tiny: 1_000, quick: 3_000, full: 10_000 }[SIZE] ?? 10_000;
const SETTLE_MS = 1_000;
const MEDIA_TIMEOUT_MS = 30_000;

interface Round {
  /** Join time of the 2nd, 3rd... participant, in ms. */
  joinMs: number[];
  /** CPU time over the steady window, in ms per second: the server's, and Janus's; then idle, after the call. */
  cpu: Cpu;
  idle: Cpu;
}

interface Cpu {
  server: number;
  janus: number;
}

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time Janus (this process's child `janus`) has used, in ms: utime + stime of /proc/<pid>/stat. */
async function janusCpuMs(): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ... utime stime: fields 14 and 15, the 12th and 13th after the comm.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm === 'janus' && Number(fields[1]) === process.pid) return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  }
  return 0;
}

/** The server's and Janus's CPU over `ms` of whatever runs now, in ms per second. */
async function cpuOver(server: ServerProcess, ms: number): Promise<Cpu> {
  const [serverBefore, janusBefore] = [await server.cpuMicros(), await janusCpuMs()];
  const started = performance.now();
  await sleep(ms);
  const [serverAfter, janusAfter] = [await server.cpuMicros(), await janusCpuMs()];
  const seconds = (performance.now() - started) / 1000;
  return { server: (serverAfter - serverBefore) / 1000 / seconds, janus: (janusAfter - janusBefore) / seconds };
}

/** A participant device of either topology, as the round drives it. */
interface Joiner {
  /** Sends CALL_JOIN (or, for the first, CALL_REQUEST) and resolves once it has media from everyone in before it. */
  enter(first: boolean, id: string, before: number): Promise<string>;
  close(): Promise<void>;
}

function meshJoiner(member: CallUser): Joiner {
  const peer = new MeshParticipant(device(member));
  return {
    async enter(first, id) {
      const joined = await groupCallOk(peer.socket, first ? 'CALL_REQUEST' : 'CALL_JOIN', first ? { conversationId: id, type: 'audio' } : { callId: id });
      await peer.entered(joined);
      await peer.mediaFrom(joined.participants.filter((other) => other.deviceId !== joined.you.deviceId).map((other) => other.deviceId), MEDIA_TIMEOUT_MS, 1);
      return joined.call.id;
    },
    close: () => peer.close(),
  };
}

function sfuJoiner(member: CallUser, labels: string[]): Joiner {
  const one = new SfuCallDevice(device(member), member.name);
  return {
    async enter(first, id, before) {
      const joined = await one.enter(first ? 'CALL_REQUEST' : 'CALL_JOIN', id);
      await one.media.waitForMediaFrom(labels.slice(0, before), ['audio'], MEDIA_TIMEOUT_MS);
      return joined.call.id;
    },
    close: () => one.close(),
  };
}

async function oneRound(server: ServerProcess, topology: Topology, members: CallUser[], groupId: string): Promise<Round> {
  const labels = members.map((member) => member.name);
  const joiners = members.map((member) => (topology === 'mesh' ? meshJoiner(member) : sfuJoiner(member, labels)));
  const joinMs: number[] = [];
  let cpu: Cpu;
  try {
    const callId = await joiners[0]!.enter(true, groupId, 0);
    for (const [index, joiner] of joiners.entries()) {
      if (index === 0) continue;
      const sent = performance.now();
      await joiner.enter(false, callId, index);
      joinMs.push(performance.now() - sent);
    }
    await sleep(SETTLE_MS);
    cpu = await cpuOver(server, STEADY_MS);
    for (const member of members) await callEventOk(device(member), 'CALL_ENDED', { callId });
  } finally {
    await Promise.all(joiners.map((joiner) => joiner.close()));
  }
  await sleep(SETTLE_MS);
  return { joinMs, cpu, idle: await cpuOver(server, STEADY_MS) };
}

async function measure(topology: Topology, janus: JanusServer | undefined) {
  const env: Record<string, string> = {
    GROUP_CALL_JOINS_PER_MINUTE: '1000000',
    GROUP_CALL_MAX_PARTICIPANTS: String(PARTICIPANTS),
    // The mesh's default limit is 4: raised so that an 8-participant mesh can be measured at all.
    GROUP_CALL_MESH_MAX: String(PARTICIPANTS),
    ...(janus ? { JANUS_URL: janus.url, JANUS_API_SECRET: janus.apiSecret!, JANUS_ADMIN_KEY: janus.adminKey!, GROUP_CALL_TOPOLOGY: 'sfu' } : {}),
  };
  const server = await startServerProcess('pglite', env);
  try {
    const members = await Promise.all(Array.from({ length: PARTICIPANTS }, (_, index) => callUser(server.baseUrl, `Member ${index + 1}`)));
    const group = await createGroup(server.baseUrl, members[0]!.tokens[0]!, 'Bench', members.slice(1).map((member) => member.id));
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round += 1) rounds.push(await oneRound(server, topology, members, group.id));
    closeAllSockets();
    const joinTime = Object.fromEntries(
      REPORTED.map((nth) => {
        const values = rounds.map((entry) => entry.joinMs[nth - 2]!);
        return [`participant${nth}`, { p50Ms: round(percentile(values, 50)), maxMs: round(Math.max(...values)) }];
      }),
    );
    const perParticipant = (of: keyof Cpu) => {
      const values = rounds.map((entry) => (entry.cpu[of] - entry.idle[of]) / PARTICIPANTS);
      return { p50: round(percentile(values, 50), 2), max: round(Math.max(...values), 2) };
    };
    return {
      joinTime,
      idleCpuMsPerSecond: { server: round(percentile(rounds.map((entry) => entry.idle.server), 50), 2), janus: round(percentile(rounds.map((entry) => entry.idle.janus), 50), 2) },
      cpuMsPerSecondPerParticipant: { server: perParticipant('server'), ...(topology === 'sfu' ? { janus: perParticipant('janus') } : {}) },
    };
  } finally {
    await server.stop();
  }
}

const skip = janusSkip();
if (skip) throw new Error(`the group-call benchmark needs Janus and its network namespace: ${skip}`);
const janus = await startJanus();
try {
  const results = { mesh: await measure('mesh', undefined), sfu: await measure('sfu', janus) };
  await report('group-call-topologies', { size: SIZE, rounds: ROUNDS, participants: PARTICIPANTS, steadyWindowMs: STEADY_MS, database: 'pglite', results });
} finally {
  await janus.stop();
}
