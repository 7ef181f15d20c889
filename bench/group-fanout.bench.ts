/**
 * Group chat: fan-out to a large group and throughput into a busy one, against the server in its own
 * process, on PGlite and (with DATABASE_URL, in a scratch database) on PostgreSQL. Users register
 * through the API; groups are made through it too, 100 members per request.
 *
 * 1. Busy group: 50 members, all connected, each keeping WINDOW messages in flight until it has sent
 *    MESSAGES_PER_SENDER (or the time budget is spent): messages per second stored (acknowledged to the
 *    sender) and delivered (received by every one of the 49 other members' sockets), at saturation.
 * 2. Fan-out: a 1,000-member group with FANOUT_RECEIVERS members connected. Its owner sends
 *    FANOUT_MESSAGES messages one at a time: from the emit to the ack, and to the first and the last of
 *    those sockets receiving it. The other members are offline, so every message also goes through the
 *    push notifier for them, as it would in production (they have no push tokens, so nothing is sent).
 * Every message must reach every member socket exactly once; the figures say how many did not, or twice.
 * The clients run in this process, which reports its CPU share: at saturation it competes with the
 * server (and PostgreSQL) for the machine's cores.
 * The busy group runs first, so the fan-out's push work cannot leak into it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import type { ChatMessageEvent } from '../src/protocol/chat.js';
import type { ConversationResponse } from '../src/protocol/conversations.js';
import { registerUser, request } from '../test/support/http.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { report } from './support/report.js';
import { startServerProcess, type BenchDatabase } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const GROUP_SIZE = 1000;
const FANOUT_RECEIVERS = 200;
const FANOUT_WARMUP = 3;
const FANOUT_MESSAGES = 50;
const BUSY_GROUP_SIZE = 50;
const WINDOW = 4;
const WARMUP_PER_SENDER = 3;
const MESSAGES_PER_SENDER = 40;
const SATURATION_BUDGET_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 30_000;
/** Registrations at once: each hashes a password (argon2id) on the server's thread pool. */
const REGISTER_CONCURRENCY = 25;
const ADD_BATCH = 100;

interface Member {
  id: string;
  token: string;
}

interface Pending {
  sentAt: number;
  expected: number;
  received: number;
  complete: () => void;
}

/** CPU this load generator spent since `since` (process.cpuUsage()), in percent of one core over `wallMs`. */
const cpuPercent = (since: NodeJS.CpuUsage, wallMs: number) => {
  const used = process.cpuUsage(since);
  return round(((used.user + used.system) / 1000 / wallMs) * 100);
};

const ms = (values: number[]) => ({ p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) });

async function registerMembers(baseUrl: string, count: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let start = 0; start < count; start += REGISTER_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(REGISTER_CONCURRENCY, count - start) }, (_, offset) => registerUser(baseUrl, `Group Bench ${start + offset}`));
    for (const registered of await Promise.all(batch)) members.push({ id: registered.user.id, token: registered.accessToken });
  }
  return members;
}

async function groupRequest(baseUrl: string, token: string, method: string, path: string, body: unknown, status: number): Promise<string> {
  const result = await request<ConversationResponse>(baseUrl, method, `/api/chat/groups${path}`, { token, body });
  if (result.status !== status) throw new Error(`${method} /api/chat/groups${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.conversation.id;
}

/** Creates a group of `owner` and `others`, ADD_BATCH members per request; the time each request took. */
async function createGroup(baseUrl: string, owner: Member, others: Member[], title: string): Promise<{ id: string; requestMs: number[] }> {
  const ids = others.map((member) => member.id);
  const requestMs: number[] = [];
  let started = performance.now();
  // The creator is one of the first hundred.
  const id = await groupRequest(baseUrl, owner.token, 'POST', '', { title, memberIds: ids.slice(0, ADD_BATCH - 1) }, 201);
  requestMs.push(performance.now() - started);
  for (let start = ADD_BATCH - 1; start < ids.length; start += ADD_BATCH) {
    started = performance.now();
    await groupRequest(baseUrl, owner.token, 'POST', `/${id}/members`, { userIds: ids.slice(start, start + ADD_BATCH) }, 200);
    requestMs.push(performance.now() - started);
  }
  return { id, requestMs };
}

function connect(baseUrl: string, token: string): Promise<Socket> {
  const socket = io(baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Sends group messages and follows each to every member socket; `reset()` starts a new phase. */
class Recorder {
  private pending = new Map<string, Pending>();
  ackMs: number[] = [];
  firstReceiptMs: number[] = [];
  lastReceiptMs: number[] = [];
  failures = 0;
  duplicates = 0;
  /** Receipts beyond a message's expected count: a socket that should not have had it. */
  unexpected = 0;
  socketDeliveries = 0;
  lastAck = 0;
  lastDelivered = 0;

  listen(socket: Socket): void {
    const seen = new Set<string>();
    socket.on('CHAT_MESSAGE', ({ message }: ChatMessageEvent) => {
      if (seen.has(message.id)) this.duplicates += 1;
      seen.add(message.id);
      const pending = message.clientMessageId ? this.pending.get(message.clientMessageId) : undefined;
      if (!pending) return;
      const now = performance.now();
      this.socketDeliveries += 1;
      pending.received += 1;
      if (pending.received === 1) this.firstReceiptMs.push(now - pending.sentAt);
      if (pending.received === pending.expected) {
        this.lastReceiptMs.push((this.lastDelivered = now) - pending.sentAt);
        pending.complete();
      }
      if (pending.received > pending.expected) this.unexpected += 1;
    });
  }

  /** Resolves once acknowledged (or refused); `delivered` once `receivers` sockets have the message. */
  send(socket: Socket, conversationId: string, clientMessageId: string, receivers: number): { acked: Promise<void>; delivered: Promise<void> } {
    let complete!: () => void;
    const delivered = new Promise<void>((resolve) => (complete = resolve));
    const sentAt = performance.now();
    this.pending.set(clientMessageId, { sentAt, expected: receivers, received: 0, complete });
    const payload = { conversationId, text: `${clientMessageId} says hello`, clientMessageId };
    const acked = (socket.timeout(DELIVERY_TIMEOUT_MS).emitWithAck('CHAT_MESSAGE', payload) as Promise<{ ok: boolean }>).then(
      (ack) => {
        if (ack.ok) this.ackMs.push((this.lastAck = performance.now()) - sentAt);
        else this.failures += 1;
      },
      () => {
        this.failures += 1;
      },
    );
    return { acked, delivered };
  }

  /** Waits until every acknowledged message has reached all its sockets, or the delivery timeout. */
  async drained(): Promise<void> {
    const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
    while (this.lastReceiptMs.length < this.ackMs.length && performance.now() < deadline) await sleep(20);
  }

  reset(): void {
    this.pending.clear();
    this.ackMs = [];
    this.firstReceiptMs = [];
    this.lastReceiptMs = [];
    this.failures = 0;
    this.duplicates = 0;
    this.unexpected = 0;
    this.socketDeliveries = 0;
  }

  summary() {
    return {
      stored: this.ackMs.length,
      deliveredToAll: this.lastReceiptMs.length,
      socketDeliveries: this.socketDeliveries,
      failures: this.failures,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      sendToAckMs: ms(this.ackMs),
      sendToFirstReceiverMs: ms(this.firstReceiptMs),
      sendToLastReceiverMs: { ...ms(this.lastReceiptMs), max: round(Math.max(...this.lastReceiptMs)) },
    };
  }
}

/** Every member keeps WINDOW sends in flight until it has sent `count` or `deadline` passes. */
async function saturate(senders: Socket[], conversationId: string, recorder: Recorder, tag: string, count: number, deadline: number): Promise<void> {
  const receivers = senders.length - 1;
  await Promise.all(
    senders.flatMap((socket, index) =>
      Array.from({ length: WINDOW }, async (_, lane) => {
        for (let n = lane; n < count && performance.now() < deadline; n += WINDOW) {
          await recorder.send(socket, conversationId, `${tag}-${index}-${n}`, receivers).acked;
        }
      }),
    ),
  );
}

/** One message at a time: the next is sent once every receiver has the last (or it timed out). */
async function oneAtATime(sender: Socket, conversationId: string, recorder: Recorder, tag: string, count: number, receivers: number): Promise<void> {
  for (let n = 0; n < count; n += 1) {
    const { acked, delivered } = recorder.send(sender, conversationId, `${tag}-${n}`, receivers);
    await acked;
    const timeout = new AbortController();
    await Promise.race([delivered, sleep(DELIVERY_TIMEOUT_MS, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
  }
}

async function measure(database: BenchDatabase) {
  const scratch = database === 'postgres' ? await createScratchDatabase('call_app_bench_group') : undefined;
  const server = await startServerProcess(database, {
    CHAT_MESSAGES_PER_WINDOW: '100000000',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  });
  const sockets: Socket[] = [];
  try {
    let started = performance.now();
    const members = await registerMembers(server.baseUrl, GROUP_SIZE);
    const registerMs = performance.now() - started;
    const [owner, ...others] = members as [Member, ...Member[]];
    const large = await createGroup(server.baseUrl, owner, others, 'Everyone');
    // The busy group's members are among the large group's connected ones; one of them creates it.
    const [busyOwner, ...busyOthers] = others.slice(0, BUSY_GROUP_SIZE) as [Member, ...Member[]];
    const busy = await createGroup(server.baseUrl, busyOwner, busyOthers, 'Busy');

    started = performance.now();
    sockets.push(...(await Promise.all([owner, ...others.slice(0, FANOUT_RECEIVERS)].map((member) => connect(server.baseUrl, member.token)))));
    const connectMs = performance.now() - started;
    const [ownerSocket, ...receiverSockets] = sockets as [Socket, ...Socket[]];
    const recorder = new Recorder();
    for (const socket of receiverSockets) recorder.listen(socket);
    const setup = {
      registerUsersMs: Math.round(registerMs),
      largeGroupRequestMs: { requests: large.requestMs.length, p50: round(percentile(large.requestMs, 50)), max: round(Math.max(...large.requestMs)) },
      connectSocketsMs: Math.round(connectMs),
    };

    const busySockets = receiverSockets.slice(0, BUSY_GROUP_SIZE);
    await saturate(busySockets, busy.id, recorder, 'warmup', WARMUP_PER_SENDER, Number.POSITIVE_INFINITY);
    await recorder.drained();
    recorder.reset();
    await server.eventLoopStats();
    let cpu = process.cpuUsage();
    started = performance.now();
    await saturate(busySockets, busy.id, recorder, 'busy', MESSAGES_PER_SENDER, started + SATURATION_BUDGET_MS);
    await recorder.drained();
    const busyCpu = cpuPercent(cpu, performance.now() - started);
    const busyGroup = {
      members: BUSY_GROUP_SIZE,
      inFlightPerSender: WINDOW,
      storedPerSecond: round(recorder.ackMs.length / ((recorder.lastAck - started) / 1000)),
      deliveredToAllPerSecond: round(recorder.lastReceiptMs.length / ((recorder.lastDelivered - started) / 1000)),
      socketDeliveriesPerSecond: round(recorder.socketDeliveries / ((recorder.lastDelivered - started) / 1000)),
      ...recorder.summary(),
      serverEventLoopDelayMs: (await server.eventLoopStats()).eventLoopDelayMs,
      loadGeneratorCpuPercent: busyCpu,
    };

    await oneAtATime(ownerSocket, large.id, recorder, 'fanout-warmup', FANOUT_WARMUP, FANOUT_RECEIVERS);
    recorder.reset();
    await server.eventLoopStats();
    cpu = process.cpuUsage();
    started = performance.now();
    await oneAtATime(ownerSocket, large.id, recorder, 'fanout', FANOUT_MESSAGES, FANOUT_RECEIVERS);
    const fanoutCpu = cpuPercent(cpu, performance.now() - started);
    const fanout = {
      members: GROUP_SIZE,
      connectedReceivers: FANOUT_RECEIVERS,
      messages: FANOUT_MESSAGES,
      ...recorder.summary(),
      serverEventLoopDelayMs: (await server.eventLoopStats()).eventLoopDelayMs,
      loadGeneratorCpuPercent: fanoutCpu,
    };
    return { setup, busyGroup, fanout };
  } finally {
    for (const socket of sockets) socket.disconnect();
    await server.stop();
    await scratch?.drop();
  }
}

const databases: BenchDatabase[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
const figures: Record<string, unknown> = { baseline: 'none: the benchmarks have no bare Socket.io relay yet' };
for (const database of databases) figures[database] = await measure(database);
await report('group-fanout', figures);
