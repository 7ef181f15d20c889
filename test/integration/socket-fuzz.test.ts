import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import type { AckResponse } from '../../src/protocol/ack.js';
import { ERROR_STATUS } from '../../src/protocol/errors.js';
import type { ClientEventName } from '../../src/realtime/event-budgets.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { request } from '../support/http.js';
import { emitAck, type ClientSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

/** Every client event of the contract; `satisfies` keeps the list complete as events are added. */
const CLIENT_EVENTS = Object.keys({
  AUTHENTICATE: 0,
  CHAT_MESSAGE: 0,
  CHAT_TYPING: 0,
  CHAT_STOP_TYPING: 0,
  MESSAGE_READ: 0,
  MESSAGE_DELIVERED: 0,
  PRESENCE_SUBSCRIBE: 0,
  CALL_REQUEST: 0,
  CALL_ACCEPT: 0,
  CALL_REJECT: 0,
  CALL_BUSY: 0,
  CALL_ENDED: 0,
  ICE_CANDIDATE: 0,
  CALL_SIGNAL: 0,
  CALL_JOIN: 0,
  CALL_PARTICIPANTS: 0,
  CALL_PARTICIPANT_STATE: 0,
  MESSAGE_EDIT: 0,
  MESSAGE_DELETE: 0,
  MESSAGE_REACTION: 0,
  CALL_STATS: 0,
} satisfies Record<ClientEventName, 0>) as ClientEventName[];

const FIELDS = ['to', 'text', 'clientMessageId', 'messageId', 'callId', 'type', 'offer', 'answer', 'candidate', 'description', 'userIds', 'token', 'conversationId', 'emoji', 'scope', 'action', 'replyTo', 'stats'];
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);

/** Every server event a socket can receive, recorded with its name. */
function recordAll(socket: ClientSocket): { event: string; payload: unknown }[] {
  const seen: { event: string; payload: unknown }[] = [];
  (socket as unknown as Socket).onAny((event: string, payload: unknown) => seen.push({ event, payload }));
  return seen;
}

function isErrorShape(ack: AckResponse): boolean {
  if (ack.ok) return true;
  const { error } = ack;
  return typeof error?.message === 'string' && typeof error.code === 'string' && error.code in ERROR_STATUS;
}

for (const target of databaseTargets()) {
  describe(`socket fuzzing (${target.kind})`, { skip: target.skip }, () => {
    // Budgets out of the way, so the random events reach validation and the handlers behind it.
    const server = useTestApp(target.kind, {
      SOCKET_EVENTS_PER_WINDOW: '100000',
      SOCKET_BYTES_PER_WINDOW: '100000000',
      CHAT_MESSAGES_PER_WINDOW: '100000',
      CHAT_TYPING_PER_WINDOW: '100000',
      CHAT_RECEIPTS_PER_WINDOW: '100000',
      PRESENCE_SUBSCRIBES_PER_MINUTE: '100000',
      CALL_REQUESTS_PER_MINUTE: '100000',
      CALL_SIGNALING_PER_MINUTE: '100000',
    });

    test('random events and payloads: every ack in the contract’s shape, nothing reaches a bystander, the server stays up', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const mallory = await chatUser(server.baseUrl, 'Mallory');
      const private1 = await sendOk(device(alice), { to: bob.id, text: 'between Alice and Bob' });
      const private2 = await sendOk(device(bob), { to: alice.id, text: 'and back' });
      const toAlice = recordAll(device(alice));
      const toBob = recordAll(device(bob));
      const attacker = device(mallory);

      // Ids an attacker would try: the others' users and messages, its own, and well-formed ones that name nothing.
      const ids = fc.constantFrom(alice.id, mallory.id, private1.message.id, private2.message.id, '01a2334e-19f1-71d0-8368-cdec933ce1ac');
      const value = fc.oneof(ids, fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(ids), fc.object(), fc.string({ unit: 'binary' }));
      const payload = fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...FIELDS), value));
      const known = fc.record({ event: fc.constantFrom(...CLIENT_EVENTS), payload });
      const unknown = fc.record({ event: fc.string({ minLength: 1, maxLength: 40 }), payload });

      await fc.assert(
        fc.asyncProperty(known, unknown, async (sent, stray) => {
          (attacker as unknown as Socket).emit(stray.event, stray.payload);
          const ack = await emitAck<AckResponse>(attacker, sent.event, sent.payload);
          assert.ok(isErrorShape(ack), `${sent.event} answered ${JSON.stringify(ack)}`);
          assert.equal(attacker.connected, true);
        }),
        { numRuns: 300, seed: SEED },
      );

      // Bob was never addressed; Alice only ever by Mallory, never with anything about Alice and Bob's messages.
      assert.deepEqual(toBob, []);
      for (const { event, payload } of toAlice) {
        assert.ok(!['MESSAGE_READ', 'MESSAGE_DELIVERED'].includes(event), `Alice got ${event}: ${JSON.stringify(payload)}`);
      }
      const history = await request(server.baseUrl, 'GET', `/api/chat/history/${bob.id}`, { token: alice.token });
      assert.deepEqual(
        history.body.messages.map((message: { readAt: unknown; deliveredAt: unknown }) => [message.readAt, message.deliveredAt]),
        [
          [null, null],
          [null, null],
        ],
      );
      assert.equal((await request(server.baseUrl, 'GET', '/health')).status, 200);
    });
  });
}
