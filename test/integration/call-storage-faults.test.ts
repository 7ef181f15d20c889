import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { EXPIRY_RETRY_DELAYS_MS } from '../../src/calls/unstored-expiries.js';
import type { CallEndedEvent, CallIdEvent, IncomingCallEvent } from '../../src/protocol/call-events.js';
import {
  callEvent,
  callEventOk,
  callHistory,
  callUser,
  device,
  refusal,
  refuseCallStatus,
  ringingCall,
  roundTrip,
  storedCall,
  until,
} from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { collect, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const RING_TIMEOUT_MS = 500;
/** Long enough for the ring timeout and every retry of it on a loaded machine. */
const TOLD_WITHIN_MS = RING_TIMEOUT_MS + EXPIRY_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) + 10_000;

// The faults are made in the database itself, which the embedded one cannot share with the test; a database of
// its own keeps them from failing other suites' calls.
const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('calls when storage fails (PostgreSQL only)', { skip: postgres.skip }, () => {
  let db: pg.Client;
  // Hooks run in the order they are added: this client closes before the app's database is dropped.
  after(() => db.end());
  const server = useTestApp(
    'postgres',
    { CALL_RING_TIMEOUT_MS: String(RING_TIMEOUT_MS), RATE_LIMIT_AUTH_PER_IP: '100000' },
    { privateDatabase: true },
  );
  before(async () => {
    db = new pg.Client({ connectionString: server.config.databaseUrl });
    await db.connect();
  });

  test('a ring timeout the database refuses to store is tried again: once it is stored, both hear CALL_TIMEOUT once (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    const fault = await refuseCallStatus(db, 'missed');
    try {
      const timeouts = [alice, bob].map((user) => collect<CallIdEvent>(device(user), 'CALL_TIMEOUT'));
      const { id } = await ringingCall(alice, bob);
      await until('the ring timeout was refused', async () => (await fault.attempts()) >= 1, TOLD_WITHIN_MS);
      assert.deepEqual(
        timeouts.map((received) => received.items),
        [[], []],
        'nobody is told what is not stored',
      );
      await fault.clear();

      await until('both parties were told', async () => timeouts.every((received) => received.items.length > 0), TOLD_WITHIN_MS);
      await Promise.all([roundTrip(device(alice)), roundTrip(device(bob))]);
      for (const received of timeouts) assert.deepEqual(received.items, [{ callId: id }]);
      const call = await storedCall(server.baseUrl, alice.tokens[0]!, id);
      assert.deepEqual([call.status, call.endReason], ['missed', 'timeout']);
      const again = await callEventOk(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio' });
      assert.equal(again.status, 'ringing', 'neither is busy any more');
      await callEventOk(device(bob), 'CALL_ENDED', { callId: again.id });
    } finally {
      await fault.clear();
    }
  });

  test('a ring timeout still refused after its retries frees both parties at once and is stored once the database takes it (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    const fault = await refuseCallStatus(db, 'missed');
    try {
      const { id } = await ringingCall(alice, bob);
      const told = [alice, bob].map((user) => nextEvent<CallIdEvent>(device(user), 'CALL_TIMEOUT', TOLD_WITHIN_MS));
      for (const timeout of await Promise.all(told)) assert.deepEqual(timeout, { callId: id });
      assert.ok((await fault.attempts()) >= 1 + EXPIRY_RETRY_DELAYS_MS.length, 'told only after every retry failed');

      // While the database still refuses that outcome, both can call again, and the call is over for them.
      for (const [caller, callee] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const call = await callEventOk(device(caller), 'CALL_REQUEST', { to: callee.id, type: 'audio' });
        assert.equal(call.status, 'ringing', `${caller.name} can call ${callee.name}`);
        await callEventOk(device(caller), 'CALL_ENDED', { callId: call.id });
      }
      assert.equal(await refusal(device(bob), 'CALL_ACCEPT', { callId: id }), 'INVALID_STATE');

      await fault.clear();
      await until('the outcome was stored', async () => (await storedCall(server.baseUrl, alice.tokens[0]!, id)).status !== 'ringing', 30_000);
      const call = await storedCall(server.baseUrl, bob.tokens[0]!, id);
      assert.deepEqual([call.status, call.endReason, call.answeredAt], ['missed', 'timeout', null]);
    } finally {
      await fault.clear();
    }
  });

  test('a call that rang but could not be stored never existed: its ringing devices hear CALL_ENDED server_restart, the caller INTERNAL, both are free (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice', 2);
    const bob = await callUser(server.baseUrl, 'Bob', 2);
    const fault = await refuseCallStatus(db, 'ringing');
    try {
      const rings = bob.devices.map((socket) => collect<IncomingCallEvent>(socket, 'CALL_REQUEST'));
      const ends = [...bob.devices, ...alice.devices].map((socket) => collect<CallEndedEvent>(socket, 'CALL_ENDED'));
      const ack = await callEvent(device(alice), 'CALL_REQUEST', { to: bob.id, type: 'audio' });
      assert.equal(ack.ok ? 'ok' : ack.error.code, 'INTERNAL');
      assert.equal(await fault.attempts(), 1);
      await Promise.all([...bob.devices, ...alice.devices].map(roundTrip));
      const [callId] = rings[0]!.items.map((ring) => ring.call.id);
      assert.ok(callId, 'the callee rang while the record was being stored');
      for (const ring of rings) assert.deepEqual(ring.items.map((item) => item.call.id), [callId]);
      assert.deepEqual(
        ends.map((ended) => ended.items),
        [[{ callId, reason: 'server_restart' }], [{ callId, reason: 'server_restart' }], [], []],
        "every callee device is told, the caller's devices are not (the calling one has its ack)",
      );
      assert.equal(await refusal(device(bob), 'CALL_ACCEPT', { callId }), 'NOT_FOUND');
      assert.deepEqual((await callHistory(server.baseUrl, alice.tokens[0]!)).calls, []);
      await fault.clear();

      const again = await callEventOk(device(bob), 'CALL_REQUEST', { to: alice.id, type: 'audio' });
      assert.equal(again.status, 'ringing', 'neither is busy');
      await callEventOk(device(bob), 'CALL_ENDED', { callId: again.id });
    } finally {
      await fault.clear();
    }
  });
});
