import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { accessTokenClaims } from '../support/tokens.js';

const expoToken = () => `ExponentPushToken[${randomUUID()}]`;

for (const target of databaseTargets()) {
  describe(`expo push tokens (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { RATE_LIMIT_AUTH_PER_IP: '100000' });
    const register = (accessToken: string, body: unknown) => request(server.baseUrl, 'POST', '/api/auth/expo-push-token', { token: accessToken, body });
    const remove = (accessToken: string, body: unknown) => request(server.baseUrl, 'DELETE', '/api/auth/expo-push-token', { token: accessToken, body });
    const registered = async (accessToken: string, body: unknown) => {
      const result = await register(accessToken, body);
      assert.deepEqual([result.status, result.body], [200, { ok: true }]);
    };
    /** The stored tokens of a user as [token, session id, device id], sorted. */
    const stored = async (userId: string) =>
      (await server.app.storage.pushTokens.listByUser(userId)).map((record) => [record.token, record.sessionId, record.deviceId]).sort();
    const sessionOf = (accessToken: string) => accessTokenClaims(accessToken).sid;
    const signIn = (user: { email: string; password: string }) => login(server.baseUrl, { email: user.email, password: user.password });

    // listByUser leaves out tokens of revoked sessions, so where the test can read the database it checks
    // that the rows themselves are gone. The embedded database cannot be shared with the test.
    let db: pg.Client | undefined;
    before(async () => {
      if (target.kind !== 'postgres') return;
      db = new pg.Client({ connectionString: server.config.databaseUrl });
      await db.connect();
    });
    after(() => db?.end());
    const assertRowsGone = async (tokens: string[]) => {
      if (!db) return;
      const { rows } = await db.query('select token from push_tokens where token = any($1)', [tokens]);
      assert.deepEqual(rows, [], 'the rows are deleted, not just hidden');
    };

    test('a valid token answers 200 { ok: true } and is stored for the caller\'s session; without a token 401', async () => {
      const user = await registerUser(server.baseUrl, 'Pusher');
      const token = expoToken();
      await registered(user.accessToken, { token, deviceId: 'device-1' });
      assert.deepEqual(await stored(user.user.id), [[token, sessionOf(user.accessToken), 'device-1']]);
      const laptop = await signIn(user);
      const expoStyle = `ExpoPushToken[${randomUUID()}]`;
      await registered(laptop.accessToken, { token: expoStyle });
      assert.deepEqual(
        await stored(user.user.id),
        [[token, sessionOf(user.accessToken), 'device-1'], [expoStyle, sessionOf(laptop.accessToken), null]].sort(),
      );
      assertError(await request(server.baseUrl, 'POST', '/api/auth/expo-push-token', { body: { token: expoToken() } }), 401, 'UNAUTHORIZED');
    });

    test('a session holds one token: a new one (the OS rotated it) replaces the old', async () => {
      const user = await registerUser(server.baseUrl, 'Rotator');
      await registered(user.accessToken, { token: expoToken() });
      const rotated = expoToken();
      await registered(user.accessToken, { token: rotated });
      assert.deepEqual(await stored(user.user.id), [[rotated, sessionOf(user.accessToken), null]]);
    });

    test('the same phone signed in again with its deviceId replaces its older token, not the other devices\'', async () => {
      const user = await registerUser(server.baseUrl, 'Returner');
      await registered(user.accessToken, { token: expoToken(), deviceId: 'phone' });
      const tablet = await signIn(user);
      const tablets = expoToken();
      await registered(tablet.accessToken, { token: tablets, deviceId: 'tablet' });
      const again = await signIn(user);
      const current = expoToken();
      await registered(again.accessToken, { token: current, deviceId: 'phone' });
      assert.deepEqual(
        await stored(user.user.id),
        [[current, sessionOf(again.accessToken), 'phone'], [tablets, sessionOf(tablet.accessToken), 'tablet']].sort(),
      );
      // Another user's device of the same name is theirs: untouched.
      const stranger = await registerUser(server.baseUrl, 'Stranger');
      const strangers = expoToken();
      await registered(stranger.accessToken, { token: strangers, deviceId: 'phone' });
      assert.equal((await stored(user.user.id)).length, 2);
      assert.deepEqual(await stored(stranger.user.id), [[strangers, sessionOf(stranger.accessToken), 'phone']]);
    });

    test('registering a token another user held moves it to the caller', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const token = expoToken();
      await registered(alice.accessToken, { token, deviceId: 'shared-phone' });
      await registered(bob.accessToken, { token, deviceId: 'shared-phone' });
      assert.deepEqual(await stored(alice.user.id), []);
      assert.deepEqual(await stored(bob.user.id), [[token, sessionOf(bob.accessToken), 'shared-phone']]);
    });

    test('DELETE removes the caller\'s token; someone else\'s or an unknown one answers the same and stays', async () => {
      const user = await registerUser(server.baseUrl, 'Remover');
      const victim = await registerUser(server.baseUrl, 'Victim');
      const own = expoToken();
      const victims = expoToken();
      await registered(user.accessToken, { token: own });
      await registered(victim.accessToken, { token: victims });
      for (const token of [victims, expoToken(), own, own]) {
        const result = await remove(user.accessToken, { token });
        assert.deepEqual([result.status, result.body], [200, { ok: true }], token);
      }
      assert.deepEqual(await stored(user.user.id), []);
      assert.deepEqual(await stored(victim.user.id), [[victims, sessionOf(victim.accessToken), null]]);
      assertError(await request(server.baseUrl, 'DELETE', '/api/auth/expo-push-token', { body: { token: victims } }), 401, 'UNAUTHORIZED');
      assert.equal((await stored(victim.user.id)).length, 1);
    });

    test('logout, revoking a session, logout-all and a ban each delete the tokens of the sessions they end', async () => {
      const user = await registerUser(server.baseUrl, 'Leaver');
      const [laptop, tablet, watch] = [await signIn(user), await signIn(user), await signIn(user)];
      const devices = [user, laptop, tablet, watch];
      const tokens = devices.map(() => expoToken());
      for (const [index, device] of devices.entries()) await registered(device.accessToken, { token: tokens[index] });
      const remaining = () => stored(user.user.id).then((records) => records.map(([token]) => token));

      const logout = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: user.refreshToken } });
      assert.equal(logout.status, 200);
      assert.deepEqual(await remaining(), tokens.slice(1).sort());
      await assertRowsGone(tokens.slice(0, 1));

      const revoke = await request(server.baseUrl, 'DELETE', `/api/auth/sessions/${sessionOf(laptop.accessToken)}`, { token: tablet.accessToken });
      assert.equal(revoke.status, 200);
      assert.deepEqual(await remaining(), tokens.slice(2).sort());
      await assertRowsGone(tokens.slice(0, 2));

      const logoutAll = await request(server.baseUrl, 'POST', '/api/auth/logout-all', { token: tablet.accessToken });
      assert.deepEqual(logoutAll.body, { ok: true, revoked: 1 });
      assert.deepEqual(await remaining(), [tokens[2]]);
      await assertRowsGone([tokens[0]!, tokens[1]!, tokens[3]!]);
      assertError(await register(watch.accessToken, { token: expoToken() }), 401, 'UNAUTHORIZED');

      const admin = await registerUser(server.baseUrl, 'Push Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const ban = await request(server.baseUrl, 'PATCH', `/api/admin/users/${user.user.id}`, { token: admin.accessToken, body: { status: 'banned' } });
      assert.equal(ban.status, 200, JSON.stringify(ban.body));
      assert.deepEqual(await remaining(), []);
      await assertRowsGone(tokens);
    });

    test('bad input is refused with 400 VALIDATION_FAILED and changes nothing', async () => {
      const user = await registerUser(server.baseUrl, 'Typo');
      const kept = expoToken();
      await registered(user.accessToken, { token: kept });
      const notTokens: unknown[] = [
        '',
        'abc',
        'ExponentPushToken[abc',
        'xExponentPushToken[abc]',
        'ExponentPushToken[abc]x',
        `ExponentPushToken[${'a'.repeat(182)}]`,
        'ExponentPushToken[\u0000]',
        `ExponentPushToken[${randomUUID()}\u0000]`,
        'ExponentPushToken[\ud800]',
        42,
        null,
        { $ne: null },
        [kept],
      ];
      for (const token of notTokens) {
        assertValidationFailed(await register(user.accessToken, { token }), 'body.token');
        assertValidationFailed(await remove(user.accessToken, { token }), 'body.token');
      }
      for (const send of [register, remove]) assertValidationFailed(await send(user.accessToken, {}), 'body.token');
      for (const deviceId of ['', '   ', 'x'.repeat(201), 'pho\u0000ne', 7]) {
        assertValidationFailed(await register(user.accessToken, { token: expoToken(), deviceId }), 'body.deviceId');
      }
      assert.deepEqual(await stored(user.user.id), [[kept, sessionOf(user.accessToken), null]]);
      // The longest accepted token is 200 characters.
      const longest = `ExponentPushToken[${'a'.repeat(181)}]`;
      assert.equal(longest.length, 200);
      await registered(user.accessToken, { token: longest });
    });
  });
}
