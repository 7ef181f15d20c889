/**
 * Call-setup signaling latency: 100 callers each call their own callee at the same moment, and we
 * measure from CALL_REQUEST sent to the callee receiving it (p50/p99), and the caller's ack. Every call
 * is then accepted and hung up; a few rounds give the sample. First, as a baseline, calls one at a
 * time. Bounded: 50 + 100 x ROUNDS calls, loopback only, on PGlite and (with DATABASE_URL) PostgreSQL.
 */
import { io, type Socket } from 'socket.io-client';
import { report } from './support/report.js';
import { startServerProcess, type BenchDatabase } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const CALLS = 100;
const ROUNDS = 5;
const SEQUENTIAL_CALLS = 50;
// A browser's audio+video offer before gathering is 4-6 KB.
const OFFER = { type: 'offer', sdp: `v=0\r\n${'a=x-bench-attribute-line-of-a-realistic-length\r\n'.repeat(100)}` };

interface Ack {
  ok: boolean;
  call?: { id: string };
  error?: unknown;
}

async function user(baseUrl: string, index: number): Promise<{ id: string; socket: Socket }> {
  const response = await fetch(`${baseUrl}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-call-${Date.now()}-${index}@example.com`, password: 'benchmark password', name: `Bench ${index}` }),
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status}`);
  const { user: registered, accessToken } = (await response.json()) as { user: { id: string }; accessToken: string };
  const socket = io(baseUrl, { auth: { token: accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return { id: registered.id, socket };
}

async function emitAck(socket: Socket, event: string, payload: unknown): Promise<Ack> {
  const ack = (await socket.timeout(10_000).emitWithAck(event, payload)) as Ack;
  if (!ack.ok) throw new Error(`${event} refused: ${JSON.stringify(ack.error)}`);
  return ack;
}

async function measure(database: BenchDatabase) {
  const server = await startServerProcess(database, { RATE_LIMIT_AUTH_PER_IP: '1000000' });
  try {
    const users: { id: string; socket: Socket }[] = [];
    // Registration hashes passwords (argon2id): in small batches, so it does not dominate the run.
    for (let start = 0; start < CALLS * 2; start += 20) {
      users.push(...(await Promise.all(Array.from({ length: 20 }, (_, offset) => user(server.baseUrl, start + offset)))));
    }
    const pairs = Array.from({ length: CALLS }, (_, index) => ({ caller: users[2 * index]!, callee: users[2 * index + 1]! }));

    const delivered: number[] = [];
    const acked: number[] = [];
    const setUpAndHangUp = async ({ caller, callee }: (typeof pairs)[number]) => {
      const rang = new Promise<number>((resolve) => callee.socket.once('CALL_REQUEST', () => resolve(performance.now())));
      const sent = performance.now();
      const ack = await emitAck(caller.socket, 'CALL_REQUEST', { to: callee.id, type: 'video', offer: OFFER });
      acked.push(performance.now() - sent);
      delivered.push((await rang) - sent);
      const callId = ack.call!.id;
      await emitAck(callee.socket, 'CALL_ACCEPT', { callId, answer: { type: 'answer', sdp: OFFER.sdp } });
      await emitAck(caller.socket, 'CALL_ENDED', { callId });
    };
    // The baseline: one call at a time.
    for (const pair of pairs.slice(0, SEQUENTIAL_CALLS)) await setUpAndHangUp(pair);
    const alone = delivered.splice(0);
    acked.length = 0;
    await server.eventLoopStats();
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) await Promise.all(pairs.map(setUpAndHangUp));
    const loop = await server.eventLoopStats();
    for (const { socket } of users) socket.disconnect();
    return {
      oneAtATime: { calls: alone.length, requestToCalleeMs: { p50: round(percentile(alone, 50)), p99: round(percentile(alone, 99)) } },
      calls: delivered.length,
      concurrentCalls: CALLS,
      requestToCalleeMs: { p50: round(percentile(delivered, 50)), p99: round(percentile(delivered, 99)), max: round(Math.max(...delivered)) },
      requestToAckMs: { p50: round(percentile(acked, 50)), p99: round(percentile(acked, 99)) },
      serverEventLoopDelayMs: loop.eventLoopDelayMs,
    };
  } finally {
    await server.stop();
  }
}

const databases: BenchDatabase[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
const figures: Record<string, unknown> = { offerBytes: OFFER.sdp.length, rounds: ROUNDS };
for (const database of databases) figures[database] = await measure(database);
await report('call-setup', figures);
