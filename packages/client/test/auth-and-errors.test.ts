import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ApiError, backoffDelay, isRetryable, memoryTokenStore } from '../src/index.js';
import { uniqueEmail, PASSWORD } from '../../../test/support/http.js';
import { closeSdkClients, countingFetch, eventually, sdkClient, signedInClient } from '../../../test/support/sdk.js';
import { useTestApp } from '../../../test/support/test-app.js';

const kind = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';

describe(`client SDK: accounts, tokens and errors (${kind})`, () => {
  // Short-lived access tokens, so rotation and TOKEN_EXPIRED happen within the test.
  const server = useTestApp(kind, { JWT_ACCESS_TTL: '3' });
  after(closeSdkClients);

  test('register and login answer the user; refusals are typed errors with the contract code, never retried', async () => {
    const email = uniqueEmail('ada');
    const counted = countingFetch();
    const client = sdkClient(server.baseUrl, { fetch: counted.fetch });
    const user = await client.auth.register({ email, password: PASSWORD, name: 'Ada' });
    assert.equal(user.email, email);

    const taken = await client.auth.register({ email, password: PASSWORD, name: 'Ada' }).catch((error: unknown) => error);
    assert.ok(taken instanceof ApiError);
    assert.equal(taken.code, 'EMAIL_TAKEN');
    assert.equal(taken.status, 409);
    assert.equal(isRetryable(taken), false);

    const wrong = await client.auth.login({ email, password: 'not the password' }).catch((error: unknown) => error);
    assert.ok(wrong instanceof ApiError && wrong.code === 'INVALID_CREDENTIALS');

    const invalid = await client.api.get('/api/users', { query: '' }).catch((error: unknown) => error);
    assert.ok(invalid instanceof ApiError && invalid.code === 'VALIDATION_FAILED' && invalid.details.length > 0);
    // One request each: a non-retryable refusal is never sent again.
    assert.equal(counted.count('POST /api/auth/register'), 2);
    assert.equal(counted.count('GET /api/users'), 1);

    assert.equal((await client.auth.login({ email, password: PASSWORD })).id, user.id);
  });

  test('concurrent callers share one refresh: the session survives (a second refresh would revoke it)', async () => {
    const counted = countingFetch();
    const client = sdkClient(server.baseUrl, { fetch: counted.fetch });
    await client.auth.register({ email: uniqueEmail('grace'), password: PASSWORD, name: 'Grace' });
    const sessions = await Promise.all(Array.from({ length: 8 }, () => client.auth.refresh()));
    assert.equal(counted.count('POST /api/auth/refresh-token'), 1);
    assert.equal(new Set(sessions.map((s) => s.refreshToken)).size, 1);

    // The access token runs out: eight requests at once find it due and share one rotation.
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.api.get<{ user: { id: string } }>('/api/auth/me')));
    assert.ok(answers.every((answer) => answer.user.id === client.user?.id));
    assert.equal(counted.count('POST /api/auth/refresh-token'), 2);
  });

  test('TOKEN_EXPIRED from the server: one refresh for every request that met it, then each is sent again', async () => {
    const first = sdkClient(server.baseUrl);
    await first.auth.register({ email: uniqueEmail('linus'), password: PASSWORD, name: 'Linus' });
    await new Promise((resolve) => setTimeout(resolve, 3100));
    // A device whose clock thinks the token is still good: the server is the one to say it expired.
    const stale = { ...first.auth.session!, refreshAt: Date.now() + 3_600_000, accessExpiresAt: Date.now() + 3_600_000 };
    const store = memoryTokenStore();
    await store.save(stale);
    const counted = countingFetch();
    const client = sdkClient(server.baseUrl, { fetch: counted.fetch, tokenStore: store });
    await client.auth.restore();
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.api.get<{ user: { id: string } }>('/api/auth/me')));
    assert.ok(answers.every((answer) => answer.user.id === stale.user.id));
    assert.equal(counted.count('POST /api/auth/refresh-token'), 1);
    assert.equal(counted.count('GET /api/auth/me'), 10);
  });

  test('the socket re-authenticates on rotation and outlives its access tokens; a handshake refused TOKEN_EXPIRED refreshes and connects', async () => {
    const client = await signedInClient(server.baseUrl, 'Barbara');
    const socketId = client.realtime.socket.id;
    let disconnects = 0;
    client.realtime.socket.on('disconnect', () => (disconnects += 1));
    // Three access-token lifetimes: each rotation goes to the open socket with AUTHENTICATE.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    assert.equal(disconnects, 0);
    assert.equal(client.realtime.socket.id, socketId);
    await client.realtime.request('PRESENCE_SUBSCRIBE', { userIds: [] });

    // A session restored with an expired access token its clock believes: refused, refreshed, connected.
    client.realtime.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const store = memoryTokenStore();
    await store.save({ ...client.auth.session!, refreshAt: Date.now() + 3_600_000 });
    const restored = sdkClient(server.baseUrl, { tokenStore: store });
    await restored.auth.restore();
    const refused: string[] = [];
    restored.realtime.socket.on('connect_error', (error) => refused.push(error.message));
    restored.connect();
    await restored.realtime.whenConnected();
    assert.deepEqual(refused, ['TOKEN_EXPIRED']);
  });

  test('SESSION_ENDED: a revoked session signs the client out and it stays disconnected', async () => {
    const email = uniqueEmail('edsger');
    const phone = sdkClient(server.baseUrl);
    await phone.auth.register({ email, password: PASSWORD, name: 'Edsger' });
    phone.connect();
    await phone.realtime.whenConnected();
    const laptop = sdkClient(server.baseUrl);
    await laptop.auth.login({ email, password: PASSWORD });
    const signedOut = new Promise((resolve) => phone.auth.on('signedOut', resolve));
    await laptop.api.post('/api/auth/logout-all');
    assert.equal(await signedOut, 'session_revoked');
    assert.equal(phone.user, null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(phone.realtime.state, 'disconnected');
    assert.equal(phone.realtime.connected, false);
  });

  test('a dropped connection comes back by itself, after a backoff with jitter', async () => {
    const client = await signedInClient(server.baseUrl, 'Donald');
    const states: string[] = [];
    client.realtime.on('state', (state) => states.push(state));
    client.realtime.socket.io.engine.close();
    await eventually(() => states.includes('connected'), 'the reconnection');
    assert.deepEqual(states, ['waiting', 'connecting', 'connected']);

    // Equal jitter: half the ceiling fixed, half random; the ceiling doubles up to the maximum.
    const options = { initialMs: 100, maxMs: 1000 };
    assert.equal(backoffDelay(0, { ...options, random: () => 0 }), 50);
    assert.equal(backoffDelay(0, { ...options, random: () => 0.999999 }) < 100, true);
    assert.equal(backoffDelay(2, { ...options, random: () => 0 }), 200);
    assert.equal(backoffDelay(20, { ...options, random: () => 0 }), 500);
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(3, options)));
    assert.ok(spread.size > 1, 'delays are jittered');
  });
});
