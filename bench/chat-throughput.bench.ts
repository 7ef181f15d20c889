/**
 * Chat throughput: 50 pairs of Socket.io clients message each other through the server in its own
 * process, on PGlite and (with DATABASE_URL, in a scratch database) on PostgreSQL.
 *
 * 1. Saturation: every client keeps WINDOW messages in flight until it has sent MESSAGES_PER_SENDER (or
 *    the time budget is spent): messages per second persisted (acknowledged to the sender) and
 *    delivered (received by the peer). Latency here is mostly queueing (in flight / throughput).
 * 2. Half load: the same clients send at a steady half of the saturated rate for PACED_MS: the latency
 *    a message sees when the server is busy but not overloaded.
 * Latency is from the emit to the ack, and from the emit to the peer's CHAT_MESSAGE. Every message must
 * arrive exactly once; the figures say how many did not or arrived twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import type { AuthResponse } from '../src/protocol/auth.js';
import type { ChatMessageEvent } from '../src/protocol/chat.js';
import { report } from './support/report.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { startServerProcess, type BenchDatabase } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const PAIRS = 50;
const WINDOW = 4;
const WARMUP_PER_SENDER = 5;
const MESSAGES_PER_SENDER = 100;
const SATURATION_BUDGET_MS = 60_000;
const PACED_MS = 10_000;
const DRAIN_TIMEOUT_MS = 10_000;

interface Client {
  index: number;
  peerId: string;
  socket: Socket;
}

async function register(baseUrl: string, index: number): Promise<AuthResponse> {
  const response = await fetch(`${baseUrl}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `chat-bench-${index}-${Date.now()}@example.com`, password: 'benchmark password', name: `Bench ${index}` }),
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as AuthResponse;
}

function connect(baseUrl: string, token: string): Promise<Socket> {
  const socket = io(baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Sends messages and records what happens to them; `reset()` starts a new phase. */
class Recorder {
  private sentAt = new Map<string, number>();
  private received = new Set<string>();
  ackMs: number[] = [];
  receiptMs: number[] = [];
  failures = 0;
  duplicates = 0;
  lastAck = 0;
  lastReceipt = 0;

  listen(client: Client): void {
    client.socket.on('CHAT_MESSAGE', ({ message }: ChatMessageEvent) => {
      if (this.received.has(message.id)) this.duplicates += 1;
      this.received.add(message.id);
      const sent = message.clientMessageId ? this.sentAt.get(message.clientMessageId) : undefined;
      if (sent !== undefined) this.receiptMs.push((this.lastReceipt = performance.now()) - sent);
    });
  }

  async send(client: Client, clientMessageId: string): Promise<void> {
    const started = performance.now();
    this.sentAt.set(clientMessageId, started);
    const payload = { to: client.peerId, text: `${clientMessageId} says hello`, clientMessageId };
    const ack = (await client.socket.timeout(30_000).emitWithAck('CHAT_MESSAGE', payload)) as { ok: boolean };
    if (ack.ok) this.ackMs.push((this.lastAck = performance.now()) - started);
    else this.failures += 1;
  }

  /** Waits until every acknowledged message has reached its peer, or the drain timeout. */
  async drained(): Promise<void> {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (this.receiptMs.length < this.ackMs.length && performance.now() < deadline) await sleep(20);
  }

  reset(): void {
    this.sentAt.clear();
    this.ackMs = [];
    this.receiptMs = [];
    this.failures = 0;
    this.duplicates = 0;
  }

  summary() {
    return {
      persisted: this.ackMs.length,
      delivered: this.receiptMs.length,
      failures: this.failures,
      duplicates: this.duplicates,
      sendToAckMs: { p50: round(percentile(this.ackMs, 50)), p99: round(percentile(this.ackMs, 99)) },
      sendToReceiptMs: { p50: round(percentile(this.receiptMs, 50)), p99: round(percentile(this.receiptMs, 99)) },
    };
  }
}

/** Every client keeps WINDOW sends in flight until it has sent `count` or `deadline` passes. */
async function saturate(clients: Client[], recorder: Recorder, tag: string, count: number, deadline: number): Promise<void> {
  await Promise.all(
    clients.flatMap((client) =>
      Array.from({ length: WINDOW }, async (_, lane) => {
        for (let n = lane; n < count && performance.now() < deadline; n += WINDOW) await recorder.send(client, `${tag}-${client.index}-${n}`);
      }),
    ),
  );
}

/** Every client sends on a fixed schedule, not waiting for acks, so that all together send `perSecond`. */
async function pace(clients: Client[], recorder: Recorder, perSecond: number, durationMs: number): Promise<void> {
  const intervalMs = (1000 * clients.length) / perSecond;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      const sends: Promise<void>[] = [];
      // Clients start spread over one interval, so the load is even rather than in bursts.
      for (let n = 0, at = (client.index / clients.length) * intervalMs; at < durationMs; n += 1, at += intervalMs) {
        await sleep(Math.max(0, start + at - performance.now()));
        sends.push(recorder.send(client, `paced-${client.index}-${n}`));
      }
      await Promise.all(sends);
    }),
  );
}

async function measure(database: BenchDatabase) {
  const scratch = database === 'postgres' ? await createScratchDatabase('call_app_bench_chat') : undefined;
  const server = await startServerProcess(database, {
    CHAT_MESSAGES_PER_WINDOW: '100000000',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  });
  const clients: Client[] = [];
  try {
    const accounts: AuthResponse[] = [];
    for (let i = 0; i < PAIRS * 2; i += 1) accounts.push(await register(server.baseUrl, i));
    const sockets = await Promise.all(accounts.map((account) => connect(server.baseUrl, account.accessToken)));
    // Clients 2k and 2k+1 are a pair.
    accounts.forEach((_, index) => clients.push({ index, peerId: accounts[index ^ 1]!.user.id, socket: sockets[index]! }));
    const recorder = new Recorder();
    for (const client of clients) recorder.listen(client);

    await saturate(clients, recorder, 'warmup', WARMUP_PER_SENDER, Number.POSITIVE_INFINITY);
    await recorder.drained();
    recorder.reset();
    await server.eventLoopStats();

    const started = performance.now();
    await saturate(clients, recorder, 'run', MESSAGES_PER_SENDER, started + SATURATION_BUDGET_MS);
    await recorder.drained();
    const saturation = {
      inFlightPerSender: WINDOW,
      persistedPerSecond: round(recorder.ackMs.length / ((recorder.lastAck - started) / 1000)),
      deliveredPerSecond: round(recorder.receiptMs.length / ((recorder.lastReceipt - started) / 1000)),
      ...recorder.summary(),
      serverEventLoopDelayMs: (await server.eventLoopStats()).eventLoopDelayMs,
    };

    recorder.reset();
    const perSecond = Math.round(saturation.persistedPerSecond / 2);
    await pace(clients, recorder, perSecond, PACED_MS);
    await recorder.drained();
    const halfLoad = {
      messagesPerSecond: perSecond,
      durationMs: PACED_MS,
      ...recorder.summary(),
      serverEventLoopDelayMs: (await server.eventLoopStats()).eventLoopDelayMs,
    };
    return { pairs: PAIRS, senders: clients.length, saturation, halfLoad };
  } finally {
    for (const client of clients) client.socket.disconnect();
    await server.stop();
    await scratch?.drop();
  }
}

const databases: BenchDatabase[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
const figures: Record<string, unknown> = {};
for (const database of databases) figures[database] = await measure(database);
await report('chat-throughput', figures);
