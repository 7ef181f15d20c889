import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { SessionEndedEvent } from '../../src/protocol/session-events.js';
import { assertError } from '../support/assertions.js';
import { chatUser, device, send } from '../support/chat.js';
import { clusterSkip, useCluster } from '../support/cluster.js';
import { login, PASSWORD, registerUser, request } from '../support/http.js';
import { childEnv, runCli } from '../support/processes.js';
import { connectError, connectSocket, nextEvent } from '../support/sockets.js';

const LOGIN_FAILURES = 3;
const CHAT_MESSAGES = 4;

describe('revocations and limits across server processes', { skip: clusterSkip() }, () => {
  // The account-events feed is read once a minute here: whatever happens at once went through Redis.
  const cluster = useCluster(2, {
    env: { ACCOUNT_EVENTS_POLL_MS: '60000', RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES), CHAT_MESSAGES_PER_WINDOW: String(CHAT_MESSAGES) },
  });
  const url = (index: number) => cluster.node(index).baseUrl;

  async function admin() {
    const operator = await registerUser(url(0), 'Operator');
    const dir = await mkdtemp(path.join(tmpdir(), 'call-app-test-cli-'));
    try {
      const promoted = await runCli(['user:role', operator.email, 'admin'], childEnv('postgres', dir, { DATABASE_URL: cluster.current.databaseUrl }));
      assert.equal(promoted.code, 0, promoted.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return login(url(0), { email: operator.email, password: operator.password });
  }

  test('a ban on one process disconnects the user’s sockets on another at once', async () => {
    const { accessToken } = await admin();
    const victim = await registerUser(url(1), 'Victim');
    const socket = await connectSocket(url(1), victim.accessToken);
    const ended = nextEvent<SessionEndedEvent>(socket, 'SESSION_ENDED', 2_000);
    const disconnected = nextEvent<string>(socket, 'disconnect', 2_000);
    const bannedAt = Date.now();
    const banned = await request(url(0), 'PATCH', `/api/admin/users/${victim.user.id}`, { token: accessToken, body: { status: 'banned' } });
    assert.equal(banned.status, 200, JSON.stringify(banned.body));
    assert.deepEqual(await ended, { reason: 'account_banned' });
    await disconnected;
    assert.ok(Date.now() - bannedAt < 2_000, 'well before the next read of the account-events feed');
    // Its token is refused on the other process too (its cache was evicted).
    assert.equal(await connectError(url(1), { token: victim.accessToken }), 'ACCOUNT_BANNED');
    assertError(await request(url(1), 'GET', '/api/auth/me', { token: victim.accessToken }), 403, 'ACCOUNT_BANNED');
  });

  test('a logout on one process ends the session’s sockets on another at once', async () => {
    const user = await registerUser(url(0), 'Leaving');
    // The other process has the session cached from a request before the logout.
    assert.equal((await request(url(1), 'GET', '/api/auth/me', { token: user.accessToken })).status, 200);
    const socket = await connectSocket(url(1), user.accessToken);
    const ended = nextEvent<SessionEndedEvent>(socket, 'SESSION_ENDED', 2_000);
    assert.equal((await request(url(0), 'POST', '/api/auth/logout', { body: { refreshToken: user.refreshToken } })).status, 200);
    assert.deepEqual(await ended, { reason: 'session_revoked' });
    assertError(await request(url(1), 'GET', '/api/auth/me', { token: user.accessToken }), 401, 'UNAUTHORIZED');
  });

  test('failed logins for one account count across processes', async () => {
    const user = await registerUser(url(0), 'Guessed');
    const attempt = (index: number) => request(url(index), 'POST', '/api/auth/login', { body: { email: user.email, password: `${PASSWORD} wrong` } });
    for (let failure = 0; failure < LOGIN_FAILURES; failure += 1) assertError(await attempt(failure % 2), 401, 'INVALID_CREDENTIALS');
    assertError(await attempt(0), 429, 'RATE_LIMITED');
    assertError(await attempt(1), 429, 'RATE_LIMITED');
  });

  test('a user’s chat budget is shared by their devices on every process', async () => {
    const alice = await chatUser(url(0), 'Alice');
    const bob = await chatUser(url(1), 'Bob');
    const elsewhere = await connectSocket(url(1), alice.token);
    const sockets = [device(alice), elsewhere];
    for (let sent = 0; sent < CHAT_MESSAGES; sent += 1) {
      const ack = await send(sockets[sent % 2]!, { to: bob.id, text: `message ${sent}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    for (const socket of sockets) {
      const refused = await send(socket, { to: bob.id, text: 'one too many' });
      assert.equal(refused.ok, false);
      if (!refused.ok) assert.equal(refused.error.code, 'RATE_LIMITED');
    }
    assert.equal(device(bob).connected, true);
  });
});
