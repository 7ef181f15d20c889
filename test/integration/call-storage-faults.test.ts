import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { EXPIRY_RETRY_DELAYS_MS } from '../../src/calls/unstored-expiries.js';
import type { CallEndedEvent, CallIdEvent, IncomingCallEvent, ParticipantLeftEvent } from '../../src/protocol/call-events.js';
import {
  callEvent,
  callEventOk,
  callHistory,
  callUser,
  device,
  dropConnection,
  refusal,
  refuseCallStatus,
  ringingCall,
  roundTrip,
  storedCall,
  until,
  type CallUser,
} from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { callGroup, groupCallOk, ringingGroupCall, storedGroupCall } from '../support/group-calls.js';
import { collect, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

// Long enough for the members of a group call to join before its ring runs out.
const RING_TIMEOUT_MS = 1_000;
const GRACE_MS = 500;
/** Long enough for the ring timeout (or the grace) and every retry of it on a loaded machine. */
const TOLD_WITHIN_MS = RING_TIMEOUT_MS + EXPIRY_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) + 10_000;
/** Long enough for the first try of the `store` timer (5 s) on a loaded machine. */
const STORED_WITHIN_MS = 30_000;

type Trio = [CallUser, CallUser, CallUser];

// The faults are made in the database itself, which the embedded one cannot share with the test; a database of
// its own keeps them from failing other suites' calls.
const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('1:1 and group calls when storage fails (PostgreSQL only)', { skip: postgres.skip }, () => {
  let db: pg.Client;
  // Hooks run in the order they are added: this client closes before the app's database is dropped.
  after(() => db.end());
  const server = useTestApp(
    'postgres',
    { CALL_RING_TIMEOUT_MS: String(RING_TIMEOUT_MS), CALL_RECONNECT_GRACE_MS: String(GRACE_MS), RATE_LIMIT_AUTH_PER_IP: '100000' },
    { privateDatabase: true },
  );
  before(async () => {
    db = new pg.Client({ connectionString: server.config.databaseUrl });
    await db.connect();
  });

  test('a ring timeout the database refuses to store is tried again: once it is stored, both hear CALL_TIMEOUT once (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    const fault = await refuseCallStatus(db, 'calls', 'missed');
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
    const fault = await refuseCallStatus(db, 'calls', 'missed');
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
      await until('the outcome was stored', async () => (await storedCall(server.baseUrl, alice.tokens[0]!, id)).status !== 'ringing', STORED_WITHIN_MS);
      const call = await storedCall(server.baseUrl, bob.tokens[0]!, id);
      assert.deepEqual([call.status, call.endReason, call.answeredAt], ['missed', 'timeout', null]);
    } finally {
      await fault.clear();
    }
  });

  test('a group call ring timeout the database refuses to store is tried again: once it is stored, every member hears CALL_TIMEOUT once (PostgreSQL)', async () => {
    const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
    const fault = await refuseCallStatus(db, 'group_calls', 'missed');
    try {
      const timeouts = group.members.map((member) => collect<CallIdEvent>(device(member), 'CALL_TIMEOUT'));
      const { call } = await ringingGroupCall(group);
      await until('the ring timeout was refused', async () => (await fault.attempts()) >= 1, TOLD_WITHIN_MS);
      assert.deepEqual(
        timeouts.map((received) => received.items),
        [[], [], []],
        'nobody is told what is not stored',
      );
      await fault.clear();

      await until('every member was told', async () => timeouts.every((received) => received.items.length > 0), TOLD_WITHIN_MS);
      await Promise.all(group.members.map((member) => roundTrip(device(member))));
      for (const received of timeouts) assert.deepEqual(received.items, [{ callId: call.id }]);
      const stored = await storedGroupCall(server.baseUrl, group.members[0]!.tokens[0]!, call.id);
      assert.deepEqual([stored.status, stored.endReason], ['missed', 'timeout']);
      const again = await groupCallOk(device(group.members[1]!), 'CALL_REQUEST', { conversationId: group.id, type: 'audio' });
      assert.equal(again.call.status, 'ringing', 'the group may call again');
      await callEventOk(device(group.members[1]!), 'CALL_ENDED', { callId: again.call.id });
    } finally {
      await fault.clear();
    }
  });

  test('a group call ring timeout still refused after its retries frees every member at once and is stored once the database takes it (PostgreSQL)', async () => {
    const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
    const [ann, ben, cat] = group.members as Trio;
    const fault = await refuseCallStatus(db, 'group_calls', 'missed');
    try {
      const told = group.members.map((member) => nextEvent<CallIdEvent>(device(member), 'CALL_TIMEOUT', TOLD_WITHIN_MS));
      const { call } = await ringingGroupCall(group);
      for (const timeout of await Promise.all(told)) assert.deepEqual(timeout, { callId: call.id });
      assert.ok((await fault.attempts()) >= 1 + EXPIRY_RETRY_DELAYS_MS.length, 'told only after every retry failed');

      // While the database still refuses that outcome, the call is over for everyone and nobody is in a call.
      assert.equal(await refusal(device(ben), 'CALL_JOIN', { callId: call.id }), 'INVALID_STATE');
      const direct = await callEventOk(device(ann), 'CALL_REQUEST', { to: ben.id, type: 'audio' });
      assert.equal(direct.status, 'ringing', 'Ann can call Ben');
      await callEventOk(device(ann), 'CALL_ENDED', { callId: direct.id });
      const next = await ringingGroupCall(group, cat);
      assert.equal(next.call.status, 'ringing', 'Cat can start a call in the group');
      await groupCallOk(device(ann), 'CALL_JOIN', { callId: next.call.id });
      await callEventOk(device(cat), 'CALL_ENDED', { callId: next.call.id });
      await callEventOk(device(ann), 'CALL_ENDED', { callId: next.call.id });

      await fault.clear();
      await until('the outcome was stored', async () => (await storedGroupCall(server.baseUrl, ann.tokens[0]!, call.id)).status !== 'ringing', STORED_WITHIN_MS);
      const stored = await storedGroupCall(server.baseUrl, cat.tokens[0]!, call.id);
      assert.deepEqual([stored.status, stored.endReason, stored.answeredAt], ['missed', 'timeout', null]);
      assert.deepEqual(stored.participants.map((participant) => [participant.userId, participant.leftAt !== null]), [[ann.id, true]]);
    } finally {
      await fault.clear();
    }
  });

  test('a dropped participant whose leave is still refused after its retries is out at once; the call goes on and its next change stores both leaves in order (PostgreSQL)', async () => {
    const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
    const [ann, ben, cat] = group.members as Trio;
    const eve = await callUser(server.baseUrl, 'Eve');
    const { call } = await ringingGroupCall(group);
    await groupCallOk(device(ben), 'CALL_JOIN', { callId: call.id });
    const catIn = await groupCallOk(device(cat), 'CALL_JOIN', { callId: call.id });
    // A leave that is not the last keeps the call accepted.
    const fault = await refuseCallStatus(db, 'group_calls', 'accepted');
    try {
      const lefts = [ann, ben].map((member) => nextEvent<ParticipantLeftEvent>(device(member), 'CALL_PARTICIPANT_LEFT', GRACE_MS + TOLD_WITHIN_MS));
      await dropConnection(device(cat));
      for (const left of await Promise.all(lefts)) assert.deepEqual(left, { callId: call.id, userId: cat.id, deviceId: catIn.you.deviceId, reason: 'connection_lost' });
      assert.ok((await fault.attempts()) >= 1 + EXPIRY_RETRY_DELAYS_MS.length, 'told only after every retry failed');

      const back = nextEvent(device(cat), 'connect');
      device(cat).connect();
      await back;
      const direct = await callEventOk(device(cat), 'CALL_REQUEST', { to: eve.id, type: 'audio' });
      assert.equal(direct.status, 'ringing', 'Cat is free while the call goes on');
      await callEventOk(device(cat), 'CALL_ENDED', { callId: direct.id });

      await fault.clear();
      await callEventOk(device(ben), 'CALL_ENDED', { callId: call.id });
      await callEventOk(device(ann), 'CALL_ENDED', { callId: call.id });
      const stored = await storedGroupCall(server.baseUrl, ann.tokens[0]!, call.id);
      assert.deepEqual([stored.status, stored.endReason], ['ended', 'hangup']);
      const leftAt = new Map(stored.participants.map((participant) => [participant.userId, participant.leftAt]));
      assert.ok(leftAt.get(cat.id)! < leftAt.get(ben.id)! && leftAt.get(ben.id)! <= leftAt.get(ann.id)!, `left in order: ${JSON.stringify([...leftAt])}`);
    } finally {
      await fault.clear();
    }
  });

  test('a call that rang but could not be stored never existed: its ringing devices hear CALL_ENDED server_restart, the caller INTERNAL, both are free (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice', 2);
    const bob = await callUser(server.baseUrl, 'Bob', 2);
    const fault = await refuseCallStatus(db, 'calls', 'ringing');
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

  test('outcomes told but not stored yet get a last try at shutdown: a 1:1 and a group call stored missed by the stop (PostgreSQL)', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat']);
    const faults = await Promise.all([refuseCallStatus(db, 'calls', 'missed'), refuseCallStatus(db, 'group_calls', 'missed')]);
    try {
      const told = [alice, bob, ...group.members].map((user) => nextEvent<CallIdEvent>(device(user), 'CALL_TIMEOUT', TOLD_WITHIN_MS));
      const [direct, { call }] = await Promise.all([ringingCall(alice, bob), ringingGroupCall(group)]);
      await Promise.all(told);
      for (const fault of faults) await fault.clear();

      // The stop comes long before the first try of the `store` timer: only its last try can store them.
      await server.stop();
      const { rows } = await db.query<{ id: string; status: string; end_reason: string }>(
        'SELECT id, status, end_reason FROM calls WHERE id = $1 UNION ALL SELECT id, status, end_reason FROM group_calls WHERE id = $2',
        [direct.id, call.id],
      );
      assert.deepEqual(
        rows.map((row) => [row.id, row.status, row.end_reason]).sort(),
        [
          [direct.id, 'missed', 'timeout'],
          [call.id, 'missed', 'timeout'],
        ].sort(),
      );
    } finally {
      for (const fault of faults) await fault.clear();
      await server.start();
    }
  });
});
