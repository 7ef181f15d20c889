import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { hashRefreshToken } from '../../src/auth/refresh-tokens.js';
import type { AuthResponse, SessionDto } from '../../src/protocol/auth.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request, type HttpResult } from '../support/http.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';
import { startTestApp, useTestApp, type TestApp } from '../support/test-app.js';
import { accessTokenClaims, forgeAccessToken, tamperPayload, unsignedToken } from '../support/tokens.js';

for (const target of databaseTargets()) {
  describe(`tokens and sessions (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);
    const me = (token: string) => request(server.baseUrl, 'GET', '/api/auth/me', { token });
    const refresh = (refreshToken: string) => request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken } });
    const sessions = (token: string) => request<{ sessions: SessionDto[] }>(server.baseUrl, 'GET', '/api/auth/sessions', { token });
    const assertWorks = async (tokens: { accessToken: string }) => assert.equal((await me(tokens.accessToken)).status, 200);
    const assertRefreshed = (result: HttpResult) => {
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.deepEqual(Object.keys(result.body).sort(), ['accessToken', 'expiresIn', 'refreshToken']);
      return result.body as AuthResponse;
    };

    describe('access tokens', () => {
      test('a token with one payload character changed answers 401 UNAUTHORIZED', async () => {
        const user = await registerUser(server.baseUrl, 'Tamper');
        await assertWorks(user);
        assertError(await me(tamperPayload(user.accessToken)), 401, 'UNAUTHORIZED');
      });

      test('an unsigned alg:none token with valid claims answers 401 UNAUTHORIZED', async () => {
        const user = await registerUser(server.baseUrl, 'None');
        const claims = accessTokenClaims(user.accessToken);
        const { issuer, audience } = server.config.jwt;
        const token = unsignedToken({ ...claims, iss: issuer, aud: audience });
        assertError(await me(token), 401, 'UNAUTHORIZED');
      });

      test('a token signed with the server secret but the wrong typ, aud or iss answers 401', async () => {
        const user = await registerUser(server.baseUrl, 'Forged');
        const { sub, sid } = accessTokenClaims(user.accessToken);
        const { issuer, audience } = server.config.jwt;
        // The forging helper itself makes tokens the server accepts: only the one changed claim is wrong below.
        await assertWorks({ accessToken: await forgeAccessToken({ sub, sid, issuer, audience }) });

        for (const typ of ['JWT', 'refresh+jwt']) {
          assertError(await me(await forgeAccessToken({ sub, sid, issuer, audience, typ })), 401, 'UNAUTHORIZED');
        }
        assertError(await me(await forgeAccessToken({ sub, sid, issuer, audience: 'another-service' })), 401, 'UNAUTHORIZED');
        assertError(await me(await forgeAccessToken({ sub, sid, issuer: 'someone-else', audience })), 401, 'UNAUTHORIZED');
        const otherSecret = 'another-secret-that-is-also-32-bytes-long';
        assertError(await me(await forgeAccessToken({ sub, sid, issuer, audience, secret: otherSecret })), 401, 'UNAUTHORIZED');
      });

      test('a genuine token naming another user than its session answers 401', async () => {
        const alice = await registerUser(server.baseUrl, 'Alice');
        const bob = await registerUser(server.baseUrl, 'Bob');
        const { issuer, audience } = server.config.jwt;
        const token = await forgeAccessToken({ sub: bob.user.id, sid: accessTokenClaims(alice.accessToken).sid, issuer, audience });
        assertError(await me(token), 401, 'UNAUTHORIZED');
      });

      test('a token signed with the server key whose sid or sub is not an id answers 401 UNAUTHORIZED', async () => {
        const user = await registerUser(server.baseUrl, 'Garbage');
        const { sub, sid } = accessTokenClaims(user.accessToken);
        const { issuer, audience } = server.config.jwt;
        const notIds = ['garbage', '', "1' or '1'='1", 'x'.repeat(2000), '\u0000', randomUUID(), `${sid}0`];
        for (const bad of notIds) {
          for (const claims of [{ sub, sid: bad }, { sub: bad, sid }]) {
            const token = await forgeAccessToken({ ...claims, issuer, audience });
            assertError(await me(token), 401, 'UNAUTHORIZED');
            assertError(await sessions(token), 401, 'UNAUTHORIZED');
          }
        }
        await assertWorks(user);
      });
    });

    describe('refresh tokens', () => {
      test('rotation: the new pair works and the old refresh token does not', async () => {
        const user = await registerUser(server.baseUrl, 'Rotate');
        const next = assertRefreshed(await refresh(user.refreshToken));
        assert.notEqual(next.refreshToken, user.refreshToken);
        assert.equal(next.expiresIn, 15 * 60);
        await assertWorks(next);
        assert.equal(accessTokenClaims(next.accessToken).sid, accessTokenClaims(user.accessToken).sid, 'same session');
        const third = assertRefreshed(await refresh(next.refreshToken));
        await assertWorks(third);
        assert.equal((await refresh(user.refreshToken)).status, 401);
      });

      test('presenting a rotated token answers REFRESH_TOKEN_REUSED and ends the whole family', async () => {
        const user = await registerUser(server.baseUrl, 'Reuse');
        const other = await login(server.baseUrl, { email: user.email, password: user.password });
        const next = assertRefreshed(await refresh(user.refreshToken));
        await assertWorks(next);

        assertError(await refresh(user.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
        assertError(await refresh(next.refreshToken), 401, 'UNAUTHORIZED');
        assertError(await me(next.accessToken), 401, 'UNAUTHORIZED');
        assertError(await me(user.accessToken), 401, 'UNAUTHORIZED');
        // Another device's session is another family: it keeps working.
        await assertWorks(other);
        assertRefreshed(await refresh(other.refreshToken));
      });

      test('two concurrent refreshes with one token: one 200, one REFRESH_TOKEN_REUSED, then the session is revoked', async () => {
        const user = await registerUser(server.baseUrl, 'Race');
        const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
        const winners = results.filter((result) => result.status === 200);
        const losers = results.filter((result) => result.status !== 200);
        assert.equal(winners.length, 1, `statuses ${results.map((result) => result.status).join(', ')}`);
        assertError(losers[0]!, 401, 'REFRESH_TOKEN_REUSED');
        // Documented outcome: the reuse ends the session, including the pair the winner got.
        const won = winners[0]!.body as AuthResponse;
        assertError(await refresh(won.refreshToken), 401, 'UNAUTHORIZED');
        assertError(await me(won.accessToken), 401, 'UNAUTHORIZED');
        assertError(await me(user.accessToken), 401, 'UNAUTHORIZED');
      });

      test('an unknown or malformed refresh token answers 401 UNAUTHORIZED or 400', async () => {
        assertError(await refresh('a'.repeat(43)), 401, 'UNAUTHORIZED');
        assertValidationFailed(await refresh(''), 'body.refreshToken');
        assertValidationFailed(await request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: { $ne: '' } } }), 'body.refreshToken');
      });

      test('logout ends the session: its refresh and access tokens stop working, others do not', async () => {
        const user = await registerUser(server.baseUrl, 'Logout');
        const other = await login(server.baseUrl, { email: user.email, password: user.password });
        await assertWorks(user);
        const result = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: user.refreshToken } });
        assert.equal(result.status, 200);
        assert.deepEqual(result.body, { ok: true });
        assertError(await me(user.accessToken), 401, 'UNAUTHORIZED');
        assertError(await refresh(user.refreshToken), 401, 'UNAUTHORIZED');
        await assertWorks(other);
        // Logging out with an unknown token is accepted without saying whether it existed.
        const unknown = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: randomUUID() } });
        assert.deepEqual([unknown.status, unknown.body], [200, { ok: true }]);
      });
    });

    describe('sessions', () => {
      test('every login is listed with its device; the caller\'s own is current', async () => {
        const user = await registerUser(server.baseUrl, 'Lister');
        const phone = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Pixel 8' }, { 'user-agent': 'CallApp/1.0 (Android)' });
        const result = await sessions(phone.accessToken);
        assert.equal(result.status, 200);
        assert.equal(result.body.sessions.length, 2);
        const current = result.body.sessions.filter((session) => session.current);
        assert.equal(current.length, 1);
        assert.equal(current[0]!.id, accessTokenClaims(phone.accessToken).sid);
        assert.equal(current[0]!.deviceName, 'Pixel 8');
        assert.equal(current[0]!.userAgent, 'CallApp/1.0 (Android)');
        const registered = result.body.sessions.find((session) => !session.current)!;
        assert.equal(registered.id, accessTokenClaims(user.accessToken).sid);
        assert.equal(registered.deviceName, null);
        for (const session of result.body.sessions) {
          assert.ok(Date.parse(session.expiresAt) > Date.now() + 29 * 86_400_000, 'a 30-day session');
          assert.equal(new Date(session.createdAt).toISOString(), session.createdAt);
        }
        // Seen from the other session, "current" moves.
        const fromFirst = await sessions(user.accessToken);
        assert.equal(fromFirst.body.sessions.find((session) => session.current)?.id, registered.id);
        assertError(await request(server.baseUrl, 'GET', '/api/auth/sessions'), 401, 'UNAUTHORIZED');
      });

      test('DELETE /api/auth/sessions/:id ends another session of mine; unknown or foreign ids answer 404', async () => {
        const user = await registerUser(server.baseUrl, 'Revoker');
        const laptop = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Laptop' });
        await assertWorks(laptop);
        const laptopSession = accessTokenClaims(laptop.accessToken).sid;

        const result = await request(server.baseUrl, 'DELETE', `/api/auth/sessions/${laptopSession}`, { token: user.accessToken });
        assert.deepEqual([result.status, result.body], [200, { ok: true }]);
        assertError(await me(laptop.accessToken), 401, 'UNAUTHORIZED');
        assertError(await refresh(laptop.refreshToken), 401, 'UNAUTHORIZED');
        await assertWorks(user);
        assert.deepEqual((await sessions(user.accessToken)).body.sessions.map((session) => session.id), [accessTokenClaims(user.accessToken).sid]);

        const stranger = await registerUser(server.baseUrl, 'Stranger');
        const strangerSession = accessTokenClaims(stranger.accessToken).sid;
        for (const id of [newId(), strangerSession, laptopSession]) {
          assertError(await request(server.baseUrl, 'DELETE', `/api/auth/sessions/${id}`, { token: user.accessToken }), 404, 'NOT_FOUND');
        }
        await assertWorks(stranger);
        // Ids are opaque: a string that cannot be one names no session either.
        assertError(await request(server.baseUrl, 'DELETE', '/api/auth/sessions/not-an-id', { token: user.accessToken }), 404, 'NOT_FOUND');
      });

      test('POST /api/auth/logout-all ends every other session but not the caller\'s', async () => {
        const user = await registerUser(server.baseUrl, 'Everywhere');
        const tablet = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Tablet' });
        const laptop = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Laptop' });
        const stranger = await registerUser(server.baseUrl, 'Bystander');
        await Promise.all([assertWorks(user), assertWorks(laptop)]);

        const result = await request(server.baseUrl, 'POST', '/api/auth/logout-all', { token: tablet.accessToken });
        assert.equal(result.status, 200);
        assert.deepEqual(result.body, { ok: true, revoked: 2 });
        for (const ended of [user, laptop]) {
          assertError(await me(ended.accessToken), 401, 'UNAUTHORIZED');
          assertError(await refresh(ended.refreshToken), 401, 'UNAUTHORIZED');
        }
        await assertWorks(tablet);
        assertRefreshed(await refresh(tablet.refreshToken));
        await assertWorks(stranger);
        assertError(await request(server.baseUrl, 'POST', '/api/auth/logout-all'), 401, 'UNAUTHORIZED');
      });
    });
  });

  describe(`session cleanup (${target.kind})`, { skip: target.skip }, () => {
    let server: TestApp;
    // A retention of one second would delete other tests' sessions: on PostgreSQL this app gets a database of its own.
    let database: ScratchDatabase | undefined;
    before(async () => {
      database = target.kind === 'postgres' ? await createScratchDatabase('call_app_session_cleanup') : undefined;
      server = await startTestApp(target.kind, {
        SESSION_CLEANUP_INTERVAL: '1s',
        SESSION_RETENTION: '1s',
        ...(database ? { DATABASE_URL: database.url } : {}),
      });
    });
    after(async () => {
      await server?.stop();
      await database?.drop();
    });

    test('ended sessions are deleted with their refresh tokens once the retention has passed; live ones stay', async () => {
      const user = await registerUser(server.baseUrl, 'Tidy');
      const phone = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Phone' });
      const laptop = await login(server.baseUrl, { email: user.email, password: user.password, deviceName: 'Laptop' });
      const rotated = (await request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: laptop.refreshToken } })).body as AuthResponse;
      const logout = await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: rotated.refreshToken } });
      assert.equal(logout.status, 200);
      const ended = accessTokenClaims(laptop.accessToken).sid;

      const deadline = Date.now() + 30_000;
      while ((await server.app.storage.sessions.findWithAccount(ended)) !== null) {
        assert.ok(Date.now() < deadline, 'the ended session was never deleted');
        await sleep(200);
      }
      for (const refreshToken of [laptop.refreshToken, rotated.refreshToken]) {
        assert.equal(await server.app.storage.sessions.findByTokenHash(hashRefreshToken(refreshToken)), null);
      }
      for (const live of [user, phone]) {
        assert.equal((await server.app.storage.sessions.findWithAccount(accessTokenClaims(live.accessToken).sid))?.session.revokedAt, null);
        assert.equal((await request(server.baseUrl, 'GET', '/api/auth/me', { token: live.accessToken })).status, 200);
      }
      assert.equal((await request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: phone.refreshToken } })).status, 200);
    });
  });

  describe(`access-token expiry (${target.kind})`, { skip: target.skip }, () => {
    // Long enough for a registration and a request on a busy machine, short enough to wait out.
    const server = useTestApp(target.kind, { JWT_ACCESS_TTL: '3s' });

    test('an expired access token answers 401 TOKEN_EXPIRED, also one used a moment before, and the refresh token still renews it', async () => {
      const user = await registerUser(server.baseUrl, 'Expiring');
      assert.equal(user.expiresIn, 3);
      // Used once while valid: the server keeps what it verified, and must still notice the expiry.
      assert.equal((await request(server.baseUrl, 'GET', '/api/auth/me', { token: user.accessToken })).status, 200);
      const { exp } = accessTokenClaims(user.accessToken);
      // Expired once the clock reaches `exp` (whole seconds); wait just past that.
      await sleep(Math.max(0, exp * 1000 - Date.now()) + 100);
      assertError(await request(server.baseUrl, 'GET', '/api/auth/me', { token: user.accessToken }), 401, 'TOKEN_EXPIRED');
      const renewed = await request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: user.refreshToken } });
      assert.equal(renewed.status, 200);
      // (Not used: with a 3 s lifetime on a busy machine it may itself expire before the next request.)
      const next = accessTokenClaims(renewed.body.accessToken);
      assert.equal(next.sid, accessTokenClaims(user.accessToken).sid);
      assert.ok(next.exp > exp);
    });
  });
}
