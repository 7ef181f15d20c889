import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CallDto, IceServersResponse } from '../../src/protocol/calls.js';
import { callEventOk, callHistory, callUser, device, ringingCall } from '../support/calls.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { request } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const TURN_SECRET = 'history-test-turn-secret';
const ICE_CONFIG = {
  STUN_URLS: 'stun:127.0.0.1:3478',
  TURN_URLS: 'turn:127.0.0.1:3478?transport=udp, turns:127.0.0.1:5349?transport=tcp',
  TURN_SECRET,
  TURN_CREDENTIAL_TTL: '10m',
};

for (const target of databaseTargets()) {
  describe(`call history and ICE servers (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { ...ICE_CONFIG, RATE_LIMIT_AUTH_PER_IP: '100000' });

    test('history pages through both directions, newest first, by cursor, and shows no one else’s calls', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const carol = await callUser(server.baseUrl, 'Carol');
      const made: CallDto[] = [];
      for (const [caller, callee] of [
        [alice, bob],
        [bob, alice],
        [alice, carol],
        [carol, alice],
        [alice, bob],
      ] as const) {
        const { id } = await ringingCall(caller, callee);
        made.push(await callEventOk(device(caller), 'CALL_ENDED', { callId: id }));
      }
      await ringingCall(bob, carol);

      const first = await callHistory(server.baseUrl, alice.tokens[0]!, '?limit=2');
      const second = await callHistory(server.baseUrl, alice.tokens[0]!, `?limit=2&before=${first.nextCursor}`);
      const third = await callHistory(server.baseUrl, alice.tokens[0]!, `?limit=2&before=${second.nextCursor}`);
      assert.equal(third.nextCursor, null);
      assert.deepEqual([...first.calls, ...second.calls, ...third.calls], made.reverse());
      assert.equal(first.nextCursor, first.calls[1]!.id);

      const all = await callHistory(server.baseUrl, alice.tokens[0]!);
      assert.deepEqual(all, { calls: made, nextCursor: null });
    });

    test('history filters by status and direction: missed calls can be counted', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const bob = await callUser(server.baseUrl, 'Bob');
      const outgoing = await ringingCall(alice, bob);
      const rejected = await callEventOk(device(bob), 'CALL_REJECT', { callId: outgoing.id });
      const incoming = await ringingCall(bob, alice);
      const cancelled = await callEventOk(device(bob), 'CALL_ENDED', { callId: incoming.id });

      const ids = async (query: string) => (await callHistory(server.baseUrl, alice.tokens[0]!, query)).calls.map((call) => call.id);
      assert.deepEqual(await ids('?direction=incoming'), [cancelled.id]);
      assert.deepEqual(await ids('?direction=outgoing'), [rejected.id]);
      assert.deepEqual(await ids('?status=rejected'), [rejected.id]);
      assert.deepEqual(await ids('?status=cancelled,rejected'), [cancelled.id, rejected.id]);
      assert.deepEqual(await ids('?status=missed'), []);
      assert.deepEqual(await ids('?status=rejected&direction=incoming'), []);
    });

    test('history refuses a bad query and a missing token', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const get = (query: string) => request(server.baseUrl, 'GET', `/api/call/history${query}`, { token: alice.tokens[0]! });
      assertValidationFailed(await get('?limit=0'), 'query.limit');
      assertValidationFailed(await get('?limit=101'), 'query.limit');
      assertValidationFailed(await get('?before=nope'), 'query.before');
      assertValidationFailed(await get('?status=lost'), 'query.status.0');
      assertValidationFailed(await get('?direction=sideways'), 'query.direction');
      assertError(await request(server.baseUrl, 'GET', '/api/call/history'), 401, 'UNAUTHORIZED');
    });

    test('ICE servers: STUN, and TURN with short-lived credentials in the TURN REST API scheme', async () => {
      const alice = await callUser(server.baseUrl, 'Alice');
      const before = Math.floor(Date.now() / 1000);
      const result = await request<IceServersResponse>(server.baseUrl, 'GET', '/api/call/ice-servers', { token: alice.tokens[0]! });
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('cache-control'), 'no-store');
      const { iceServers, ttlSeconds } = result.body;
      assert.equal(ttlSeconds, 600);
      assert.deepEqual(iceServers[0], { urls: ['stun:127.0.0.1:3478'] });
      const turn = iceServers[1]!;
      assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349?transport=tcp']);
      const [expiry, userId] = turn.username!.split(':');
      assert.equal(userId, alice.id);
      assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= Math.ceil(Date.now() / 1000) + 600);
      assert.equal(turn.credential, createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64'));
      assertError(await request(server.baseUrl, 'GET', '/api/call/ice-servers'), 401, 'UNAUTHORIZED');
    });
  });
}
