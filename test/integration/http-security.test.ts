import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertRetryAfter, assertValidationFailed } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { PASSWORD, registerUser, request, uniqueEmail, type HttpResult } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const DEV_ORIGIN = 'http://localhost:5173';
const EVIL_ORIGIN = 'https://evil.example';
const APP_ORIGIN = 'https://app.example';

/** Stack-trace lines as V8 prints them ("    at fn (file:line:col)"). */
const STACK_LINE = /\bat .*(\.ts|\.js|node:)|\n\s+at /;

function assertNoStack(result: HttpResult): void {
  const text = JSON.stringify(result.body ?? '');
  assert.doesNotMatch(text, STACK_LINE, `a stack trace leaked: ${text}`);
  assert.doesNotMatch(text, /node_modules|\/src\/|Error:/, `internals leaked: ${text}`);
}

/** The `r` (remaining) of the draft-8 `RateLimit` header. */
function remaining(result: HttpResult): number {
  const match = /r=(\d+)/.exec(result.headers.get('ratelimit') ?? '');
  assert.ok(match, `no RateLimit header: ${result.headers.get('ratelimit')}`);
  return Number(match[1]);
}

for (const target of databaseTargets()) {
  describe(`HTTP with the default configuration (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    test('GET /health and GET /ready answer 200', async () => {
      const health = await request(server.baseUrl, 'GET', '/health');
      assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
      const ready = await request(server.baseUrl, 'GET', '/ready');
      assert.deepEqual([ready.status, ready.body], [200, { status: 'ready', database: 'ok', redis: 'not used' }]);
    });

    test('security headers are set and x-powered-by is not', async () => {
      for (const path of ['/health', '/no/such/route']) {
        const { headers } = await request(server.baseUrl, 'GET', path);
        assert.equal(headers.get('x-content-type-options'), 'nosniff');
        assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'/);
        assert.ok(headers.get('strict-transport-security'));
        assert.equal(headers.get('x-powered-by'), null);
      }
    });

    test('an unknown route answers 404 NOT_FOUND as JSON, whatever the method', async () => {
      for (const method of ['GET', 'POST', 'DELETE']) assertError(await request(server.baseUrl, method, '/api/nothing-here'), 404, 'NOT_FOUND');
      assertError(await request(server.baseUrl, 'GET', '/api/auth/register'), 404, 'NOT_FOUND');
    });

    test('CORS: a development origin is echoed, a foreign one gets no allow-origin', async () => {
      const allowed = await request(server.baseUrl, 'GET', '/health', { headers: { origin: DEV_ORIGIN } });
      assert.equal(allowed.headers.get('access-control-allow-origin'), DEV_ORIGIN);
      const preflight = await fetch(`${server.baseUrl}/api/auth/login`, {
        method: 'OPTIONS',
        headers: { origin: DEV_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), DEV_ORIGIN);

      const foreign = await request(server.baseUrl, 'GET', '/health', { headers: { origin: EVIL_ORIGIN } });
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
      const lookalike = await request(server.baseUrl, 'GET', '/health', { headers: { origin: 'http://localhost.evil.example' } });
      assert.equal(lookalike.headers.get('access-control-allow-origin'), null);
    });

    test('X-Request-Id is echoed when sane and replaced otherwise', async () => {
      const sane = await request(server.baseUrl, 'GET', '/health', { headers: { 'x-request-id': 'req-123.abc_DEF' } });
      assert.equal(sane.headers.get('x-request-id'), 'req-123.abc_DEF');
      for (const insane of ['has spaces in it', 'x'.repeat(101), '<script>']) {
        const result = await request(server.baseUrl, 'GET', '/health', { headers: { 'x-request-id': insane } });
        const id = result.headers.get('x-request-id') ?? '';
        assert.notEqual(id, insane);
        assert.match(id, /^[0-9a-f-]{36}$/);
      }
      const generated = await request(server.baseUrl, 'GET', '/health');
      assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });

    test('odd requests get the error shape with a fitting status and never a stack', async () => {
      const user = await registerUser(server.baseUrl, 'Odd');
      const odd: [string, string, { rawBody?: string; headers?: Record<string, string>; token?: string }, number][] = [
        ['POST', '/api/auth/login', { rawBody: 'null' }, 400],
        ['POST', '/api/auth/login', { rawBody: '[]' }, 400],
        ['POST', '/api/auth/login', { rawBody: '"a string"' }, 400],
        ['POST', '/api/auth/login', { rawBody: '{"email": "a@b.example", "password": "x"' }, 400],
        ['POST', '/api/auth/register', { rawBody: '{"email":1}', headers: { 'content-type': 'application/json; charset=latin1' } }, 400],
        ['POST', '/api/auth/register', { rawBody: '{"email":1}', headers: { 'content-encoding': 'bogus' } }, 400],
        ['POST', '/api/auth/register', { rawBody: '{"email":1}', headers: { 'content-encoding': 'gzip' } }, 400],
        ['POST', '/api/auth/login', { rawBody: 'email=a@b.example', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400],
        ['POST', '/api/auth/expo-push-token', { rawBody: 'null', token: user.accessToken }, 400],
        ['DELETE', '/api/auth/sessions/%E0%A4%A', { token: user.accessToken }, 400],
        ['GET', '/api/auth/me', { headers: { authorization: 'Bearer ' + 'x'.repeat(5000) } }, 401],
        ['GET', '/%E0%A4%A', {}, 404],
      ];
      for (const [method, path, options, status] of odd) {
        const result = await request(server.baseUrl, method, path, options);
        assert.equal(result.status, status, `${method} ${path} ${JSON.stringify(options.rawBody)}: ${result.status} ${JSON.stringify(result.body)}`);
        assert.deepEqual(Object.keys(result.body), ['error'], `${method} ${path}: ${JSON.stringify(result.body)}`);
        assertNoStack(result);
      }
    });

    test('NUL characters and lone surrogates in free text answer 400 naming the field, never 500', async () => {
      const user = await registerUser(server.baseUrl, 'Typist');
      const credentials = { email: user.email, password: user.password };
      const pushToken = `ExponentPushToken[${randomUUID()}]`;
      for (const bad of ['Eve\u0000', '\u0000', 'Eve\ud800', '\udc00 Eve']) {
        const register = (extra: object) => request(server.baseUrl, 'POST', '/api/auth/register', { body: { email: uniqueEmail('nul'), password: PASSWORD, name: 'Eve', ...extra } });
        assertValidationFailed(await register({ name: bad }), 'body.name');
        assertValidationFailed(await register({ deviceName: bad }), 'body.deviceName');
        assertValidationFailed(await request(server.baseUrl, 'POST', '/api/auth/login', { body: { ...credentials, deviceName: bad } }), 'body.deviceName');
        const push = (body: object) => request(server.baseUrl, 'POST', '/api/auth/expo-push-token', { token: user.accessToken, body });
        assertValidationFailed(await push({ token: pushToken, deviceId: bad }), 'body.deviceId');
        assertValidationFailed(await push({ token: `ExponentPushToken[${bad}]` }), 'body.token');
      }
      for (const query of ['a%00', '%00', 'Typ%00ist']) {
        assertValidationFailed(await request(server.baseUrl, 'GET', `/api/users?query=${query}`, { token: user.accessToken }), 'query.query');
      }
      assert.deepEqual(await server.app.storage.pushTokens.listByUser(user.user.id), []);
      // Text that is merely unusual is fine.
      const emoji = await request(server.baseUrl, 'POST', '/api/auth/login', { body: { ...credentials, deviceName: 'Pixel 🚀 ✓ \u200b' } });
      assert.equal(emoji.status, 200, JSON.stringify(emoji.body));
    });

    test('a body that does not decode as its Content-Encoding says answers 400 on every route, never 500', async () => {
      const user = await registerUser(server.baseUrl, 'Encoder');
      const admin = await registerUser(server.baseUrl, 'Encoding Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const routes: [string, string, string | undefined][] = [
        ['POST', '/api/auth/login', undefined],
        ['POST', '/api/auth/register', undefined],
        ['POST', '/api/auth/refresh-token', undefined],
        ['POST', '/api/auth/logout', undefined],
        ['POST', '/api/auth/expo-push-token', user.accessToken],
        ['DELETE', '/api/auth/expo-push-token', user.accessToken],
        ['PATCH', `/api/admin/users/${user.user.id}`, admin.accessToken],
        ['POST', '/api/nothing-here', undefined],
      ];
      const send = (method: string, path: string, token: string | undefined, encoding: string, body: string | Buffer) =>
        fetch(`${server.baseUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body,
        }).then(async (response) => ({ status: response.status, headers: response.headers, body: await response.json() }));
      const plain = JSON.stringify({ status: 'banned', email: user.email, password: 'x', refreshToken: 'x', token: 'x' });
      for (const [method, path, token] of routes) {
        for (const encoding of ['gzip', 'deflate', 'br', 'GZIP']) {
          assertError(await send(method, path, token, encoding, plain), 400, 'VALIDATION_FAILED');
        }
        assertError(await send(method, path, token, 'gzip', gzipSync(plain).subarray(0, 12)), 400, 'VALIDATION_FAILED');
        assertError(await send(method, path, token, 'zstd', plain), 400, 'VALIDATION_FAILED');
      }
      assert.equal((await server.app.storage.users.findById(user.user.id))?.status, 'active');
      // Compressed bodies that match their header are read, and the limit applies to the decoded size.
      const credentials = JSON.stringify({ email: user.email, password: user.password });
      for (const [encoding, body] of [['gzip', gzipSync(credentials)], ['deflate', deflateSync(credentials)], ['br', brotliCompressSync(credentials)]] as const) {
        assert.equal((await send('POST', '/api/auth/login', undefined, encoding, body)).status, 200, encoding);
      }
      const bomb = gzipSync(JSON.stringify({ email: user.email, password: 'x'.repeat(200 * 1024) }));
      assertError(await send('POST', '/api/auth/login', undefined, 'gzip', bomb), 413, 'PAYLOAD_TOO_LARGE');
    });

    test('ids are opaque: on every resource path, an unknown id and a string that cannot be an id both answer 404', async () => {
      const user = await registerUser(server.baseUrl, 'Prober');
      const admin = await registerUser(server.baseUrl, 'Probing Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const resources: [string, (id: string) => string, string, unknown][] = [
        ['GET', (id) => `/api/users/${id}`, user.accessToken, undefined],
        ['GET', (id) => `/api/chat/history/${id}`, user.accessToken, undefined],
        ['GET', (id) => `/api/chat/history/${id}?limit=5`, user.accessToken, undefined],
        ['DELETE', (id) => `/api/auth/sessions/${id}`, user.accessToken, undefined],
        ['PATCH', (id) => `/api/admin/users/${id}`, admin.accessToken, { status: 'banned' }],
      ];
      const notIds = ['not-an-id', '42', randomUUID(), newId().slice(0, -1), `${newId()}0`, '%00', '%20', "1'%20or%20'1'='1", 'x'.repeat(500), '%F0%9F%9A%80'];
      for (const [method, path, token, body] of resources) {
        for (const id of [newId(), ...notIds]) {
          const result = await request(server.baseUrl, method, path(id), { token, ...(body ? { body } : {}) });
          assertError(result, 404, 'NOT_FOUND');
          assertNoStack(result);
        }
      }
      assert.equal((await request(server.baseUrl, 'GET', '/api/auth/me', { token: user.accessToken })).status, 200);
    });

    test('the per-IP limit counts requests by the connecting address, not X-Forwarded-For', async () => {
      // Without TRUST_PROXY a client cannot pick its own address to get a fresh allowance.
      const send = (from: string) =>
        request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: 'x' }, headers: { 'x-forwarded-for': from } });
      const first = await send('203.0.113.1');
      const second = await send('203.0.113.2');
      assert.equal(remaining(second), remaining(first) - 1);
      assert.match(first.headers.get('ratelimit-policy') ?? '', /q=300; w=900/, "the contract's default: 300 per 15 minutes");
    });
  });

  describe(`HTTP behind a proxy with tight limits and fixed origins (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {
      RATE_LIMIT_LOGIN_FAILURES: '3',
      RATE_LIMIT_LOGIN_FAILURES_ACCOUNT: '5',
      RATE_LIMIT_AUTH_PER_IP: '20',
      TRUST_PROXY: 'loopback',
      CORS_ORIGINS: `${APP_ORIGIN}, https://admin.app.example`,
    });
    let ipCounter = 0;
    /** A client address of its own for each use, passed the way a trusted reverse proxy would. */
    const clientIp = () => `198.51.${randomInt(0, 100)}.${++ipCounter}`;
    const loginFrom = (ip: string, email: string, password: string) =>
      request(server.baseUrl, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': ip } });

    /** A fresh account registered from an address of its own (registrations count toward the per-IP limit). */
    const newAccount = async (name: string) => {
      const email = uniqueEmail(name.toLowerCase());
      const result = await request(server.baseUrl, 'POST', '/api/auth/register', {
        body: { email, password: PASSWORD, name },
        headers: { 'x-forwarded-for': clientIp() },
      });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      return { email, password: PASSWORD };
    };
    const failFrom = async (ip: string, email: string, times: number) => {
      for (let attempt = 1; attempt <= times; attempt++) {
        assertError(await loginFrom(ip, email, `wrong password ${attempt}`), 401, 'INVALID_CREDENTIALS');
      }
    };

    test('the 4th failed login for one account from one IP answers 429 RATE_LIMITED with Retry-After', async () => {
      const user = await newAccount('Guessed');
      const ip = clientIp();
      await failFrom(ip, user.email, 3);
      const limited = await loginFrom(ip, ` ${user.email.toUpperCase()}`, 'wrong password 4');
      assertError(limited, 429, 'RATE_LIMITED');
      const seconds = assertRetryAfter(limited);
      assert.ok(seconds <= 15 * 60, `Retry-After ${seconds} is within the window`);
      // Even the right password waits now from that address; another account from it is not affected.
      assertError(await loginFrom(ip, user.email, user.password), 429, 'RATE_LIMITED');
      const other = await newAccount('Unaffected');
      assert.equal((await loginFrom(ip, other.email, other.password)).status, 200);
    });

    test('one IP failing against many accounts locks out only itself: each owner still signs in from their own IP', async () => {
      const attacker = clientIp();
      const victims = [await newAccount('Victim'), await newAccount('Victim'), await newAccount('Victim')];
      for (const victim of victims) {
        await failFrom(attacker, victim.email, 3);
        assertError(await loginFrom(attacker, victim.email, 'one more guess'), 429, 'RATE_LIMITED');
      }
      for (const victim of victims) {
        const result = await loginFrom(clientIp(), victim.email, victim.password);
        assert.equal(result.status, 200, `the owner is not locked out: ${JSON.stringify(result.body)}`);
      }
    });

    test('failures from many IPs together meet the per-account ceiling; attempts refused per IP do not use it up', async () => {
      const user = await newAccount('Distributed');
      const first = clientIp();
      await failFrom(first, user.email, 3);
      // Refused by the per-IP limit before the ceiling counts them.
      for (let attempt = 0; attempt < 5; attempt++) assertError(await loginFrom(first, user.email, 'again'), 429, 'RATE_LIMITED');
      await failFrom(clientIp(), user.email, 1);
      await failFrom(clientIp(), user.email, 1);
      // Five failures from three addresses: the ceiling. Nobody gets in now, from anywhere.
      const limited = await loginFrom(clientIp(), user.email, 'from a fresh address');
      assertError(limited, 429, 'RATE_LIMITED');
      assertRetryAfter(limited);
      assertError(await loginFrom(clientIp(), user.email, user.password), 429, 'RATE_LIMITED');
    });

    test('successful logins do not count toward the failed-login limits', async () => {
      const user = await newAccount('Forgetful');
      const ip = clientIp();
      await failFrom(ip, user.email, 2);
      assert.equal((await loginFrom(ip, user.email, user.password)).status, 200);
      // The 4th attempt but only the 3rd failure: still allowed; the next failure is over the limit.
      await failFrom(ip, user.email, 1);
      assertError(await loginFrom(ip, user.email, 'wrong password'), 429, 'RATE_LIMITED');
    });

    test('the per-IP limit: the 21st /api/auth request from one address answers 429, others go on', async () => {
      const ip = clientIp();
      const send = (from: string) =>
        request(server.baseUrl, 'POST', '/api/auth/refresh-token', { body: { refreshToken: 'not-a-token' }, headers: { 'x-forwarded-for': from } });
      for (let n = 1; n <= 20; n++) assertError(await send(ip), 401, 'UNAUTHORIZED');
      const limited = await send(ip);
      assertError(limited, 429, 'RATE_LIMITED');
      assertRetryAfter(limited);
      const register = await request(server.baseUrl, 'POST', '/api/auth/register', {
        body: { email: 'late@example.com', password: 'long enough', name: 'Late' },
        headers: { 'x-forwarded-for': ip },
      });
      assertError(register, 429, 'RATE_LIMITED');
      assertError(await send(clientIp()), 401, 'UNAUTHORIZED');
      // Only /api/auth/* is limited.
      assert.equal((await request(server.baseUrl, 'GET', '/health', { headers: { 'x-forwarded-for': ip } })).status, 200);
    });

    test('CORS_ORIGINS: only the listed origins are allowed', async () => {
      for (const origin of [APP_ORIGIN, 'https://admin.app.example']) {
        const result = await request(server.baseUrl, 'GET', '/health', { headers: { origin } });
        assert.equal(result.headers.get('access-control-allow-origin'), origin);
      }
      for (const origin of [DEV_ORIGIN, EVIL_ORIGIN, 'https://app.example.evil.example', 'http://app.example']) {
        const result = await request(server.baseUrl, 'GET', '/health', { headers: { origin } });
        assert.equal(result.headers.get('access-control-allow-origin'), null, origin);
      }
    });
  });
}
