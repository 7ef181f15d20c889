import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { login, PASSWORD, registerUser, request, uniqueEmail } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const target of databaseTargets()) {
  describe(`accounts: register, login, me (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);
    const post = (path: string, body: unknown) => request(server.baseUrl, 'POST', path, { body });

    test('register answers 201 with the user and a token pair, email trimmed and lower-cased', async () => {
      const email = uniqueEmail('MiXeD');
      const result = await post('/api/auth/register', { email: `  ${email.toUpperCase()}  `, password: PASSWORD, name: '  Ada  ' });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      assert.deepEqual(Object.keys(result.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'user']);
      const { user, accessToken, refreshToken, expiresIn } = result.body;
      assert.match(user.id, UUID_V7);
      assert.equal(user.email, email.toLowerCase());
      assert.equal(user.name, 'Ada');
      assert.equal(user.status, 'active');
      assert.equal(new Date(user.createdAt).toISOString(), user.createdAt, 'createdAt is an ISO-8601 UTC string');
      assert.ok(Math.abs(Date.parse(user.createdAt) - Date.now()) < 60_000);
      assert.equal(user.passwordHash, undefined);
      assert.match(accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(typeof refreshToken, 'string');
      assert.ok(refreshToken.length >= 32);
      assert.equal(expiresIn, 15 * 60);

      // The stored email is the normalised one, and a differently-cased login finds it.
      assert.equal((await server.app.storage.users.findByEmail(email.toLowerCase()))?.id, user.id);
      const again = await login(server.baseUrl, { email: email.toUpperCase(), password: PASSWORD });
      assert.equal(again.user.id, user.id);
    });

    test('password length bounds: 8 and 128 characters are accepted', async () => {
      for (const password of ['x'.repeat(8), 'y'.repeat(128)]) {
        const result = await post('/api/auth/register', { email: uniqueEmail(), password, name: 'Bounds' });
        assert.equal(result.status, 201, JSON.stringify(result.body));
      }
    });

    test('a taken email, in any case, answers 409 EMAIL_TAKEN and does not replace the account', async () => {
      const first = await registerUser(server.baseUrl, 'First');
      const result = await post('/api/auth/register', { email: ` ${first.email.toUpperCase()}`, password: 'another password', name: 'Second' });
      assertError(result, 409, 'EMAIL_TAKEN');
      const stillFirst = await login(server.baseUrl, { email: first.email, password: first.password });
      assert.equal(stillFirst.user.id, first.user.id);
      assert.equal(stillFirst.user.name, 'First');
    });

    const invalidRegistrations: [string, unknown, string[]][] = [
      ['a 7-character password', { email: uniqueEmail(), password: 'x'.repeat(7), name: 'N' }, ['body.password']],
      ['a 129-character password', { email: uniqueEmail(), password: 'x'.repeat(129), name: 'N' }, ['body.password']],
      ['a malformed email', { email: 'not-an-email', password: PASSWORD, name: 'N' }, ['body.email']],
      ['an email without a domain', { email: 'someone@', password: PASSWORD, name: 'N' }, ['body.email']],
      ['wrong types', { email: 42, password: ['x'.repeat(10)], name: true }, ['body.email', 'body.password', 'body.name']],
      ['query operators where strings belong', { email: { $gt: '' }, password: { $gt: '' }, name: 'N' }, ['body.email', 'body.password']],
      ['missing fields', {}, ['body.email', 'body.password', 'body.name']],
      ['a blank name', { email: uniqueEmail(), password: PASSWORD, name: '   ' }, ['body.name']],
      ['a JSON array body', [uniqueEmail(), PASSWORD, 'N'], ['body']],
    ];
    for (const [what, body, paths] of invalidRegistrations) {
      test(`register with ${what} answers 400 VALIDATION_FAILED naming the fields`, async () => {
        assertValidationFailed(await post('/api/auth/register', body), ...paths);
      });
    }

    test('login with query operators or wrong types answers 400, never signs in', async () => {
      const user = await registerUser(server.baseUrl, 'Operator');
      assertValidationFailed(await post('/api/auth/login', { email: user.email, password: { $gt: '' } }), 'body.password');
      assertValidationFailed(await post('/api/auth/login', { email: { $ne: null }, password: user.password }), 'body.email');
      assertValidationFailed(await post('/api/auth/login', { email: user.email }), 'body.password');
    });

    test('malformed JSON answers 400 VALIDATION_FAILED', async () => {
      const result = await request(server.baseUrl, 'POST', '/api/auth/register', { rawBody: '{"email": "a@b.example", "password": ' });
      assertError(result, 400, 'VALIDATION_FAILED');
    });

    test('a body over 100 KiB answers 413 PAYLOAD_TOO_LARGE; just under it is read', async () => {
      const big = await post('/api/auth/register', { email: uniqueEmail(), password: PASSWORD, name: 'x'.repeat(101 * 1024) });
      assertError(big, 413, 'PAYLOAD_TOO_LARGE');
      // Near the limit the body is parsed and validated (the name is too long), not refused for size.
      const near = await post('/api/auth/register', { email: uniqueEmail(), password: PASSWORD, name: 'x'.repeat(99 * 1024) });
      assertValidationFailed(near, 'body.name');
    });

    test('login answers 200 with the same shape as register', async () => {
      const user = await registerUser(server.baseUrl, 'Login');
      const result = await post('/api/auth/login', { email: user.email, password: user.password });
      assert.equal(result.status, 200);
      assert.deepEqual(Object.keys(result.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'user']);
      assert.deepEqual(result.body.user, user.user);
      assert.notEqual(result.body.refreshToken, user.refreshToken, 'every login starts its own session');
      assert.equal(result.body.expiresIn, 15 * 60);
    });

    test('an unknown email and a wrong password answer the identical 401 INVALID_CREDENTIALS', async () => {
      const user = await registerUser(server.baseUrl, 'Enumeration');
      const wrongPassword = await post('/api/auth/login', { email: user.email, password: 'wrong password' });
      const unknownEmail = await post('/api/auth/login', { email: uniqueEmail('nobody'), password: 'wrong password' });
      assertError(wrongPassword, 401, 'INVALID_CREDENTIALS');
      assertError(unknownEmail, 401, 'INVALID_CREDENTIALS');
      assert.deepEqual(unknownEmail.body, wrongPassword.body);
    });

    test('GET /api/auth/me answers the caller with a token, 401 UNAUTHORIZED without a usable one', async () => {
      const user = await registerUser(server.baseUrl, 'Me');
      const me = await request(server.baseUrl, 'GET', '/api/auth/me', { token: user.accessToken });
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, { user: user.user });

      assertError(await request(server.baseUrl, 'GET', '/api/auth/me'), 401, 'UNAUTHORIZED');
      assertError(await request(server.baseUrl, 'GET', '/api/auth/me', { token: 'not-a-token' }), 401, 'UNAUTHORIZED');
      assertError(await request(server.baseUrl, 'GET', '/api/auth/me', { token: user.refreshToken }), 401, 'UNAUTHORIZED');
      const basic = await request(server.baseUrl, 'GET', '/api/auth/me', { headers: { authorization: `Basic ${user.accessToken}` } });
      assertError(basic, 401, 'UNAUTHORIZED');
    });

    test('a legacy bcrypt hash still signs in and is upgraded to argon2id', async () => {
      const user = await registerUser(server.baseUrl, 'Legacy');
      const legacy = await bcryptHash(user.password, 4);
      assert.match(legacy, /^\$2[aby]\$/);
      await server.app.storage.users.updatePasswordHash(user.user.id, legacy);

      assertError(await post('/api/auth/login', { email: user.email, password: 'not the password' }), 401, 'INVALID_CREDENTIALS');
      assert.equal((await server.app.storage.users.findById(user.user.id))?.passwordHash, legacy, 'a failed login does not rehash');

      const signedIn = await login(server.baseUrl, { email: user.email, password: user.password });
      assert.equal(signedIn.user.id, user.user.id);
      const stored = (await server.app.storage.users.findById(user.user.id))?.passwordHash ?? '';
      assert.ok(stored.startsWith('$argon2id$'), `expected an argon2id hash, got ${stored.slice(0, 10)}`);
      // The upgraded hash keeps working, and still refuses a wrong password.
      await login(server.baseUrl, { email: user.email, password: user.password });
      assertError(await post('/api/auth/login', { email: user.email, password: 'not the password' }), 401, 'INVALID_CREDENTIALS');
    });
  });
}
