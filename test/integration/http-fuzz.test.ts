import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { AuthResponse } from '../../src/protocol/auth.js';
import { ERROR_STATUS, type ErrorCode } from '../../src/protocol/errors.js';
import { newId } from '../../src/shared/ids.js';
import { databaseTargets } from '../support/databases.js';
import { login, PASSWORD, registerUser } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { accessTokenClaims, forgeAccessToken, tamperPayload, unsignedToken } from '../support/tokens.js';

/**
 * Bounded so the file takes seconds. FUZZ_RUNS widens a run; FUZZ_SEED replays one (fast-check prints
 * the seed and the shrunk counterexample on failure).
 */
const NUM_RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_0008);

const UNLIMITED = '1000000';

interface Identity {
  userId: string;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  email: string;
}

/** Claims of a token the fuzzer signs with the server's real key. */
interface ForgedClaims {
  sub: string;
  sid: string;
  expired: boolean;
}

/** How a body is sent: as is, compressed as its header says, or with a header that does not match it. */
interface Encoding {
  compress?: 'gzip' | 'deflate' | 'br';
  header?: string;
}

/** A request as the properties build it; a forged token is signed when it is sent. */
interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | undefined>;
  authorization: { scheme: string; token: string | ForgedClaims } | undefined;
  body: { text: string; encoding: Encoding } | undefined;
}

/** Strings that broke something once, or could: NUL, lone surrogates, percent-escapes, operators, huge. */
const nasty = fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff x', '💥', '%00', '%E0%A4%A', '{"$gt":""}', "' or 1=1 --", 'x'.repeat(5000));
/** Any UTF-16 code units, NUL and lone surrogates included (fast-check favours small ones). */
const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 30 });
const anyText = fc.oneof(nasty, utf16, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 20 }));
/** What fetch accepts in a header value: printable ASCII. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 60 });
/** Text for a URL: percent-encoded (a lone surrogate cannot be), or raw escapes fetch passes through. */
const urlText = fc.oneof(
  anyText.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'))),
  fc.constantFrom('%00', 'a%00', '%ED%A0%80', '%E0%A4%A', '%', '%2F', '%2e%2e', ';', '~', 'api', 'auth', 'users'),
);

const compressed = (compress: 'gzip' | 'deflate' | 'br', text: string) =>
  compress === 'gzip' ? gzipSync(text) : compress === 'deflate' ? deflateSync(text) : brotliCompressSync(text);

/** An object with one more own property, even one named `__proto__`, the way JSON.parse would make it. */
function withField<T>(object: Record<string, T>, name: string, value: T): Record<string, T> {
  return Object.defineProperty({ ...object }, name, { value, enumerable: true, writable: true, configurable: true });
}

for (const target of databaseTargets()) {
  describe(`HTTP fuzzing (${target.kind})`, { skip: target.skip }, () => {
    // Limits high enough that the fuzzer measures the handlers, not the rate limiter.
    const server = useTestApp(target.kind, {
      RATE_LIMIT_AUTH_PER_IP: UNLIMITED,
      RATE_LIMIT_LOGIN_FAILURES: UNLIMITED,
      RATE_LIMIT_LOGIN_FAILURES_ACCOUNT: UNLIMITED,
      PEOPLE_SEARCHES_PER_MINUTE: UNLIMITED,
    });
    /** The fuzzer's own accounts: their tokens never appear in bodies or paths, so they stay usable. */
    let user: Identity;
    let admin: Identity;
    /**
     * What the fuzzer may end, ban or rotate: another session of `user`, and another account. The spare
     * session never signs a request: its logout-all would end the user's own.
     */
    let spare: Identity;
    let bystander: Identity;
    /** A group of the fuzzed user (owner) and the bystander. */
    let groupId: string;

    const identity = (tokens: AuthResponse, email: string): Identity => ({
      userId: tokens.user.id,
      sessionId: accessTokenClaims(tokens.accessToken).sid,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      email,
    });
    const register = async (name: string) => {
      const registered = await registerUser(server.baseUrl, name);
      return identity(registered, registered.email);
    };

    before(async () => {
      user = await register('Fuzzed');
      spare = identity(await login(server.baseUrl, { email: user.email, password: PASSWORD }), user.email);
      admin = await register('Fuzz Admin');
      await server.app.storage.users.setRole(admin.userId, 'admin');
      bystander = await register('Fuzz Bystander');
      groupId = newId();
      await server.app.storage.conversations.createGroup({ id: groupId, title: 'Fuzz group', ownerId: user.userId, memberIds: [bystander.userId], createdAt: new Date() });
    });

    interface Route {
      method: string;
      path: fc.Arbitrary<string>;
      /** Who the route is for: its requests are signed by that account's token. */
      as?: Identity;
      body?: Record<string, fc.Arbitrary<unknown>>;
      query?: Record<string, fc.Arbitrary<string>>;
    }

    /** The request arbitraries, built once the accounts exist. */
    function arbitraries() {
      const { issuer, audience } = server.config.jwt;
      const id = fc.oneof(
        fc.constantFrom(bystander.userId, spare.sessionId, bystander.sessionId, bystander.userId.toUpperCase(), 'me', groupId),
        fc.uuid({ version: 7 }),
        urlText,
      );
      // Unbiased, so emails to register with rarely repeat (a repeat is EMAIL_TAKEN, which is fine too).
      const email = fc.noBias(fc.uuid()).map((unique) => `fuzz-${unique}@example.com`);
      const fieldValue = fc.oneof(
        { weight: 3, arbitrary: anyText },
        {
          weight: 1,
          arbitrary: fc.constantFrom(PASSWORD, 'ExponentPushToken[fuzz]', 'banned', 'active', 'deleted', 'admin', 'user', user.email, bystander.email, spare.refreshToken, bystander.refreshToken),
        },
        { weight: 1, arbitrary: email },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
      );
      const field = fc.constantFrom('email', 'password', 'name', 'deviceName', 'refreshToken', 'token', 'deviceId', 'status', 'role', 'title', 'memberIds', 'userIds', '__proto__', 'constructor');
      const queryValue = fc.oneof(urlText, fc.constantFrom('0', '-1', '1', '50', '101', '1e3', '999999999999999999999', 'Fuzz', bystander.userId, spare.sessionId));
      const queryKey = fc.constantFrom('query', 'limit', 'before', 'after', 'status', 'direction', 'limit[]', 'query[$ne]', 'after[a]', 'x');

      const at = (path: string) => fc.constant(path);
      const withId = (prefix: string) => id.map((value) => prefix + value);
      const page = { limit: fc.constantFrom('1', '20'), before: fc.uuid({ version: 7 }) };
      const key33 = Buffer.alloc(33, 5).toString('base64');
      const signedKey = fc.constant({ keyId: 1, publicKey: key33, signature: Buffer.alloc(64, 1).toString('base64') });
      const routes: Route[] = [
        { method: 'GET', path: at('/health') },
        { method: 'GET', path: at('/ready') },
        { method: 'POST', path: at('/api/auth/register'), body: { email, password: fc.constant(PASSWORD), name: fc.constant('Fuzz'), deviceName: fc.constant('Phone') } },
        { method: 'POST', path: at('/api/auth/login'), body: { email: fc.constantFrom(user.email, bystander.email), password: fc.constant(PASSWORD), deviceName: fc.constant('Phone') } },
        { method: 'POST', path: at('/api/auth/refresh-token'), body: { refreshToken: fc.constantFrom(spare.refreshToken, bystander.refreshToken) } },
        { method: 'POST', path: at('/api/auth/logout'), body: { refreshToken: fc.constantFrom(spare.refreshToken, bystander.refreshToken) } },
        { method: 'POST', path: at('/api/auth/logout-all'), as: user },
        { method: 'GET', path: at('/api/auth/me'), as: user },
        { method: 'POST', path: at('/api/auth/expo-push-token'), as: user, body: { token: fc.constant('ExponentPushToken[fuzz]'), deviceId: fc.constant('phone') } },
        { method: 'DELETE', path: at('/api/auth/expo-push-token'), as: user, body: { token: fc.constant('ExponentPushToken[fuzz]') } },
        { method: 'GET', path: at('/api/auth/sessions'), as: user },
        { method: 'DELETE', path: withId('/api/auth/sessions/'), as: user },
        { method: 'PATCH', path: withId('/api/admin/users/'), as: admin, body: { status: fc.constantFrom('active', 'banned'), role: fc.constant('user') } },
        { method: 'GET', path: withId('/api/chat/history/'), as: user, query: page },
        { method: 'GET', path: at('/api/chat/conversations'), as: user, query: page },
        { method: 'GET', path: at('/api/chat/sync'), as: user, query: { after: fc.constantFrom('0', '5', 'eyJzaW5jZSI6IjE6MToifQ'), limit: fc.constant('10') } },
        { method: 'POST', path: at('/api/chat/groups'), as: user, body: { title: fc.constant('Fuzz'), memberIds: fc.constant([bystander.userId]) } },
        { method: 'GET', path: withId('/api/chat/conversations/'), as: user },
        { method: 'GET', path: id.map((value) => `/api/chat/conversations/${value}/members`), as: user, query: { limit: fc.constant('5') } },
        { method: 'GET', path: id.map((value) => `/api/chat/conversations/${value}/messages`), as: user, query: page },
        { method: 'PATCH', path: withId('/api/chat/groups/'), as: user, body: { title: fc.constant('Renamed') } },
        { method: 'POST', path: id.map((value) => `/api/chat/groups/${value}/members`), as: user, body: { userIds: fc.constant([bystander.userId]) } },
        { method: 'PATCH', path: fc.tuple(id, id).map(([group, member]) => `/api/chat/groups/${group}/members/${member}`), as: user, body: { role: fc.constantFrom('admin', 'member') } },
        { method: 'DELETE', path: fc.tuple(id, id).map(([group, member]) => `/api/chat/groups/${group}/members/${member}`), as: user },
        { method: 'GET', path: at('/api/users'), as: user, query: { query: fc.constant('Fuzz'), limit: fc.constant('5') } },
        { method: 'GET', path: withId('/api/users/'), as: user },
        { method: 'GET', path: at('/api/call/history'), as: user, query: page },
        { method: 'GET', path: at('/api/call/ice-servers'), as: user },
        { method: 'PUT', path: at('/api/keys/device'), as: user, body: { deviceId: fc.constant('1'), identityKey: fc.constant({ algorithm: 'xeddsa', publicKey: key33 }), signedPreKey: signedKey } },
        { method: 'GET', path: at('/api/keys/device'), as: user },
        { method: 'DELETE', path: at('/api/keys/device'), as: user },
        { method: 'PUT', path: at('/api/keys/device/prekeys'), as: user, body: { signedPreKey: signedKey } },
        { method: 'POST', path: at('/api/keys/device/one-time-prekeys'), as: user, body: { oneTimePreKeys: fc.constant([{ keyId: 1, publicKey: key33 }]) } },
        { method: 'GET', path: withId('/api/keys/users/').map((path) => `${path}/devices`), as: user },
        { method: 'POST', path: withId('/api/keys/users/').map((path) => `${path}/claim`), as: user, body: { deviceIds: fc.constant(['1']) } },
        { method: 'POST', path: at('/api/keys/to-device'), as: user, body: { messages: fc.constant([{ userId: bystander.userId, deviceId: '1', type: 1, body: key33 }]) } },
        { method: 'GET', path: at('/api/keys/to-device'), as: user, query: { limit: fc.constant('10') } },
        { method: 'POST', path: at('/api/keys/to-device/ack'), as: user, body: { ids: fc.uuid({ version: 7 }).map((value) => [value]) } },
        { method: 'POST', path: at('/api/media'), as: user, query: { encrypted: fc.constantFrom('true', 'false') } },
        { method: 'POST', path: at('/api/media/uploads'), as: user, body: { size: fc.constant(1000), name: fc.constant('a.jpg') } },
        { method: 'POST', path: withId('/api/media/').map((path) => `${path}/complete`), as: user },
        { method: 'GET', path: withId('/api/media/'), as: user },
        { method: 'GET', path: withId('/api/media/blob/'), query: { expires: fc.constant('99999999999'), type: fc.constant('image/jpeg'), disposition: fc.constant('inline'), signature: fc.constant('x') } },
      ];

      /** A valid object from `template` with one field replaced (or added) by `value`. */
      const oneFieldOff = <T>(template: Record<string, fc.Arbitrary<T>>, key: fc.Arbitrary<string>, value: fc.Arbitrary<T>) =>
        fc
          .tuple(fc.record(template), fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...Object.keys(template)) }, { weight: 1, arbitrary: key }), value)
          .map(([valid, name, changed]) => withField(valid, name, changed));
      /** A valid object, or one with a field or two off, or with one left out. */
      const nearly = <T>(template: Record<string, fc.Arbitrary<T>>, key: fc.Arbitrary<string>, value: fc.Arbitrary<T>) =>
        fc.oneof(
          fc.record(template),
          oneFieldOff(template, key, value),
          fc.tuple(oneFieldOff(template, key, value), key, value).map(([object, name, changed]) => withField(object, name, changed)),
          fc.tuple(fc.record(template), fc.constantFrom(...Object.keys(template))).map(([valid, left]) => {
            const { [left]: _left, ...rest } = valid;
            return rest;
          }),
        );
      const queryString = (pairs: Record<string, string>) => {
        const text = Object.entries(pairs).map(([key, value]) => `${key}=${value}`).join('&');
        return text ? `?${text}` : '';
      };
      const randomQuery = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((pairs) => queryString(Object.fromEntries(pairs)));
      const queryFor = (route: Route) =>
        route.query ? fc.oneof({ weight: 3, arbitrary: nearly(route.query, queryKey, queryValue).map(queryString) }, { weight: 1, arbitrary: randomQuery }) : randomQuery;

      const randomJson = fc.oneof(
        fc.dictionary(field, fieldValue, { maxKeys: 4 }).map((body) => JSON.stringify(body)),
        fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      );
      const notJson = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.constantFrom('{', '{"email":', 'null', '[]', '"x"', '1e999', '{"a":1}{"b":2}', 'email=a@b.c&password=x', '\u0000'),
      );
      const compression = fc.constantFrom<'gzip' | 'deflate' | 'br'>('gzip', 'deflate', 'br');
      const encodingHeader = fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zstd', 'gzip, br', 'GZIP'), headerText);
      const encoding: fc.Arbitrary<Encoding> = fc.oneof(
        { weight: 8, arbitrary: fc.constant({}) },
        { weight: 2, arbitrary: compression.map((compress) => ({ compress, header: compress })) },
        { weight: 2, arbitrary: encodingHeader.map((header) => ({ header })) },
        { weight: 1, arbitrary: fc.record({ compress: compression, header: encodingHeader }) },
      );
      const bodyFor = (route: Route) =>
        fc.oneof(
          { weight: route.body ? 1 : 4, arbitrary: fc.constant(undefined) },
          ...(route.body ? [{ weight: 6, arbitrary: fc.record({ text: nearly(route.body, field, fieldValue).map((body) => JSON.stringify(body)), encoding }) }] : []),
          { weight: 1, arbitrary: fc.record({ text: randomJson, encoding }) },
          { weight: 1, arbitrary: fc.record({ text: notJson, encoding }) },
        );

      // Tokens: the real ones, forged with the real key (garbage, foreign or expired claims), and junk.
      const forged: fc.Arbitrary<ForgedClaims> = fc.record({
        sub: fc.oneof(fc.constantFrom(user.userId, admin.userId, bystander.userId), fc.uuid({ version: 7 }), anyText),
        sid: fc.oneof(fc.constantFrom(user.sessionId, admin.sessionId, spare.sessionId), fc.uuid({ version: 7 }), anyText),
        expired: fc.boolean(),
      });
      const token = (route: Route) =>
        fc.oneof(
          { weight: 6, arbitrary: fc.constant((route.as ?? user).accessToken) },
          { weight: 2, arbitrary: fc.constantFrom(user.accessToken, admin.accessToken, bystander.accessToken) },
          { weight: 3, arbitrary: forged },
          {
            weight: 1,
            arbitrary: fc.constantFrom(tamperPayload(user.accessToken), unsignedToken({ sub: user.userId, sid: user.sessionId, iss: issuer, aud: audience })),
          },
          { weight: 1, arbitrary: headerText },
        );
      const authorizationFor = (route: Route) =>
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(undefined) },
          {
            weight: 4,
            arbitrary: fc.record({
              scheme: fc.oneof({ weight: 6, arbitrary: fc.constant('Bearer ') }, { weight: 1, arbitrary: fc.constantFrom('bearer ', 'Basic ', '', 'Bearer  ') }),
              token: token(route),
            }),
          },
        );

      const header = (values: fc.Arbitrary<string>, freq = 5) => fc.option(values, { nil: undefined, freq });
      const contentType = fc.oneof(
        { weight: 6, arbitrary: fc.constant('application/json') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'application/json; charset=utf-8',
            'application/json; charset=latin1',
            'application/json; charset=utf-16',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/merge-patch+json',
          ),
        },
        { weight: 1, arbitrary: headerText },
      );
      const headers = fc.record({
        'content-type': header(contentType, 10),
        'x-forwarded-for': header(headerText),
        'x-request-id': header(headerText),
        origin: header(fc.constantFrom('http://localhost:5173', 'https://evil.example', 'null')),
      });

      const anyMethod = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
      // Random paths stay off /socket.io/ (Engine.IO's own protocol, with its own error answers).
      const randomPath = fc.array(urlText, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
      const request = (route: Route, method: fc.Arbitrary<string>, path: fc.Arbitrary<string>): fc.Arbitrary<FuzzRequest> =>
        fc.record({ method, path, query: queryFor(route), headers, authorization: authorizationFor(route), body: bodyFor(route) });
      const anyRoute = fc.constantFrom(...routes);

      /** Anything: real routes with their own or any method, random paths, any headers, tokens and bodies. */
      const broad = fc.oneof(
        { weight: 6, arbitrary: anyRoute.chain((route) => request(route, fc.constant(route.method), route.path)) },
        {
          weight: 2,
          arbitrary: anyRoute.chain((route) => request(route, anyMethod, fc.tuple(route.path, fc.constantFrom('', '/', '//x')).map(([path, tail]) => path + tail))),
        },
        { weight: 1, arbitrary: request({ method: 'POST', path: at('/') }, anyMethod, randomPath) },
      );

      /** A well-formed request to a real route, signed by its account, with one body or query field off. */
      const oneFieldOffRequest = fc.constantFrom(...routes.filter((route) => route.body ?? route.query)).chain((route) =>
        fc.record({
          method: fc.constant(route.method),
          path: route.path,
          query: route.query ? oneFieldOff(route.query, queryKey, queryValue).map(queryString) : fc.constant(''),
          headers: fc.constant({ 'content-type': 'application/json' }),
          authorization: fc.constant(route.as ? { scheme: 'Bearer ', token: route.as.accessToken } : undefined),
          body: route.body ? oneFieldOff(route.body, field, fieldValue).map((body) => ({ text: JSON.stringify(body), encoding: {} })) : fc.constant(undefined),
        }),
      );

      return { broad, oneFieldOffRequest };
    }

    async function send(fuzz: FuzzRequest): Promise<{ status: number; text: string }> {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(fuzz.headers)) if (value !== undefined) headers[name] = value;
      if (fuzz.authorization) {
        const { scheme, token } = fuzz.authorization;
        const { issuer, audience } = server.config.jwt;
        const value =
          typeof token === 'string'
            ? token
            : await forgeAccessToken({ sub: token.sub, sid: token.sid, issuer, audience, ...(token.expired ? { exp: Math.floor(Date.now() / 1000) - 60 } : {}) });
        headers['authorization'] = scheme + value;
      }
      let payload: string | Buffer | undefined;
      if (fuzz.body && fuzz.method !== 'GET' && fuzz.method !== 'HEAD') {
        const { text, encoding } = fuzz.body;
        payload = encoding.compress ? compressed(encoding.compress, text) : text;
        if (encoding.header) headers['content-encoding'] = encoding.header;
      }
      const response = await fetch(`${server.baseUrl}${fuzz.path}${fuzz.query}`, {
        method: fuzz.method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, text: await response.text() };
    }

    /** No 5xx, and an error is `{ error: { code, message, details? } }` with the status of its code. */
    async function assertAnswered(fuzz: FuzzRequest): Promise<void> {
      const { status, text } = await send(fuzz);
      const seen = `${fuzz.method} ${fuzz.path}${fuzz.query} -> ${status} ${text.slice(0, 300)}`;
      assert.ok(status < 500, `a server error: ${seen}`);
      if (status < 400 || fuzz.method === 'HEAD') return;
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        assert.fail(`an error that is not JSON: ${seen}`);
      }
      assert.ok(answer && typeof answer === 'object' && !Array.isArray(answer), `not an object: ${seen}`);
      assert.deepEqual(Object.keys(answer), ['error'], `not the error shape: ${seen}`);
      const { error } = answer as { error: { code?: unknown; message?: unknown; details?: unknown } };
      assert.equal(typeof error.code, 'string', seen);
      assert.ok(Object.hasOwn(ERROR_STATUS, error.code as string), `an unknown code: ${seen}`);
      assert.equal(ERROR_STATUS[error.code as ErrorCode], status, `the status does not match the code: ${seen}`);
      assert.equal(typeof error.message, 'string', seen);
      if (error.details !== undefined) assert.ok(Array.isArray(error.details), seen);
    }

    test('random requests never get a 5xx, and every error has the contract shape and status', async () => {
      await fc.assert(fc.asyncProperty(arbitraries().broad, assertAnswered), { numRuns: NUM_RUNS, seed: SEED });
      assert.equal((await fetch(`${server.baseUrl}/health`)).status, 200, 'still up');
    });

    test('well-formed requests with one field replaced by random text or JSON never get a 5xx', async () => {
      await fc.assert(fc.asyncProperty(arbitraries().oneFieldOffRequest, assertAnswered), { numRuns: NUM_RUNS, seed: SEED });
      assert.equal((await fetch(`${server.baseUrl}/health`)).status, 200, 'still up');
    });
  });
}
