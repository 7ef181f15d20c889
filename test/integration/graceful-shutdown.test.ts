import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { rm } from 'node:fs/promises';
import { Server } from 'node:http';
import { describe, test } from 'node:test';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { AuthResponse } from '../../src/protocol/auth.js';
import type { ChatMessageEvent, MessageDto } from '../../src/protocol/chat.js';
import { chatUser, history, roundTrip, type ChatUser } from '../support/chat.js';
import { databaseTargets, freshDataDir, type DatabaseKind } from '../support/databases.js';
import { PASSWORD, registerUser, request, uniqueEmail, type HttpResult } from '../support/http.js';
import { errorLogs, spawnServer, type Finished, type ServerProcess } from '../support/processes.js';
import { closeAllSockets, emitAck, type ClientSocket } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/*
 * What the server guarantees when it stops (SIGTERM), and these tests enforce on the real process:
 * - HTTP: a request sent before the signal is carried out and answered (here: 201), also when its
 *   connection was still waiting to be accepted; none is cut off by a reset. Every 2xx is in the database
 *   once the process has exited 0.
 * - Sockets: shutdown disconnects every socket cleanly (reason `io server disconnect`), then waits for
 *   the events it had already received. Each emit ends in exactly one of: its ack (`{ ok: true, ... }`,
 *   or `{ ok: false, error }` with UNAVAILABLE should the server refuse it for the shutdown), or that
 *   disconnect. A CHAT_MESSAGE the server received before the signal is stored exactly once even when the
 *   disconnect cut its ack off (the client learns it from GET /api/chat/sync, or retries with the same
 *   clientMessageId); one sent later may or may not be, at most once. An ok ack always means stored.
 * - Nothing is logged as an error on the way down.
 * A SIGKILL loses no acknowledged write: every 2xx and ok ack is there after a restart.
 */

const BURST = 40;
/** Node's default `server.keepAliveTimeout`, which the app leaves alone. */
const KEEP_ALIVE_TIMEOUT_MS = new Server().keepAliveTimeout;
const SENDERS = 5;
/** Per sender, sent before the signal: under the per-user budget (30 per window) and per-socket limits. */
const BEFORE_SIGNAL = 20;
/** Per sender, sent right after the signal, while the server stops. */
const DURING_SHUTDOWN = 5;
/** Chat messages in flight, with the registrations, when the server is killed. */
const AT_KILL = 20;

type Registration = { email: string; result: HttpResult<AuthResponse> | Error };
type SendOutcome = { kind: 'ack'; ack: AckResponse<ChatMessageEvent> } | { kind: 'disconnected' } | { kind: 'failed'; error: Error };
interface Sent {
  from: ChatUser;
  clientMessageId: string;
  text: string;
  outcome: Promise<SendOutcome>;
}

/** Starts `attempts` registrations at once; `onAnswer` sees each as it settles. */
function registrationBurst(baseUrl: string, attempts: number, onAnswer: (registration: Registration) => void): Promise<Registration[]> {
  return Promise.all(
    Array.from({ length: attempts }, async () => {
      const email = uniqueEmail('burst');
      const result = await request<AuthResponse>(baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Burst' } }).catch(
        (error: unknown) => error as Error,
      );
      const registration = { email, result };
      onAnswer(registration);
      return registration;
    }),
  );
}

const created = (registration: Registration): registration is { email: string; result: HttpResult<AuthResponse> } =>
  !(registration.result instanceof Error) && registration.result.status === 201;

/** Emits a CHAT_MESSAGE and classifies how it ended: its ack, the socket's disconnect, or anything else (a failure). */
function sendTracked(from: ChatUser, socket: ClientSocket, to: string, text: string): Sent {
  const clientMessageId = randomUUID();
  const outcome = emitAck<AckResponse<ChatMessageEvent>>(socket, 'CHAT_MESSAGE', { to, text, clientMessageId }, 30_000).then(
    (ack): SendOutcome => ({ kind: 'ack', ack }),
    (error: Error): SendOutcome => (error.message === 'socket has been disconnected' ? { kind: 'disconnected' } : { kind: 'failed', error }),
  );
  return { from, clientMessageId, text, outcome };
}

/** Runs `check` against a fresh app on the same database (a restart), then stops it. */
async function afterRestart(kind: DatabaseKind, dataDir: string, check: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await startTestApp(kind, {}, { dataDir });
  try {
    await check(app);
  } finally {
    await app.stop();
  }
}

/** Waits for the server to exit and insists it exited 0; returns its output. */
async function exitedCleanly(exited: Promise<Finished>): Promise<Finished> {
  const exit = await exited;
  assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
  return exit;
}

function assertNothingFailed(exit: Finished): void {
  const errors = errorLogs(exit.stdout).map((entry) => `${String(entry['msg'])}: ${String((entry['err'] as { message?: unknown } | undefined)?.message)}`);
  assert.deepEqual(errors, [], 'errors were logged while stopping');
}

async function assertAccountsStored(app: TestApp, registrations: { email: string; result: HttpResult<AuthResponse> }[]): Promise<void> {
  for (const { email, result } of registrations) {
    assert.equal((await app.app.storage.users.findByEmail(email))?.id, result.body.user.id, `${email} answered 201 but is not stored`);
  }
}

/** Each sender's stored messages to `recipient`, by clientMessageId. */
async function storedByClientId(baseUrl: string, senders: { token: string }[], recipientId: string): Promise<Map<string, MessageDto[]>> {
  const stored = new Map<string, MessageDto[]>();
  for (const sender of senders) {
    for (const message of (await history(baseUrl, sender.token, recipientId, '?limit=100')).messages) {
      if (message.clientMessageId) stored.set(message.clientMessageId, [...(stored.get(message.clientMessageId) ?? []), message]);
    }
  }
  return stored;
}

/**
 * Runs `body` against the real server process on a fresh data dir, then, however it ended, closes the
 * test's sockets, kills whatever still runs and removes the data dir.
 */
async function withServer(kind: DatabaseKind, body: (server: ServerProcess, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await freshDataDir(kind);
  let server: ServerProcess | undefined;
  try {
    server = await spawnServer(kind, dataDir);
    await body(server, dataDir);
  } finally {
    closeAllSockets();
    server?.child.kill('SIGKILL');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

for (const target of databaseTargets()) {
  describe(`graceful shutdown (${target.kind})`, { skip: target.skip }, () => {
    test('SIGTERM during a burst of registrations: every request sent before it is answered 201 and stored', () =>
      withServer(target.kind, async (server, dataDir) => {
        const { child, baseUrl } = server;
        // A request counts as sent once fetch has written all of it.
        let sent = 0;
        const onSent = (message: unknown) => {
          const { request: sentRequest } = message as { request: { origin: string; path: string } };
          if (sentRequest.origin === baseUrl && sentRequest.path === '/api/auth/register') sent++;
        };
        subscribe('undici:request:bodySent', onSent);

        // SIGTERM once every request is sent and the first has succeeded, while the others are in flight.
        let settled = 0;
        let settledAtSignal: number | undefined;
        const outcomes = await registrationBurst(baseUrl, BURST, (registration) => {
          settled++;
          if (settledAtSignal === undefined && created(registration)) {
            assert.equal(sent, BURST, 'a registration was answered before all were sent');
            settledAtSignal = settled;
            child.kill('SIGTERM');
          }
        }).finally(() => unsubscribe('undici:request:bodySent', onSent));
        const lastAnswer = performance.now();
        const exit = await exitedCleanly(server.exited);

        // Idle keep-alive connections must not hold the shutdown up until their keep-alive timeout runs out.
        const lingered = performance.now() - lastAnswer;
        assert.ok(lingered < KEEP_ALIVE_TIMEOUT_MS, `the process took ${Math.round(lingered)} ms to exit after the last answer`);
        assert.ok(settledAtSignal !== undefined, 'no registration succeeded');
        assert.ok(settledAtSignal < BURST, 'SIGTERM came after the burst had finished: nothing was in flight');
        for (const { email, result } of outcomes) {
          const seen = result instanceof Error ? `${result.message} (${String((result.cause as Error | undefined)?.message)})` : `${result.status} ${JSON.stringify(result.body)}`;
          assert.ok(created({ email, result }), `a registration sent before SIGTERM was not answered 201: ${seen}`);
        }
        await afterRestart(target.kind, dataDir, (app) => assertAccountsStored(app, outcomes.filter(created)));
        assertNothingFailed(exit);
      }));

    test('SIGTERM with chat messages in flight on several sockets: each ends in an ack or a clean disconnect, and every received message is stored', () =>
      withServer(target.kind, async (server, dataDir) => {
        const { child, baseUrl } = server;
        const recipient = await chatUser(baseUrl, 'Rita', 0);
        const senders = await Promise.all(Array.from({ length: SENDERS }, (_, index) => chatUser(baseUrl, `Sender ${index}`)));
        const disconnects = senders.map(
          (sender) => new Promise<string>((resolve) => sender.devices[0]!.once('disconnect', (reason) => resolve(reason))),
        );

        const beforeSignal = senders.flatMap((sender) =>
          Array.from({ length: BEFORE_SIGNAL }, (_, index) => sendTracked(sender, sender.devices[0]!, recipient.id, `${sender.name}: before ${index}`)),
        );
        let signalled = false;
        let settledAtSignal = 0;
        for (const message of beforeSignal) void message.outcome.then(() => void (signalled || settledAtSignal++));
        // A socket's events are read in order: once a later round trip is answered, the server has received them all.
        await Promise.all(senders.map((sender) => roundTrip(sender.devices[0]!)));
        child.kill('SIGTERM');
        signalled = true;
        const duringShutdown = senders.flatMap((sender) =>
          Array.from({ length: DURING_SHUTDOWN }, (_, index) => sendTracked(sender, sender.devices[0]!, recipient.id, `${sender.name}: during ${index}`)),
        );

        const sent = [...beforeSignal, ...duringShutdown];
        const outcomes = await Promise.all(sent.map((message) => message.outcome));
        const reasons = await Promise.all(disconnects);
        const exit = await exitedCleanly(server.exited);

        assert.ok(settledAtSignal < beforeSignal.length, 'every message was acknowledged before SIGTERM: nothing was in flight');
        assert.deepEqual(reasons, senders.map(() => 'io server disconnect'), 'a socket was cut off instead of disconnected by the server');
        for (const [index, outcome] of outcomes.entries()) {
          const { text } = sent[index]!;
          if (outcome.kind === 'failed') assert.fail(`"${text}" got neither an ack nor the disconnect: ${outcome.error.message}`);
          if (outcome.kind === 'ack' && !outcome.ack.ok) {
            assert.deepEqual(Object.keys(outcome.ack.error).sort(), ['code', 'message'], `"${text}": not the ack's error shape`);
            assert.equal(outcome.ack.error.code, 'UNAVAILABLE', `"${text}" was refused: ${JSON.stringify(outcome.ack.error)}`);
          }
        }

        await afterRestart(target.kind, dataDir, async (app) => {
          const stored = await storedByClientId(app.baseUrl, senders, recipient.id);
          for (const [index, outcome] of outcomes.entries()) {
            const { text, clientMessageId, from } = sent[index]!;
            const copies = stored.get(clientMessageId) ?? [];
            assert.ok(copies.length <= 1, `"${text}" is stored ${copies.length} times`);
            const [copy] = copies;
            if (outcome.kind === 'ack' && outcome.ack.ok) {
              assert.deepEqual(copy, outcome.ack.message, `"${text}" was acknowledged but is not stored as acknowledged`);
            } else if (outcome.kind === 'ack') {
              assert.equal(copy, undefined, `"${text}" was refused but is stored`);
            } else if (index < beforeSignal.length) {
              assert.ok(copy, `"${text}" reached the server before SIGTERM but is not stored`);
            }
            if (copy) assert.deepEqual([copy.from, copy.text], [from.id, text]);
          }
        });
        assertNothingFailed(exit);
      }));

    test('SIGKILL during registrations and chat messages: every 201 and every ok ack survives a restart', () =>
      withServer(target.kind, async (server, dataDir) => {
        const { child, baseUrl } = server;
        const sender = await chatUser(baseUrl, 'Kim', 2);
        const recipient = await registerUser(baseUrl, 'Lee');

        // SIGKILL once a registration and a message have been acknowledged, while others are in flight.
        const total = BURST + AT_KILL;
        let settled = 0;
        let registered = false;
        let acknowledged = false;
        let settledAtKill: number | undefined;
        const settle = () => {
          settled++;
          if (settledAtKill !== undefined || !registered || !acknowledged) return;
          settledAtKill = settled;
          child.kill('SIGKILL');
        };
        const messages = sender.devices.flatMap((socket, device) =>
          Array.from({ length: AT_KILL / sender.devices.length }, (_, index) => sendTracked(sender, socket, recipient.user.id, `device ${device}: ${index}`)),
        );
        for (const message of messages) {
          void message.outcome.then((outcome) => {
            if (outcome.kind === 'ack' && outcome.ack.ok) acknowledged = true;
            settle();
          });
        }
        const registrations = await registrationBurst(baseUrl, BURST, (registration) => {
          if (created(registration)) registered = true;
          settle();
        });
        const outcomes = await Promise.all(messages.map((message) => message.outcome));
        assert.ok(settledAtKill !== undefined, 'the server was never killed: no registration or no message was acknowledged');
        assert.ok(settledAtKill < total, 'SIGKILL came after everything had settled: nothing was in flight');
        assert.equal((await server.exited).signal, 'SIGKILL');

        await afterRestart(target.kind, dataDir, async (app) => {
          await assertAccountsStored(app, registrations.filter(created));
          const stored = await storedByClientId(app.baseUrl, [sender], recipient.user.id);
          for (const [index, outcome] of outcomes.entries()) {
            if (outcome.kind !== 'ack' || !outcome.ack.ok) continue;
            const { clientMessageId, text } = messages[index]!;
            assert.deepEqual(stored.get(clientMessageId), [outcome.ack.message], `"${text}" was acknowledged but is lost`);
          }
        });
      }));
  });
}
