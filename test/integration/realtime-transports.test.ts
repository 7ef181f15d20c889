import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import type { IncomingCallEvent } from '../../src/protocol/call-events.js';
import { callEventOk, OFFER } from '../support/calls.js';
import { sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { registerUser } from '../support/http.js';
import { connectSocket, nextEvent, type ClientSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const transportOf = (socket: ClientSocket) => (socket as unknown as Socket).io.engine.transport.name;

/** Resolves once the engine has upgraded from long-polling to WebSocket (at once if it already has). */
function upgraded(socket: ClientSocket): Promise<void> {
  const engine = (socket as unknown as Socket).io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve) => engine.once('upgrade', () => resolve()));
}

/** The first request every default client makes: the Engine.IO long-polling handshake. */
function pollingHandshake(baseUrl: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/socket.io/?EIO=4&transport=polling&t=${Date.now()}`, { headers });
}

for (const target of databaseTargets()) {
  describe(`socket transports (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { CORS_ORIGINS: 'https://app.example.com' });

    test('the long-polling handshake is answered by Socket.io, not by the REST 404', async () => {
      const response = await pollingHandshake(server.baseUrl);
      assert.equal(response.status, 200);
      const body = await response.text();
      // Engine.IO's open packet: "0" followed by the session's JSON.
      assert.match(body, /^0\{"sid":/);
    });

    test('a browser origin that is allowed gets CORS headers on the polling transport; another does not', async () => {
      const allowed = await pollingHandshake(server.baseUrl, { origin: 'https://app.example.com' });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
      const other = await pollingHandshake(server.baseUrl, { origin: 'https://evil.example.net' });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    });

    test('a client with default options connects over long-polling and upgrades to WebSocket', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const socket = await connectSocket(server.baseUrl, alice.accessToken);
      await upgraded(socket);
      assert.equal(transportOf(socket), 'websocket');
    });

    test('a polling-only client chats with a WebSocket client, both ways', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const polling = await connectSocket(server.baseUrl, alice.accessToken, 'polling');
      const websocket = await connectSocket(server.baseUrl, bob.accessToken, 'websocket');
      assert.equal(transportOf(polling), 'polling');

      const toBob = nextEvent<ChatMessageEvent>(websocket, 'CHAT_MESSAGE');
      const sent = await sendOk(polling, { to: bob.user.id, text: 'over polling' });
      assert.deepEqual((await toBob).message, sent.message);

      const toAlice = nextEvent<ChatMessageEvent>(polling, 'CHAT_MESSAGE');
      const reply = await sendOk(websocket, { to: alice.user.id, text: 'back to polling' });
      assert.deepEqual((await toAlice).message, reply.message);
      assert.equal(transportOf(polling), 'polling');
    });

    test('a call rings a polling-only callee, and its answer reaches the caller', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const caller = await connectSocket(server.baseUrl, alice.accessToken);
      const callee = await connectSocket(server.baseUrl, bob.accessToken, 'polling');
      const ring = nextEvent<IncomingCallEvent>(callee, 'CALL_REQUEST');
      const call = await callEventOk(caller, 'CALL_REQUEST', { to: bob.user.id, type: 'video', offer: OFFER });
      const incoming = await ring;
      assert.equal(incoming.call.id, call.id);
      assert.deepEqual(incoming.offer, OFFER);
      const answered = nextEvent<{ callId: string }>(caller, 'CALL_ACCEPT');
      const accepted = await callEventOk(callee, 'CALL_ACCEPT', { callId: call.id });
      assert.equal(accepted.status, 'accepted');
      assert.equal((await answered).callId, call.id);
    });
  });
}
