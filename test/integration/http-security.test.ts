import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertError, assertRetryAfter } from '../support/assertions.js';
import { databaseTargets } from '../support/databases.js';
import { registerUser, request, type HttpResult } from '../support/http.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

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
    let server: TestApp;
    before(async () => {
      server = await startTestApp(target.kind);
    });
    after(() => server.stop());

    test('GET /health and GET /ready answer 200', async () => {
      const health = await request(server.baseUrl, 'GET', '/health');
      assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
      const ready = await request(server.baseUrl, 'GET', '/ready');
      assert.deepEqual([ready.status, ready.body], [200, { status: 'ready' }]);
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
    let server: TestApp;
    let ipCounter = 0;
    /** A client address of its own for each use, passed the way a trusted reverse proxy would. */
    const clientIp = () => `198.51.${randomInt(0, 100)}.${++ipCounter}`;
    const loginFrom = (ip: string, email: string, password: string) =>
      request(server.baseUrl, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': ip } });

    before(async () => {
      server = await startTestApp(target.kind, {
        RATE_LIMIT_LOGIN_FAILURES: '3',
        RATE_LIMIT_AUTH_PER_IP: '20',
        TRUST_PROXY: 'loopback',
        CORS_ORIGINS: `${APP_ORIGIN}, https://admin.app.example`,
      });
    });
    after(() => server.stop());

    test('the 4th failed login for one account answers 429 RATE_LIMITED with Retry-After, from any IP', async () => {
      const user = await registerUser(server.baseUrl, 'Guessed');
      for (let attempt = 1; attempt <= 3; attempt++) {
        // Each attempt from another address: the limit is the account's.
        assertError(await loginFrom(clientIp(), user.email, `wrong password ${attempt}`), 401, 'INVALID_CREDENTIALS');
      }
      const limited = await loginFrom(clientIp(), ` ${user.email.toUpperCase()}`, 'wrong password 4');
      assertError(limited, 429, 'RATE_LIMITED');
      const seconds = assertRetryAfter(limited);
      assert.ok(seconds <= 15 * 60, `Retry-After ${seconds} is within the window`);
      // Even the right password waits now, and another account is not affected.
      assertError(await loginFrom(clientIp(), user.email, user.password), 429, 'RATE_LIMITED');
      const other = await registerUser(server.baseUrl, 'Unaffected');
      assert.equal((await loginFrom(clientIp(), other.email, other.password)).status, 200);
    });

    test('successful logins do not count toward the per-account limit', async () => {
      const user = await registerUser(server.baseUrl, 'Forgetful');
      const ip = clientIp();
      assertError(await loginFrom(ip, user.email, 'wrong password'), 401, 'INVALID_CREDENTIALS');
      assertError(await loginFrom(ip, user.email, 'wrong password'), 401, 'INVALID_CREDENTIALS');
      assert.equal((await loginFrom(ip, user.email, user.password)).status, 200);
      // The 4th attempt but only the 3rd failure: still allowed; the next failure is over the limit.
      assertError(await loginFrom(ip, user.email, 'wrong password'), 401, 'INVALID_CREDENTIALS');
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
