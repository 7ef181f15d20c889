/**
 * Push: the server in its own process sends to the stand-in for Expo's push API (test/support/fake-expo.ts)
 * on loopback, on PGlite and (with DATABASE_URL, in a scratch database) on PostgreSQL.
 *
 * 1. Worker throughput: SENDERS users each send one chat message to each of RECIPIENTS offline users, who
 *    are signed in on DEVICES devices with a push token each: SENDERS x RECIPIENTS x DEVICES pushes. They
 *    are queued by a server whose worker is held to 1 push/s; that server stops, and one with
 *    PUSH_MAX_PER_SECOND=MAX_PER_SECOND starts on the same database and drains the outbox: pushes per
 *    second from its start (and from the first push Expo received) to the last push Expo received. The
 *    ceiling of the worker itself, not of Expo: the default PUSH_MAX_PER_SECOND is Expo's 600/s.
 * 2. Delay at rest: one sender, one offline recipient with one token, DELAY_SAMPLES messages one at a
 *    time (the next once the push of the previous arrived, so none coalesce): from the emit to Expo
 *    receiving its push, with the default PUSH_COALESCE_MS and with 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/config.js';
import { sendOk } from '../test/support/chat.js';
import { startFakeExpo, type FakeExpo } from '../test/support/fake-expo.js';
import { login, registerPushToken, registerUser } from '../test/support/http.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { connectSocket, type ClientSocket } from '../test/support/sockets.js';
import { report } from './support/report.js';
import { startServerProcess, type BenchDatabase } from './support/server-process.js';
import { percentile, round } from './support/stats.js';

const SENDERS = 50;
const RECIPIENTS = 10;
const DEVICES = 10;
const MAX_PER_SECOND = 100_000;
const DRAIN_TIMEOUT_MS = 60_000;
const DELAY_SAMPLES = 20;
const PUSH_TIMEOUT_MS = 10_000;
/** Between a push arriving and the next message: the worker is idle again, the next message opens a new window. */
const DELAY_GAP_MS = 100;

const DEFAULTS = loadConfig({ JWT_SECRET: 'x'.repeat(32), CORS_ORIGINS: 'http://localhost' }).push;

/** Env for one server process on `database`: the fake Expo, and the same database across restarts. */
function serverEnv(expo: FakeExpo, database: { url?: string; dataDir?: string }, env: Record<string, string>): Record<string, string> {
  return {
    EXPO_BASE_URL: expo.url,
    CHAT_MESSAGES_PER_WINDOW: '100000000',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...(database.dataDir ? { DATA_DIR: database.dataDir } : {}),
    ...env,
  };
}

/** Resolves once `expo` holds `count` pushes, or at `timeoutMs` with what arrived. */
async function arrived(expo: FakeExpo, count: number, timeoutMs: number): Promise<void> {
  await expo.waitForPushes(count, timeoutMs).catch(() => undefined);
}

async function throughput(database: BenchDatabase, store: { url?: string; dataDir?: string }) {
  const expected = SENDERS * RECIPIENTS * DEVICES;
  const queueing = await startFakeExpo();
  const sockets: ClientSocket[] = [];
  let queuedBeforeStop: number;
  let sentWhileQueueing: number;
  const setupStarted = performance.now();
  const server = await startServerProcess(database, serverEnv(queueing, store, { PUSH_MAX_PER_SECOND: '1', PUSH_COALESCE_MS: '0' }));
  try {
    // Password hashing dominates the set-up: the accounts and sessions are made concurrently.
    const recipients = await Promise.all(
      Array.from({ length: RECIPIENTS }, async (_, r) => {
        const user = await registerUser(server.baseUrl, `Recipient ${r}`);
        const others = Array.from({ length: DEVICES - 1 }, () => login(server.baseUrl, { email: user.email, password: user.password }));
        const sessions = [user.accessToken, ...(await Promise.all(others)).map((session) => session.accessToken)];
        await Promise.all(sessions.map((session) => registerPushToken(server.baseUrl, session)));
        return user.user.id;
      }),
    );
    const senders = await Promise.all(Array.from({ length: SENDERS }, (_, s) => registerUser(server.baseUrl, `Sender ${s}`)));
    sockets.push(...(await Promise.all(senders.map((sender) => connectSocket(server.baseUrl, sender.accessToken, 'websocket')))));
    await Promise.all(
      sockets.map(async (socket, s) => {
        for (const to of recipients) await sendOk(socket, { to, text: `hello from sender ${s}` });
      }),
    );
  } finally {
    for (const socket of sockets) socket.disconnect();
    // The notifier finishes queueing before the process exits.
    await server.stop();
    sentWhileQueueing = queueing.pushes.length;
    queuedBeforeStop = expected - sentWhileQueueing;
    await queueing.close();
  }
  const setupMs = performance.now() - setupStarted;

  const expo = await startFakeExpo();
  const startedAt = Date.now();
  const drainer = await startServerProcess(database, serverEnv(expo, store, { PUSH_MAX_PER_SECOND: String(MAX_PER_SECOND) }));
  try {
    await arrived(expo, queuedBeforeStop, DRAIN_TIMEOUT_MS);
    await sleep(500); // anything sent twice would arrive now
    const { pushes, sendRequests } = expo;
    const first = pushes[0]?.receivedAt.getTime() ?? Number.NaN;
    const last = pushes.at(-1)?.receivedAt.getTime() ?? Number.NaN;
    const distinct = new Set(pushes.map((push) => `${push.to} ${String(push.data?.['messageId'])}`)).size;
    return {
      pushes: expected,
      recipients: RECIPIENTS,
      devicesPerRecipient: DEVICES,
      senders: SENDERS,
      setupMs: Math.round(setupMs),
      sentWhileQueueing,
      queued: queuedBeforeStop,
      received: pushes.length,
      duplicates: pushes.length - distinct,
      pushMaxPerSecond: MAX_PER_SECOND,
      sendRequests: sendRequests.length,
      pushesPerRequest: round(pushes.length / sendRequests.length),
      drainMs: { fromProcessStart: last - startedAt, fromFirstPush: last - first },
      pushesPerSecond: {
        fromProcessStart: round(pushes.length / ((last - startedAt) / 1000)),
        fromFirstPush: round((pushes.length - (sendRequests[0]?.messages ?? 0)) / ((last - first) / 1000)),
      },
      serverEventLoopDelayMs: (await drainer.eventLoopStats()).eventLoopDelayMs,
    };
  } finally {
    await drainer.stop();
    await expo.close();
  }
}

async function delay(database: BenchDatabase, store: { url?: string; dataDir?: string }, coalesceMs: number) {
  const expo = await startFakeExpo();
  const server = await startServerProcess(database, serverEnv(expo, store, { PUSH_COALESCE_MS: String(coalesceMs) }));
  let socket: ClientSocket | undefined;
  try {
    const recipient = await registerUser(server.baseUrl, 'Offline recipient');
    await registerPushToken(server.baseUrl, recipient.accessToken);
    const sender = await registerUser(server.baseUrl, 'Sender');
    socket = await connectSocket(server.baseUrl, sender.accessToken, 'websocket');
    const pushMs: number[] = [];
    const ackMs: number[] = [];
    for (let n = 0; n < DELAY_SAMPLES; n += 1) {
      const sentAt = Date.now();
      await sendOk(socket, { to: recipient.user.id, text: `message ${n}` });
      ackMs.push(Date.now() - sentAt);
      await arrived(expo, n + 1, PUSH_TIMEOUT_MS);
      const push = expo.pushes[n];
      if (!push) break;
      pushMs.push(push.receivedAt.getTime() - sentAt);
      await sleep(DELAY_GAP_MS);
    }
    return {
      pushCoalesceMs: coalesceMs,
      pushPollMs: DEFAULTS.pollMs,
      messages: DELAY_SAMPLES,
      pushes: expo.pushes.length,
      sendToAckMs: { p50: percentile(ackMs, 50), p99: percentile(ackMs, 99) },
      sendToPushMs: { p50: percentile(pushMs, 50), p99: percentile(pushMs, 99), max: Math.max(...pushMs) },
    };
  } finally {
    socket?.disconnect();
    await server.stop();
    await expo.close();
  }
}

/** A database for one measurement that outlives its server processes: a scratch PostgreSQL database or a PGlite DATA_DIR. */
async function withStore<T>(database: BenchDatabase, work: (store: { url?: string; dataDir?: string }) => Promise<T>): Promise<T> {
  if (database === 'postgres') {
    const scratch = await createScratchDatabase('call_app_bench_push');
    try {
      return await work({ url: scratch.url });
    } finally {
      await scratch.drop();
    }
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'call-app-bench-push-'));
  try {
    return await work({ dataDir });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measure(database: BenchDatabase) {
  return {
    throughput: await withStore(database, (store) => throughput(database, store)),
    delayAtRest: {
      defaultCoalescing: await withStore(database, (store) => delay(database, store, DEFAULTS.coalesceMs)),
      noCoalescing: await withStore(database, (store) => delay(database, store, 0)),
    },
  };
}

const databases: BenchDatabase[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
const figures: Record<string, unknown> = { defaultPushMaxPerSecond: DEFAULTS.maxPerSecond };
for (const database of databases) figures[database] = await measure(database);
await report('push', figures);
