import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import type { SessionEndedEvent } from '../../src/protocol/session-events.js';
import { sleep } from '../support/calls.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request } from '../support/http.js';
import { childEnv, runCli } from '../support/processes.js';
import { collect, connectError, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';
import { accessTokenClaims } from '../support/tokens.js';

/** A socket.io-client that presents whatever handshake `auth` an attacker likes (a stolen pid and offset). */
function rawSocket(baseUrl: string, auth: Record<string, unknown>): ClientSocket {
  return io(baseUrl, { auth, reconnection: false, forceNew: true });
}

/** The connection breaks the way a phone losing its network does: the server sees the transport close. */
function dropTransport(socket: ClientSocket): Promise<unknown> {
  const gone = nextEvent(socket, 'disconnect');
  (socket as unknown as Socket).io.engine.close();
  return gone;
}

/** Resolves with the SESSION_ENDED reason and the disconnect that follows it. */
async function sessionEnd(socket: ClientSocket, timeoutMs = 5000): Promise<[SessionEndedEvent, unknown]> {
  return Promise.all([nextEvent<SessionEndedEvent>(socket, 'SESSION_ENDED', timeoutMs), nextEvent(socket, 'disconnect', timeoutMs)]);
}

async function refresh(baseUrl: string, refreshToken: string): Promise<{ accessToken: string; refreshToken: string }> {
  const result = await request(baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken } });
  assert.equal(result.status, 200);
  return result.body;
}

for (const target of databaseTargets()) {
  describe(`socket sessions under attack (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { RATE_LIMIT_AUTH_PER_IP: '100000' });

    test('a stolen socket id recovers nothing: without a live session of its own user it gets no packet and no room', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const mallory = await registerUser(server.baseUrl, 'Mallory');
      const victim = device(alice);
      await Promise.all([nextEvent(victim, 'CHAT_MESSAGE'), sendOk(device(bob), { to: alice.id, text: 'before' })]);
      // What a client presents to recover: the server-given pid (the socket id where none is given) and its offset.
      const internals = victim as unknown as { _pid?: string; _lastOffset?: string };
      const stolen = { pid: internals._pid ?? victim.id, offset: internals._lastOffset ?? '' };
      await dropTransport(victim);
      await sendOk(device(bob), { to: alice.id, text: 'while Alice was away' });

      const anonymous = rawSocket(server.baseUrl, stolen);
      const toAnonymous = collect<ChatMessageEvent>(anonymous, 'CHAT_MESSAGE');
      assert.equal((await nextEvent<Error>(anonymous, 'connect_error')).message, 'UNAUTHORIZED');
      anonymous.close();

      const thief = rawSocket(server.baseUrl, { token: mallory.accessToken, ...stolen });
      const toThief = collect<ChatMessageEvent>(thief, 'CHAT_MESSAGE');
      await nextEvent(thief, 'connect');
      const aliceAgain = await connectSocket(server.baseUrl, alice.token);
      await Promise.all([nextEvent(aliceAgain, 'CHAT_MESSAGE'), sendOk(device(bob), { to: alice.id, text: 'later' })]);
      await emitAck(thief, 'CHAT_STOP_TYPING', {});
      thief.close();
      assert.deepEqual([toAnonymous.items, toThief.items], [[], []]);
    });

    test('a logout racing requests leaves no live session behind in the cache', async () => {
      const carol = await registerUser(server.baseUrl, 'Carol');
      for (let trial = 0; trial < 10; trial += 1) {
        const session = await login(server.baseUrl, { email: carol.email, password: carol.password });
        const me = () => request(server.baseUrl, 'GET', '/api/auth/me', { token: session.accessToken });
        const racing = Array.from({ length: 10 }, me);
        const logout = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: session.refreshToken } });
        assert.equal(logout.status, 200);
        await Promise.all(racing);
        assert.equal((await me()).status, 401, `trial ${trial}: the logged-out token still works`);
      }
    });

    test('a revoked session ends its socket with SESSION_ENDED, and a handshake racing the logout does not survive it', async () => {
      const dave = await registerUser(server.baseUrl, 'Dave');
      for (let trial = 0; trial < 5; trial += 1) {
        const session = await login(server.baseUrl, { email: dave.email, password: dave.password });
        const connected = await connectSocket(server.baseUrl, session.accessToken);
        const ended = sessionEnd(connected);
        const racing = rawSocket(server.baseUrl, { token: session.accessToken });
        const racingGone = new Promise<void>((resolve) => {
          racing.once('connect_error', () => resolve());
          racing.once('disconnect', () => resolve());
        });
        await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: session.refreshToken } });
        assert.deepEqual((await ended)[0], { reason: 'session_revoked' });
        await racingGone;
        assert.equal(racing.connected, false, `trial ${trial}: a socket of the logged-out session stayed connected`);
        racing.close();
      }
    });

    test('a ban ends every socket of the user with SESSION_ENDED account_banned', async () => {
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const erin = await registerUser(server.baseUrl, 'Erin');
      const phone = await connectSocket(server.baseUrl, erin.accessToken);
      const ended = sessionEnd(phone);
      await request(server.baseUrl, 'PATCH', `/api/admin/users/${erin.user.id}`, { token: admin.accessToken, body: { status: 'banned' } });
      assert.deepEqual((await ended)[0], { reason: 'account_banned' });
    });
  });

  describe(`socket lifetime follows the access token (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { JWT_ACCESS_TTL: '3s', RATE_LIMIT_AUTH_PER_IP: '100000' });

    test('a socket whose token expires gets SESSION_ENDED token_expired and is closed', async () => {
      const frank = await registerUser(server.baseUrl, 'Frank');
      const socket = await connectSocket(server.baseUrl, frank.accessToken);
      const [ended] = await sessionEnd(socket, 5000);
      assert.deepEqual(ended, { reason: 'token_expired' });
      assert.equal(await connectError(server.baseUrl, { token: frank.accessToken }), 'TOKEN_EXPIRED');
    });

    test('AUTHENTICATE with a refreshed token keeps the connection past the old token’s expiry', async () => {
      const grace = await registerUser(server.baseUrl, 'Grace');
      const henry = await registerUser(server.baseUrl, 'Henry');
      const socket = await connectSocket(server.baseUrl, grace.accessToken);
      const ended = collect(socket, 'SESSION_ENDED');
      // Token expiry has one-second precision: refresh late enough that the new token outlives the old.
      await sleep(1500);
      const fresh = await refresh(server.baseUrl, grace.refreshToken);
      const ack = await emitAck(socket, 'AUTHENTICATE', { token: fresh.accessToken });
      assert.equal(ack.ok, true);
      assert.equal(Date.parse(ack.expiresAt), accessTokenClaims(fresh.accessToken).exp * 1000);
      await sleep(accessTokenClaims(grace.accessToken).exp * 1000 - Date.now() + 500);
      assert.equal(socket.connected, true);
      assert.deepEqual(ended.items, []);
      await sendOk(socket, { to: henry.user.id, text: 'still here' });
    });

    test('AUTHENTICATE refuses a token of another session, and an invalid one, without dropping the socket', async () => {
      const ivy = await registerUser(server.baseUrl, 'Ivy');
      const other = await login(server.baseUrl, { email: ivy.email, password: ivy.password });
      const socket = await connectSocket(server.baseUrl, ivy.accessToken);
      const foreign = await emitAck(socket, 'AUTHENTICATE', { token: other.accessToken });
      assert.deepEqual([foreign.ok, foreign.error.code], [false, 'FORBIDDEN']);
      const garbage = await emitAck(socket, 'AUTHENTICATE', { token: 'not.a.jwt' });
      assert.deepEqual([garbage.ok, garbage.error.code], [false, 'UNAUTHORIZED']);
      assert.equal(socket.connected, true);
    });
  });
}

const postgres = databaseTargets().find((target) => target.kind === 'postgres')!;

describe('revocations reach every process through the database (postgres)', { skip: postgres.skip }, () => {
  const env = { ACCOUNT_EVENTS_POLL_MS: '200', RATE_LIMIT_AUTH_PER_IP: '100000' };
  const first = useTestApp('postgres', env);
  const second = useTestApp('postgres', env);

  test('a logout handled by one process ends the session’s socket on another, and its REST access there', async () => {
    const jack = await registerUser(first.baseUrl, 'Jack');
    const elsewhere = await connectSocket(second.baseUrl, jack.accessToken);
    assert.equal((await request(second.baseUrl, 'GET', '/api/auth/me', { token: jack.accessToken })).status, 200);
    const ended = sessionEnd(elsewhere);
    await request(first.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: jack.refreshToken } });
    assert.deepEqual((await ended)[0], { reason: 'session_revoked' });
    assert.equal((await request(second.baseUrl, 'GET', '/api/auth/me', { token: jack.accessToken })).status, 401);
  });

  test('a ban made with the CLI reaches a running server: sockets end and the token is refused', async () => {
    const kate = await registerUser(first.baseUrl, 'Kate');
    const socket = await connectSocket(first.baseUrl, kate.accessToken);
    assert.equal((await request(first.baseUrl, 'GET', '/api/auth/me', { token: kate.accessToken })).status, 200);
    const ended = sessionEnd(socket, 10_000);
    const cli = await runCli(['user:status', kate.email, 'banned'], childEnv('postgres', first.dataDir));
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual((await ended)[0], { reason: 'account_banned' });
    const me = await request(first.baseUrl, 'GET', '/api/auth/me', { token: kate.accessToken });
    assert.deepEqual([me.status, me.body.error.code], [403, 'ACCOUNT_BANNED']);
  });
});
