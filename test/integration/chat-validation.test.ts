import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import { messageDeliveredPayload, messageReadPayload, sendMessagePayload, typingPayload } from '../../src/protocol/chat.js';
import { presenceSubscribePayload } from '../../src/protocol/people.js';
import { newId } from '../../src/shared/ids.js';
import { chatUser, device, sendOk, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { emitAck } from '../support/sockets.js';
import { BUDGETS_OUT_OF_THE_WAY, useTestApp } from '../support/test-app.js';

/** Every client event with the schema the server holds it to. */
const EVENTS: Record<string, z.ZodType> = {
  CHAT_MESSAGE: sendMessagePayload,
  CHAT_TYPING: typingPayload,
  CHAT_STOP_TYPING: typingPayload,
  MESSAGE_READ: messageReadPayload,
  MESSAGE_DELIVERED: messageDeliveredPayload,
  PRESENCE_SUBSCRIBE: presenceSubscribePayload,
};

/** What the server receives of a payload: Socket.io sends JSON. */
const overTheWire = (payload: unknown): unknown => JSON.parse(JSON.stringify([payload]))[0];

for (const target of databaseTargets()) {
  describe(`chat input validation (${target.kind})`, { skip: target.skip }, () => {
    // Budgets large enough that the random payloads meet validation, not the rate limits.
    const server = useTestApp(target.kind, BUDGETS_OUT_OF_THE_WAY);
    let alice: ChatUser;
    let bob: ChatUser;
    before(async () => {
      alice = await chatUser(server.baseUrl, 'Alice');
      bob = await chatUser(server.baseUrl, 'Bob');
    });

    test('every malformed payload is answered ok: false and the connection stays usable', async () => {
      const operator = { $ne: null };
      const cases: [event: string, payload: unknown, code: string][] = [
        ['CHAT_MESSAGE', undefined, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', null, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', 'hello', 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', [bob.id, 'hello'], 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', {}, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { text: 'hello' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: 42, text: 'hello' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 42 }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: operator, text: 'hello' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: operator }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'hello', clientMessageId: operator }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'hello', clientMessageId: '' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'hello', clientMessageId: 'x'.repeat(101) }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: '' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: ' \n\t ' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'x'.repeat(4001) }, 'PAYLOAD_TOO_LARGE'],
        ['CHAT_MESSAGE', { to: bob.id, text: '😀'.repeat(4001) }, 'PAYLOAD_TOO_LARGE'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'x'.repeat(50_000) }, 'PAYLOAD_TOO_LARGE'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'nul \u0000 inside' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: bob.id, text: 'lone \ud800 surrogate' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: 'not-an-id', text: 'hello' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: '6ba7b810-9dad-41d1-80b4-00c04fd430c8', text: 'hello' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: alice.id, text: 'note to self' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: alice.id.toUpperCase(), text: 'note to self' }, 'VALIDATION_FAILED'],
        ['CHAT_MESSAGE', { to: newId(), text: 'hello?' }, 'NOT_FOUND'],
        ['CHAT_TYPING', {}, 'VALIDATION_FAILED'],
        ['CHAT_TYPING', { to: operator }, 'VALIDATION_FAILED'],
        ['CHAT_TYPING', { to: alice.id }, 'VALIDATION_FAILED'],
        ['CHAT_TYPING', { to: newId() }, 'NOT_FOUND'],
        ['CHAT_STOP_TYPING', { to: [bob.id] }, 'VALIDATION_FAILED'],
        ['CHAT_STOP_TYPING', { to: newId() }, 'NOT_FOUND'],
        ['MESSAGE_READ', {}, 'VALIDATION_FAILED'],
        ['MESSAGE_READ', { messageId: operator }, 'VALIDATION_FAILED'],
        ['MESSAGE_READ', { messageId: 'x' }, 'VALIDATION_FAILED'],
        ['MESSAGE_READ', { messageId: newId() }, 'NOT_FOUND'],
        ['MESSAGE_DELIVERED', { messageId: 7 }, 'VALIDATION_FAILED'],
        ['MESSAGE_DELIVERED', { messageId: newId() }, 'NOT_FOUND'],
        ['PRESENCE_SUBSCRIBE', {}, 'VALIDATION_FAILED'],
        ['PRESENCE_SUBSCRIBE', { userIds: bob.id }, 'VALIDATION_FAILED'],
        ['PRESENCE_SUBSCRIBE', { userIds: [operator] }, 'VALIDATION_FAILED'],
      ];
      for (const [event, payload, code] of cases) {
        const answer = await emitAck(device(alice), event, payload);
        assert.equal(answer.ok, false, `${event} ${JSON.stringify(payload)?.slice(0, 80)}`);
        assert.equal(answer.error.code, code, `${event} ${JSON.stringify(payload)?.slice(0, 80)}`);
        assert.equal(typeof answer.error.message, 'string');
      }
      assert.equal(device(alice).connected, true);
      // The limits are inclusive, in characters (code points): 4000 emoji are fine.
      await sendOk(device(alice), { to: bob.id, text: '😀'.repeat(4000) });
      await sendOk(device(alice), { to: bob.id, text: 'x'.repeat(4000) });
      // Ids are read in any case, as the lower-case ids the server hands out.
      const { message } = await sendOk(device(alice), { to: bob.id.toUpperCase(), text: 'shouting id' });
      assert.equal(message.to, bob.id);
    });

    test('an event without an acknowledgement callback that fails is dropped quietly', async () => {
      const untyped = device(alice) as unknown as Socket;
      untyped.emit('CHAT_MESSAGE', { to: { $ne: null } });
      untyped.emit('MESSAGE_READ', { messageId: newId() });
      untyped.emit('CHAT_MESSAGE');
      await sendOk(device(alice), { to: bob.id, text: 'still here' });
    });

    test('random payloads never crash the server, and an invalid one is never answered ok: true', async () => {
      const anyId = fc.constantFrom(alice.id, bob.id, bob.id.toUpperCase(), newId(), 'not-an-id');
      const nearlyValid = fc.record(
        {
          to: fc.oneof(anyId, fc.anything()),
          text: fc.oneof(fc.string({ unit: 'binary', maxLength: 50 }), fc.anything()),
          clientMessageId: fc.oneof(fc.string({ maxLength: 120 }), fc.anything()),
          messageId: fc.oneof(anyId, fc.anything()),
          userIds: fc.oneof(fc.array(anyId, { maxLength: 3 }), fc.anything()),
          from: anyId,
        },
        { requiredKeys: [] },
      );
      const payload = fc.oneof(fc.anything(), nearlyValid);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...Object.keys(EVENTS)), payload, async (event, sent) => {
          const answer = await emitAck(device(alice), event, sent);
          assert.equal(typeof answer.ok, 'boolean');
          // Refusals are the client's fault, never the server's.
          if (!answer.ok) assert.notEqual(answer.error.code, 'INTERNAL');
          const valid = EVENTS[event]!.safeParse(overTheWire(sent)).success;
          if (!valid) {
            assert.equal(answer.ok, false);
            assert.ok(['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE'].includes(answer.error.code), answer.error.code);
          }
        }),
        { numRuns: 300 },
      );
      assert.equal(device(alice).connected, true);
      await sendOk(device(alice), { to: bob.id, text: 'survived' });
    });
  });
}
