import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import type { AckResponse } from '../../src/protocol/ack.js';
import { acceptedCall, callUser, device, sleep } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { registerUser } from '../support/http.js';
import { collect, connectError, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const newId = () => {
  // A well-formed UUIDv7 that names nothing.
  const hex = randomUUID().replaceAll('-', '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

/** Sends `count` events one after another and tallies the outcomes by error code (`ok` for success). */
async function tally(socket: ClientSocket, count: number, event: string, payload: () => unknown): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  for (let index = 0; index < count; index += 1) {
    const ack = await emitAck<AckResponse>(socket, event, payload());
    const key = ack.ok ? 'ok' : ack.error.code;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return outcomes;
}

const signal = (callId: string, bytes: number) => ({ callId, description: { type: 'offer', sdp: `v=0\r\n${'a'.repeat(bytes)}` } });

for (const target of databaseTargets()) {
  describe(`per-user event budgets (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {
      CALL_SIGNALING_PER_MINUTE: '12',
      CHAT_RECEIPTS_PER_WINDOW: '5',
      CHAT_RATE_WINDOW: '1m',
      PRESENCE_SUBSCRIBES_PER_MINUTE: '3',
      RATE_LIMIT_AUTH_PER_IP: '100000',
    });

    test('renegotiation and ICE flooding inside an accepted call meets the signaling budget', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const { id } = await acceptedCall(alice, bob);
      const candidate = { callId: id, candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
      const signals = await tally(device(alice), 8, 'CALL_SIGNAL', () => signal(id, 1000));
      const candidates = await tally(device(alice), 8, 'ICE_CANDIDATE', () => candidate);
      assert.deepEqual(signals, { ok: 8 });
      assert.deepEqual(candidates, { ok: 4, RATE_LIMITED: 4 });
      const refused = await emitAck(device(alice), 'CALL_SIGNAL', signal(id, 10));
      assert.ok(refused.error.retryAfterSeconds >= 1);
      // The budget is the user's, not the socket's: a new connection does not reset it.
      const again = await connectSocket(server.baseUrl, alice.tokens[0]!);
      assert.equal((await emitAck(again, 'ICE_CANDIDATE', candidate)).error.code, 'RATE_LIMITED');
    });

    test('receipts for random message ids stop costing queries once the budget is spent', async () => {
      const carol = await registerUser(server.baseUrl, 'Carol');
      const socket = await connectSocket(server.baseUrl, carol.accessToken);
      const outcomes = await tally(socket, 8, 'MESSAGE_READ', () => ({ messageId: newId() }));
      assert.deepEqual(outcomes, { NOT_FOUND: 5, RATE_LIMITED: 3 });
    });

    test('presence subscriptions have a budget of their own', async () => {
      const dave = await registerUser(server.baseUrl, 'Dave');
      const socket = await connectSocket(server.baseUrl, dave.accessToken);
      const outcomes = await tally(socket, 5, 'PRESENCE_SUBSCRIBE', () => ({ userIds: Array.from({ length: 100 }, newId) }));
      assert.deepEqual(outcomes, { ok: 3, RATE_LIMITED: 2 });
    });
  });

  describe(`per-connection limits (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {
      SOCKET_EVENTS_PER_WINDOW: '20',
      SOCKET_BYTES_PER_WINDOW: String(400 * 1024),
      SOCKET_RATE_WINDOW: '1m',
      SOCKET_MAX_CONNECTIONS_PER_USER: '3',
      SOCKET_MAX_PENDING_EVENTS: '4',
      CHAT_MESSAGES_PER_WINDOW: '1000',
      RATE_LIMIT_AUTH_PER_IP: '100000',
    });

    test('events of any name spend the connection’s budget, unknown ones included', async () => {
      const erin = await registerUser(server.baseUrl, 'Erin');
      const socket = await connectSocket(server.baseUrl, erin.accessToken);
      for (let index = 0; index < 20; index += 1) (socket as unknown as Socket).emit(`NO_SUCH_EVENT_${index}`, { junk: index });
      const ack = await emitAck(socket, 'CHAT_TYPING', { to: newId() });
      assert.equal(ack.error.code, 'RATE_LIMITED');
      assert.equal(socket.connected, true);
    });

    test('large events spend the byte budget; one over 100 KiB is PAYLOAD_TOO_LARGE without dropping the connection', async () => {
      const frank = await registerUser(server.baseUrl, 'Frank');
      const socket = await connectSocket(server.baseUrl, frank.accessToken);
      const tooLarge = await emitAck(socket, 'CHAT_MESSAGE', { to: newId(), text: 'x', padding: 'p'.repeat(200 * 1024) });
      assert.equal(tooLarge.error.code, 'PAYLOAD_TOO_LARGE');
      assert.equal(socket.connected, true);
      // 400 KiB per window: the seventh event of 60 KiB is over it.
      const outcomes = await tally(socket, 8, 'CALL_SIGNAL', () => signal(newId(), 60 * 1024));
      assert.deepEqual(outcomes, { NOT_FOUND: 6, RATE_LIMITED: 2 });
    });

    test('a frame over the 1 MiB transport limit closes the connection (the documented hard limit)', async () => {
      const grace = await registerUser(server.baseUrl, 'Grace');
      const socket = await connectSocket(server.baseUrl, grace.accessToken, 'websocket');
      const gone = nextEvent(socket, 'disconnect');
      (socket as unknown as Socket).emit('CHAT_MESSAGE', { to: newId(), text: 'x'.repeat(1100 * 1024) });
      assert.equal(await gone, 'transport close');
    });

    test('one connection has at most SOCKET_MAX_PENDING_EVENTS events in progress; the rest are refused at once', async () => {
      const henry = await registerUser(server.baseUrl, 'Henry');
      const ivy = await registerUser(server.baseUrl, 'Ivy');
      const socket = await connectSocket(server.baseUrl, henry.accessToken);
      const acks = await Promise.all(
        Array.from({ length: 12 }, (_, index) => emitAck<AckResponse>(socket, 'CHAT_MESSAGE', { to: ivy.user.id, text: `m${index}` })),
      );
      const refused = acks.filter((ack) => !ack.ok);
      assert.ok(refused.length > 0, 'some were refused');
      assert.ok(acks.filter((ack) => ack.ok).length >= 4, 'the first ones went through');
      for (const ack of refused) assert.equal(!ack.ok && ack.error.code, 'RATE_LIMITED');
    });

    test('a user has at most SOCKET_MAX_CONNECTIONS_PER_USER connections; closing one makes room', async () => {
      const jack = await registerUser(server.baseUrl, 'Jack');
      const sockets = [];
      for (let index = 0; index < 3; index += 1) sockets.push(await connectSocket(server.baseUrl, jack.accessToken));
      assert.equal(await connectError(server.baseUrl, { token: jack.accessToken }), 'TOO_MANY_CONNECTIONS');
      const closed = sockets[0]!;
      closed.disconnect();
      for (let attempt = 0; attempt < 50; attempt += 1) {
        try {
          sockets.push(await connectSocket(server.baseUrl, jack.accessToken));
          break;
        } catch {
          await sleep(20);
        }
      }
      assert.equal(sockets.length, 4, 'a fourth connection once the first closed');
    });
  });

  describe(`a client that stops reading (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { SOCKET_MAX_BUFFERED_BYTES: String(256 * 1024), CHAT_MESSAGES_PER_WINDOW: '10000' });

    test('is disconnected instead of making the server hold what is sent to it', async () => {
      const kate = await registerUser(server.baseUrl, 'Kate');
      const sender = await registerUser(server.baseUrl, 'Sender');
      const reader = await connectSocket(server.baseUrl, kate.accessToken, 'polling');
      const from = await connectSocket(server.baseUrl, sender.accessToken, 'websocket');
      const received = collect(reader, 'CHAT_MESSAGE');
      // Stop reading: a long-polling client that stops polling leaves everything sent to it on the server.
      const polling = (reader as unknown as Socket).io.engine.transport as unknown as { pause(onPause: () => void): void; _poll(): void };
      const paused = new Promise<void>((resolve) => polling.pause(resolve));
      const text = '€'.repeat(4000);
      // 100 messages of about 12 KB: over four times the 256 KiB the server may hold for one connection.
      for (let sent = 0; sent < 100; sent += 1) await emitAck(from, 'CHAT_MESSAGE', { to: kate.user.id, text });
      await paused;
      const gone = nextEvent(reader, 'disconnect');
      polling._poll();
      await gone;
      assert.ok(received.items.length < 30, `the server held ${received.items.length} messages for a client that did not read`);
    });
  });
}
