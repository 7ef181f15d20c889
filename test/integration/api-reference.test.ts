import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DOCS_ASSET_ROUTES } from '../../src/api-docs/docs-routes.js';
import { buildEventReference, defaultBudgets, EVENT_REFERENCE_FILE } from '../../src/api-docs/event-reference.js';
import { openApiPath } from '../../src/api-docs/openapi.js';
import { clientEvents, serverEvents } from '../../src/protocol/event-catalog.js';
import { restRoutes } from '../../src/protocol/rest-api.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { registerUser, request, uniqueEmail, PASSWORD } from '../support/http.js';
import { routesOf } from '../../src/http/app-routes.js';
import { useTestApp } from '../support/test-app.js';

type OpenApiDocument = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>; components: object };

const EXTERNAL_URL = /\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i;

describe('API reference', () => {
  const server = useTestApp('pglite');

  async function openApi(): Promise<OpenApiDocument> {
    const result = await request<OpenApiDocument>(server.baseUrl, 'GET', '/openapi.json');
    assert.equal(result.status, 200);
    return result.body;
  }

  test('every route of the Express app is in the route table the OpenAPI document is built from, and nothing else is', async () => {
    const actual = routesOf(server.app.http)
      .filter((route) => !DOCS_ASSET_ROUTES.includes(route.path))
      .map((route) => `${route.method.toUpperCase()} ${route.path}`);
    assert.ok(actual.length >= 40, `only ${actual.length} routes found: is the router walk still right?`);
    const documented = restRoutes.map((route) => `${route.method.toUpperCase()} ${route.path}`);
    assert.deepEqual(
      actual.filter((route) => !documented.includes(route)),
      [],
      'routes of the app missing from src/protocol/rest-api.ts',
    );
    assert.deepEqual(
      documented.filter((route) => !actual.includes(route)),
      [],
      'documented routes the app does not have',
    );

    const { paths } = await openApi();
    for (const route of restRoutes) assert.ok(paths[openApiPath(route.path)]?.[route.method], `${route.method} ${route.path} is in /openapi.json`);
  });

  test('/openapi.json is a valid OpenAPI 3.1 document', async () => {
    const document = await openApi();
    const result = await new Validator().validate(document as never);
    assert.deepEqual(result, { valid: true });
    assert.equal((document as unknown as { openapi: string }).openapi, '3.1.0');
  });

  test('every Socket.io event is in the event reference, served and committed, and docs/api/events.md is up to date', async () => {
    const committed = await readFile(EVENT_REFERENCE_FILE, 'utf8');
    assert.equal(committed, buildEventReference(defaultBudgets()), `${EVENT_REFERENCE_FILE} is stale: run npm run docs:events`);
    const page = await fetch(`${server.baseUrl}/docs/events`);
    assert.equal(page.status, 200);
    const html = await page.text();
    for (const name of new Set([...Object.keys(clientEvents), ...Object.keys(serverEvents)])) {
      assert.ok(committed.includes(`### \`${name}\``), `${name} has a section in ${EVENT_REFERENCE_FILE}`);
      assert.ok(html.includes(`<code>${name}</code></h3>`), `${name} has a section in /docs/events`);
    }
    for (const name of Object.keys(clientEvents)) assert.match(committed.split(`### \`${name}\``)[1]!, /^\n\n\*\*Client -> server\.\*\*[^]*?Budget: "/, `${name} shows its budget`);
  });

  test('/docs and /docs/events are HTML that loads nothing from another origin', async () => {
    for (const page of ['/docs', '/docs/events']) {
      const response = await fetch(`${server.baseUrl}${page}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      const policy = response.headers.get('content-security-policy') ?? '';
      assert.match(policy, /default-src 'self'/);
      assert.doesNotMatch(policy, /https?:|\*|'unsafe-inline'|'unsafe-eval'/, `${page}: the policy allows only 'self' (and data: images)`);
      const html = await response.text();
      assert.doesNotMatch(html, EXTERNAL_URL, `${page} names no other origin`);
      assert.doesNotMatch(html, /<script>|<style>|\sstyle=/, `${page} has no inline script or style`);
      const loaded = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((match) => match[1]!);
      assert.ok(loaded.length > 0);
      for (const path of loaded) {
        assert.ok(path.startsWith('/'), `${page} loads ${path} from this server`);
        const asset = await fetch(`${server.baseUrl}${path}`);
        assert.equal(asset.status, 200, `${page}: ${path}`);
        if (/\.(css|js)$/.test(path) && !path.startsWith('/docs/assets/')) assert.doesNotMatch(await asset.text(), EXTERNAL_URL, `${path} names no other origin`);
        else await asset.arrayBuffer();
      }
    }
    const init = await (await fetch(`${server.baseUrl}/docs/swagger-init.js`)).text();
    assert.match(init, /validatorUrl: null/, "Swagger UI's validator badge would load from validator.swagger.io");
    // swagger-ui-dist's own index.html points at the petstore on the internet: it is not served.
    assert.equal((await fetch(`${server.baseUrl}/docs/assets/index.html`)).status, 404);
  });

  test('real responses match the schemas the document gives them', async () => {
    const document = await openApi();
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    const check = (method: string, route: string, status: number, body: unknown) => {
      const schema = document.paths[openApiPath(route)]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
      assert.ok(schema, `${method} ${route} documents ${status}`);
      const validate = ajv.compile({ ...schema, components: document.components });
      assert.ok(validate(body), `${method} ${route} ${status}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`);
    };

    const email = uniqueEmail('reference');
    const registered = await request(server.baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Ada' } });
    check('post', '/api/auth/register', 201, registered.body);
    const loggedIn = await request(server.baseUrl, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
    check('post', '/api/auth/login', 200, loggedIn.body);
    const token: string = loggedIn.body.accessToken;

    const alice = await chatUser(server.baseUrl, 'Alice');
    const bob = await registerUser(server.baseUrl, 'Bob');
    await sendOk(device(alice), { to: bob.user.id, text: 'hello' });
    await sendOk(device(alice), { to: bob.user.id, text: 'again', clientMessageId: 'c-1' });
    const page = await request(server.baseUrl, 'GET', `/api/chat/history/${alice.id}?limit=1`, { token: bob.accessToken });
    assert.equal(page.body.messages.length, 1);
    assert.notEqual(page.body.nextCursor, null);
    check('get', '/api/chat/history/:userId', 200, page.body);

    const reads: [string, string][] = [
      ['/api/auth/me', '/api/auth/me'],
      ['/api/auth/sessions', '/api/auth/sessions'],
      ['/api/chat/conversations', '/api/chat/conversations'],
      ['/api/chat/sync', '/api/chat/sync'],
      ['/api/call/history', '/api/call/history'],
      ['/api/call/ice-servers', '/api/call/ice-servers'],
      [`/api/users/${alice.id}`, '/api/users/:id'],
    ];
    for (const [path, route] of reads) {
      const result = await request(server.baseUrl, 'GET', path, { token: bob.accessToken });
      assert.equal(result.status, 200, path);
      check('get', route, 200, result.body);
    }
    for (const path of ['/health', '/ready']) check('get', path, 200, (await request(server.baseUrl, 'GET', path)).body);

    // Ada's logins, and a failed one, read from the audit log by Ada as an admin (a new session: the role is read with it).
    await request(server.baseUrl, 'POST', '/api/auth/login', { body: { email, password: 'not the password' } });
    await server.app.storage.users.setRole(registered.body.user.id, 'admin');
    const asAdmin = await request(server.baseUrl, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
    const audit = await request(server.baseUrl, 'GET', `/api/admin/audit?userId=${registered.body.user.id}`, { token: asAdmin.body.accessToken });
    assert.deepEqual(audit.body.entries.map((entry: { type: string }) => entry.type), ['login.succeeded', 'login.failed', 'login.succeeded']);
    check('get', '/api/admin/audit', 200, audit.body);

    const invalid = await request(server.baseUrl, 'POST', '/api/auth/register', { body: { email: 'not an email', password: 'short', name: '' } });
    assert.equal(invalid.status, 400);
    check('post', '/api/auth/register', 400, invalid.body);
    const taken = await request(server.baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Ada' } });
    assert.equal(taken.status, 409);
    check('post', '/api/auth/register', 409, taken.body);
    const unauthorized = await request(server.baseUrl, 'GET', '/api/auth/me');
    assert.equal(unauthorized.status, 401);
    check('get', '/api/auth/me', 401, unauthorized.body);
    const unknown = await request(server.baseUrl, 'GET', `/api/chat/conversations/${alice.id}`, { token });
    assert.equal(unknown.status, 404);
    check('get', '/api/chat/conversations/:id', 404, unknown.body);
  });
});
