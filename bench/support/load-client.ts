/**
 * A load generator process (forked by load.ts): it holds Socket.io client sockets (websocket transport)
 * and runs one command at a time for the benchmark, answering over IPC. Nothing here knows which target
 * it talks to: the same code drives the server and the relay, only the handshake `auth` differs.
 * Times are this process's performance.now(); each figure is measured within one process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import type { Command, Sender, SendResult } from './load-commands.js';

/** A saturated server's queue at a fixed 5,000 msg/s can take tens of seconds to drain. */
const ACK_TIMEOUT_MS = 180_000;
const sockets: Socket[] = [];

interface Pending {
  sentAt: number;
  ackedAt?: number;
  lastReceiptAt?: number;
  received: number;
}
let pending = new Map<string, Pending>();
let expected = 1;
let duplicates = 0;
/** Makes every run's clientMessageIds new: the server treats a repeated one as a retry and delivers nothing. */
let runs = 0;

function connectOne(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function connect(url: string, auths: Record<string, unknown>[], concurrency: number): Promise<{ ms: number; sockets: number }> {
  const started = performance.now();
  const opened: Socket[] = new Array(auths.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, auths.length) }, async () => {
      for (let index = next++; index < auths.length; index = next++) opened[index] = await connectOne(url, auths[index]!);
    }),
  );
  const ms = performance.now() - started;
  for (const socket of opened) {
    socket.on('CHAT_MESSAGE', ({ message }: { message: { clientMessageId: string | null } }) => {
      const entry = message.clientMessageId ? pending.get(message.clientMessageId) : undefined;
      if (!entry) return;
      entry.received += 1;
      if (entry.received > expected) duplicates += 1;
      if (entry.received === expected) entry.lastReceiptAt = performance.now();
    });
    sockets.push(socket);
  }
  return { ms, sockets: sockets.length };
}

/**
 * Every sender sends chat messages for warmupMs + measureMs, either keeping `window` unacknowledged
 * (saturation) or at `ratePerSender` a second regardless of acks. A message is complete once acked and
 * received by `receivers` sockets of this process. Throughput counts what completed within the
 * measured window; latencies are of what was sent in it. An ack that never comes counts as a failure.
 */
async function send(command: Extract<Command, { type: 'send' }>): Promise<SendResult> {
  pending = new Map();
  expected = command.receivers;
  duplicates = 0;
  runs += 1;
  let failures = 0;
  const started = performance.now();
  const measureFrom = started + command.warmupMs;
  const stopAt = measureFrom + command.measureMs;
  const all: Pending[] = [];
  const sendOne = async (sender: Sender, n: number) => {
    const clientMessageId = `${command.tag}-${process.pid}-${runs}-${sender.socket}-${n}`;
    const entry: Pending = { sentAt: performance.now(), received: 0 };
    pending.set(clientMessageId, entry);
    all.push(entry);
    const ack = (await sockets[sender.socket]!.timeout(ACK_TIMEOUT_MS)
      .emitWithAck('CHAT_MESSAGE', { ...sender.target, text: `${clientMessageId} says hello`, clientMessageId })
      .catch(() => ({ ok: false }))) as { ok: boolean };
    if (ack.ok) entry.ackedAt = performance.now();
    else failures += 1;
  };
  await Promise.all(
    command.senders.map(async (sender, index) => {
      if (command.window !== undefined) {
        await Promise.all(
          Array.from({ length: command.window }, async (_, lane) => {
            for (let n = lane; performance.now() < stopAt; n += command.window!) await sendOne(sender, n);
          }),
        );
        return;
      }
      const intervalMs = 1000 / command.ratePerSender!;
      const sends: Promise<void>[] = [];
      // Senders start spread over one interval, so the offered load is even rather than in bursts.
      for (let n = 0, at = (index / command.senders.length) * intervalMs; started + at < stopAt; n += 1, at += intervalMs) {
        await sleep(Math.max(0, started + at - performance.now()));
        sends.push(sendOne(sender, n));
      }
      await Promise.all(sends);
    }),
  );
  const drainUntil = performance.now() + command.drainMs;
  while (all.some((entry) => entry.lastReceiptAt === undefined) && performance.now() < drainUntil) await sleep(10);
  const completeAt = (entry: Pending) => Math.max(entry.ackedAt ?? Infinity, entry.lastReceiptAt ?? Infinity);
  const inWindow = all.filter((entry) => completeAt(entry) >= measureFrom && completeAt(entry) <= stopAt).length;
  const measured = all.filter((entry) => entry.sentAt >= measureFrom);
  const complete = measured.filter((entry) => completeAt(entry) < Infinity);
  return {
    sent: measured.length,
    sentInAll: all.length,
    completedInWindow: inWindow,
    completed: complete.length,
    failures,
    duplicates,
    sendToLastReceiptMs: complete.map((entry) => entry.lastReceiptAt! - entry.sentAt),
    sendToAckMs: complete.map((entry) => entry.ackedAt! - entry.sentAt),
  };
}

/** `pairs` call at the same moment, `rounds` times: CALL_REQUEST sent -> the callee's socket has it. */
async function calls(command: Extract<Command, { type: 'calls' }>): Promise<{ requestToCalleeMs: number[]; failures: number }> {
  const requestToCalleeMs: number[] = [];
  let failures = 0;
  const emit = async (socket: Socket, event: string, payload: unknown) => {
    const ack = (await socket.timeout(30_000).emitWithAck(event, payload)) as { ok: boolean; call?: { id: string } };
    if (!ack.ok) failures += 1;
    return ack;
  };
  for (let round = 0; round < command.rounds; round += 1) {
    await Promise.all(
      command.pairs.map(async ({ caller, callee, calleeId }) => {
        const rang = new Promise<number>((resolve) => sockets[callee]!.once('CALL_REQUEST', () => resolve(performance.now())));
        const sentAt = performance.now();
        const ack = await emit(sockets[caller]!, 'CALL_REQUEST', { to: calleeId, type: 'video', offer: command.offer });
        requestToCalleeMs.push((await rang) - sentAt);
        if (!ack.call) return;
        await emit(sockets[callee]!, 'CALL_ACCEPT', { callId: ack.call.id, answer: { type: 'answer', sdp: command.offer.sdp } });
        await emit(sockets[caller]!, 'CALL_ENDED', { callId: ack.call.id });
      }),
    );
  }
  return { requestToCalleeMs, failures };
}

/** `concurrency` clients log in one after another for `durationMs`. */
async function logins(command: Extract<Command, { type: 'logins' }>): Promise<{ loginMs: number[]; failures: number }> {
  const loginMs: number[] = [];
  let failures = 0;
  const stopAt = performance.now() + command.durationMs;
  const body = JSON.stringify({ email: command.email, password: command.password });
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (performance.now() < stopAt) {
        const started = performance.now();
        const response = await fetch(`${command.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await response.arrayBuffer();
        if (response.status === 200) loginMs.push(performance.now() - started);
        else failures += 1;
      }
    }),
  );
  return { loginMs, failures };
}

/** GETs `url` `count` times, one at a time. */
async function gets(command: Extract<Command, { type: 'gets' }>): Promise<{ requestMs: number[]; failures: number }> {
  const requestMs: number[] = [];
  let failures = 0;
  for (let n = 0; n < command.count; n += 1) {
    const started = performance.now();
    const response = await fetch(command.url, { headers: { authorization: `Bearer ${command.token}` } });
    await response.arrayBuffer();
    if (response.status === 200) requestMs.push(performance.now() - started);
    else failures += 1;
  }
  return { requestMs, failures };
}

async function run(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'connect':
      return connect(command.url, command.auths, command.concurrency);
    case 'disconnect':
      for (const socket of sockets.splice(0)) socket.disconnect();
      return {};
    case 'send':
      return send(command);
    case 'calls':
      return calls(command);
    case 'logins':
      return logins(command);
    case 'gets':
      return gets(command);
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  run(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send!({ ready: true });
