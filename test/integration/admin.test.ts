import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request, uniqueEmail } from '../support/http.js';
import { childEnv, runCli } from '../support/processes.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`admin (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);
    let adminToken: string;
    const patchUser = (id: string, body: unknown, token = adminToken) =>
      request(server.baseUrl, 'PATCH', `/api/admin/users/${id}`, { token, body });
    const me = (token: string) => request(server.baseUrl, 'GET', '/api/auth/me', { token });
    const post = (path: string, body: unknown) => request(server.baseUrl, 'POST', path, { body });

    before(async () => {
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      adminToken = admin.accessToken;
    });

    test('a ban stops the existing access token at once (403 ACCOUNT_BANNED), the refresh token and logins', async () => {
      const user = await registerUser(server.baseUrl, 'Banned');
      assert.equal((await me(user.accessToken)).status, 200, 'the token worked (and its session is cached) before the ban');

      const result = await patchUser(user.user.id, { status: 'banned' });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.deepEqual(result.body, { user: { ...user.user, status: 'banned' } });

      assertError(await me(user.accessToken), 403, 'ACCOUNT_BANNED');
      assertError(await post('/api/auth/refresh-token', { refreshToken: user.refreshToken }), 403, 'ACCOUNT_BANNED');
      assertError(await post('/api/auth/login', { email: user.email, password: user.password }), 403, 'ACCOUNT_BANNED');
      // Without the password a ban is not revealed.
      assertError(await post('/api/auth/login', { email: user.email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    });

    test('a non-admin gets 403 FORBIDDEN, no token 401', async () => {
      const user = await registerUser(server.baseUrl, 'Plain');
      const victim = await registerUser(server.baseUrl, 'Victim');
      assertError(await patchUser(victim.user.id, { status: 'banned' }, user.accessToken), 403, 'FORBIDDEN');
      assertError(await patchUser(user.user.id, { role: 'admin' }, user.accessToken), 403, 'FORBIDDEN');
      assertError(await request(server.baseUrl, 'PATCH', `/api/admin/users/${victim.user.id}`, { body: { status: 'banned' } }), 401, 'UNAUTHORIZED');
      assert.equal((await me(victim.accessToken)).status, 200);
      assert.equal((await server.app.storage.users.findById(user.user.id))?.role, 'user');
    });

    test('an unknown user or a string that cannot be an id answers 404, an invalid body 400', async () => {
      const user = await registerUser(server.baseUrl, 'Target');
      assertError(await patchUser(newId(), { status: 'banned' }), 404, 'NOT_FOUND');
      assertError(await patchUser('not-an-id', { status: 'banned' }), 404, 'NOT_FOUND');
      assertValidationFailed(await patchUser(user.user.id, {}));
      assertValidationFailed(await patchUser(user.user.id, { status: 'frozen' }), 'body.status');
      assertValidationFailed(await patchUser(user.user.id, { role: 'root' }), 'body.role');
      assertValidationFailed(await patchUser(user.user.id, { status: { $ne: 'active' } }), 'body.status');
      assert.equal((await me(user.accessToken)).status, 200);
    });

    test('a deleted account answers login exactly like an unknown email, and its tokens stop', async () => {
      const user = await registerUser(server.baseUrl, 'Deleted');
      assert.equal((await patchUser(user.user.id, { status: 'deleted' })).body.user.status, 'deleted');
      const deleted = await post('/api/auth/login', { email: user.email, password: user.password });
      const unknown = await post('/api/auth/login', { email: uniqueEmail('nobody'), password: user.password });
      assertError(deleted, 401, 'INVALID_CREDENTIALS');
      assert.deepEqual(deleted.body, unknown.body);
      assertError(await me(user.accessToken), 401, 'UNAUTHORIZED');
      assertError(await post('/api/auth/refresh-token', { refreshToken: user.refreshToken }), 401, 'UNAUTHORIZED');
    });

    test('reactivating an account lets it sign in again; the sessions the ban ended stay ended', async () => {
      const user = await registerUser(server.baseUrl, 'Returning');
      await patchUser(user.user.id, { status: 'banned' });
      const result = await patchUser(user.user.id, { status: 'active' });
      assert.equal(result.status, 200);
      assert.equal(result.body.user.status, 'active');
      const signedIn = await login(server.baseUrl, { email: user.email, password: user.password });
      assert.equal((await me(signedIn.accessToken)).status, 200);
      assertError(await me(user.accessToken), 401, 'UNAUTHORIZED');
    });

    test('an admin can make another user admin, who can then use the admin API', async () => {
      const user = await registerUser(server.baseUrl, 'Promoted');
      const victim = await registerUser(server.baseUrl, 'Victim');
      assertError(await patchUser(victim.user.id, { status: 'banned' }, user.accessToken), 403, 'FORBIDDEN');
      const result = await patchUser(user.user.id, { role: 'admin' });
      assert.equal(result.status, 200);
      assert.equal(result.body.user.role, 'admin');
      // The same, already-used token: the role change applies at once.
      assert.equal((await patchUser(victim.user.id, { status: 'banned' }, user.accessToken)).status, 200);
    });

    test('the CLI (user:role EMAIL admin) makes an admin', async () => {
      const user = await registerUser(server.baseUrl, 'Operator');
      const victim = await registerUser(server.baseUrl, 'Victim');
      // PGlite's data dir is one process's at a time: stop the app for the CLI, then start it again.
      if (target.kind === 'pglite') await server.stop();
      const env = childEnv(target.kind, server.dataDir);
      const promoted = await runCli(['user:role', user.email.toUpperCase(), 'admin'], env);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, new RegExp(`${user.email}: role admin, status active`));
      if (target.kind === 'postgres') {
        // (Once is enough: the outcome does not depend on the database, and a PGlite CLI run costs seconds.)
        const unknown = await runCli(['user:role', uniqueEmail('nobody'), 'admin'], env);
        assert.equal(unknown.code, 1, unknown.stderr);
        assert.match(unknown.stderr, /No account with the email/);
      }
      if (target.kind === 'pglite') await server.start();

      const signedIn = await login(server.baseUrl, { email: user.email, password: user.password });
      const result = await patchUser(victim.user.id, { status: 'banned' }, signedIn.accessToken);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.user.status, 'banned');
    });
  });
}

describe('CLI arguments', () => {
  test('bad arguments print the usage and exit with code 2', async () => {
    // Arguments are checked before any database is opened: no DATA_DIR or DATABASE_URL is needed.
    const env = childEnv('pglite', '/nonexistent/call-app-cli-test');
    const cases = [['user:role', 'not-an-email', 'admin'], ['user:status', 'someone@example.com', 'frozen']];
    const results = await Promise.all(cases.map((args) => runCli(args, env)));
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 2, `${JSON.stringify(cases[index])}: exit ${result.code} ${result.stderr}`);
      assert.match(result.stderr, /usage: npm run cli -- user:role/);
    }
  });
});
