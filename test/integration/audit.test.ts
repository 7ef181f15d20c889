import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { AuditEntryRecord } from '../../src/audit/audit-store.js';
import type { AuditEntryDto, AuditResponse, AuditType } from '../../src/protocol/audit.js';
import type { AuthResponse, TokenPair } from '../../src/protocol/auth.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { until } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { createGroup, rowsHolding, sendToOk } from '../support/groups.js';
import { login, PASSWORD, registerUser, request, uniqueEmail } from '../support/http.js';
import { connectSocket } from '../support/sockets.js';
import { useTestApp, type SuiteApp } from '../support/test-app.js';
import { accessTokenClaims } from '../support/tokens.js';

/** Where a request comes from: its address (through the trusted proxy) and its User-Agent, both unique. */
interface Client {
  ip: string;
  userAgent: string;
  headers: Record<string, string>;
}

let clients = 0;
function newClient(): Client {
  clients += 1;
  const ip = `203.0.113.${(clients % 254) + 1}`;
  const userAgent = `audit-test/${randomUUID()}`;
  return { ip, userAgent, headers: { 'x-forwarded-for': ip, 'user-agent': userAgent } };
}

const sessionOf = (tokens: { accessToken: string }) => accessTokenClaims(tokens.accessToken).sid;

interface Expected {
  type: AuditType;
  actorId: string | null;
  targetUserId: string | null;
  client: Client;
  details: object;
}

function assertEntry(entry: AuditEntryDto | undefined, expected: Expected): void {
  assert.ok(entry, `no ${expected.type} entry`);
  const { id, at, ...rest } = entry;
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Math.abs(Date.parse(at) - Date.now()) < 60_000, `recorded now, not ${at}`);
  const { client, ...fields } = expected;
  assert.deepEqual(rest, { ...fields, ip: client.ip, userAgent: client.userAgent });
}

/** The admin API of one app: an admin's token, and its audit log read through GET /api/admin/audit. */
function auditReader(server: SuiteApp) {
  let adminId = '';
  let adminToken = '';
  const reader = {
    get adminId() {
      return adminId;
    },
    get adminToken() {
      return adminToken;
    },
    async makeAdmin() {
      const admin = await registerUser(server.baseUrl, 'Auditor');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      adminId = admin.user.id;
      // A new session: the first one's role may be cached as it was.
      adminToken = (await login(server.baseUrl, admin)).accessToken;
    },
    async page(query: string): Promise<AuditResponse> {
      const result = await request<AuditResponse>(server.baseUrl, 'GET', `/api/admin/audit?${query}`, { token: adminToken });
      assert.equal(result.status, 200, `${query}: ${JSON.stringify(result.body)}`);
      return result.body;
    },
    /** The user's entries of one type, newest first (at most 100). */
    async of(userId: string, type: AuditType): Promise<AuditEntryDto[]> {
      return (await reader.page(`userId=${userId}&type=${type}&limit=100`)).entries;
    },
    /** The user's only entry of a type. */
    async only(userId: string, type: AuditType): Promise<AuditEntryDto> {
      const entries = await reader.of(userId, type);
      assert.equal(entries.length, 1, `${type} entries: ${JSON.stringify(entries)}`);
      return entries[0]!;
    },
  };
  return reader;
}

for (const target of databaseTargets()) {
  describe(`audit log (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { TRUST_PROXY: 'loopback' });
    const audit = auditReader(server);
    const post = <T = unknown>(path: string, body: unknown, client: Client, token?: string) =>
      request<T>(server.baseUrl, 'POST', path, { body, headers: client.headers, ...(token ? { token } : {}) });

    /** Every audited action, done once by the scenario below; what each test checks. */
    const done = {
      secrets: [] as string[],
      clients: {} as Record<string, Client>,
      alice: { id: '', session: '' },
      bob: { id: '' },
      carol: { id: '' },
      sessions: {} as Record<string, string>,
      groupId: '',
    };
    const as = (name: string) => (done.clients[name] = newClient());
    const kept = <T extends Partial<TokenPair>>(tokens: T): T => {
      for (const token of [tokens.accessToken, tokens.refreshToken]) if (token) done.secrets.push(token);
      return tokens;
    };

    before(async () => {
      await audit.makeAdmin();
      const password = `secret-${randomUUID()}`;
      const email = uniqueEmail('alice');
      const wrongPassword = `wrong-${randomUUID()}`;
      const unknownEmail = uniqueEmail('nobody');
      const text = `message-${randomUUID()}`;
      done.secrets.push(password, wrongPassword, unknownEmail, text, PASSWORD);

      const registered = await request<AuthResponse>(server.baseUrl, 'POST', '/api/auth/register', { body: { email, password, name: 'Alice' } });
      assert.equal(registered.status, 201);
      const alice = kept(registered.body);
      done.alice = { id: alice.user.id, session: sessionOf(alice) };
      const signIn = async (name: string) => kept(await login(server.baseUrl, { email, password, deviceName: name }, as(name).headers));

      const phone = await signIn('login');
      done.sessions['login'] = sessionOf(phone);
      assertError(await post('/api/auth/login', { email, password: wrongPassword }, as('wrongPassword')), 401, 'INVALID_CREDENTIALS');
      assertError(await post('/api/auth/login', { email: unknownEmail, password }, as('unknownAccount')), 401, 'INVALID_CREDENTIALS');

      const rotated = await post<TokenPair>('/api/auth/refresh-token', { refreshToken: phone.refreshToken }, newClient());
      kept(rotated.body);
      assertError(await post('/api/auth/refresh-token', { refreshToken: phone.refreshToken }, as('reuse')), 401, 'REFRESH_TOKEN_REUSED');

      const laptop = await signIn('laptop');
      done.sessions['laptop'] = sessionOf(laptop);
      assert.equal((await post('/api/auth/logout', { refreshToken: laptop.refreshToken }, as('logout'))).status, 200);
      assert.equal((await post('/api/auth/logout', { refreshToken: laptop.refreshToken }, newClient())).status, 200, 'a second logout ends nothing');

      done.sessions['tablet'] = sessionOf(await signIn('tablet'));
      const revoke = await request(server.baseUrl, 'DELETE', `/api/auth/sessions/${done.sessions['tablet']}`, { token: alice.accessToken, headers: as('revoke').headers });
      assert.equal(revoke.status, 200);
      await signIn('watch');
      await signIn('tv');
      const others = await post<{ revoked: number }>('/api/auth/logout-all', {}, as('logoutAll'), alice.accessToken);
      assert.equal(others.body.revoked, 2);

      const pushToken = `ExponentPushToken[${randomUUID()}]`;
      done.secrets.push(pushToken);
      assert.equal((await post('/api/auth/expo-push-token', { token: pushToken }, as('pushAdded'), alice.accessToken)).status, 200);
      const removeToken = (client: Client) => request(server.baseUrl, 'DELETE', '/api/auth/expo-push-token', { token: alice.accessToken, body: { token: pushToken }, headers: client.headers });
      assert.equal((await removeToken(as('pushRemoved'))).status, 200);
      assert.equal((await removeToken(newClient())).status, 200, 'removing it again removes nothing');

      const bob = await registerUser(server.baseUrl, 'Bob');
      kept(bob);
      done.bob.id = bob.user.id;
      const group = await createGroup(server.baseUrl, alice.accessToken, 'Audited', [bob.user.id]);
      done.groupId = group.id;
      await sendToOk(await connectSocket(server.baseUrl, alice.accessToken), { conversationId: group.id, text });
      const leave = await request(server.baseUrl, 'DELETE', `/api/chat/groups/${group.id}/members/${alice.user.id}`, { token: alice.accessToken, headers: as('leave').headers });
      assert.equal(leave.status, 204);

      const carol = kept(await registerUser(server.baseUrl, 'Carol'));
      done.carol.id = carol.user.id;
      const patchCarol = (body: unknown, client: Client) =>
        request(server.baseUrl, 'PATCH', `/api/admin/users/${carol.user.id}`, { token: audit.adminToken, body, headers: client.headers });
      assert.equal((await patchCarol({ role: 'admin', status: 'banned' }, as('ban'))).status, 200);
      assert.equal((await patchCarol({ status: 'banned' }, newClient())).status, 200, 'no change, no entry');
      assertError(await post('/api/auth/login', { email: carol.email, password: carol.password }, as('banned')), 403, 'ACCOUNT_BANNED');
      assert.equal((await patchCarol({ status: 'deleted' }, as('delete'))).status, 200);
      assertError(await post('/api/auth/login', { email: carol.email, password: carol.password }, as('deleted')), 401, 'INVALID_CREDENTIALS');
    });

    /** The one entry of `type` concerning `userId` that came from `client` (its User-Agent is unique). */
    const from = async (userId: string, type: AuditType, client: string) => {
      const matching = (await audit.of(userId, type)).filter((entry) => entry.userAgent === done.clients[client]!.userAgent);
      assert.equal(matching.length, 1, `${type} entries from ${client}: ${JSON.stringify(matching)}`);
      return matching[0];
    };
    const expect = (type: AuditType, client: string, fields: Omit<Expected, 'type' | 'client'>): Expected => ({ type, client: done.clients[client]!, ...fields });

    test('logins: a success names its session; failures say why (to admins only), with no actor, and keep no typed email', async () => {
      const { alice, carol } = done;
      const own = { actorId: alice.id, targetUserId: alice.id };
      assertEntry(await from(alice.id, 'login.succeeded', 'login'), expect('login.succeeded', 'login', { ...own, details: { sessionId: done.sessions['login'] } }));
      assert.equal((await audit.of(alice.id, 'login.succeeded')).length, 5, 'phone, laptop, tablet, watch, tv');
      const failed = (reason: string, targetUserId: string | null) => ({ actorId: null, targetUserId, details: { reason } });
      assertEntry(await from(alice.id, 'login.failed', 'wrongPassword'), expect('login.failed', 'wrongPassword', failed('wrong_password', alice.id)));
      assertEntry(await from(carol.id, 'login.failed', 'banned'), expect('login.failed', 'banned', failed('account_banned', carol.id)));
      assertEntry(await from(carol.id, 'login.failed', 'deleted'), expect('login.failed', 'deleted', failed('account_deleted', carol.id)));
      const unknown = (await audit.page('type=login.failed&limit=100')).entries.filter((entry) => entry.userAgent === done.clients['unknownAccount']!.userAgent);
      assert.equal(unknown.length, 1);
      assertEntry(unknown[0], expect('login.failed', 'unknownAccount', failed('unknown_account', null)));
    });

    test('sessions: refresh-token reuse (actor unknown, the address of whoever presented it), logout, a revoked session, logout-all', async () => {
      const { alice } = done;
      const own = { actorId: alice.id, targetUserId: alice.id };
      assertEntry(await audit.only(alice.id, 'refresh_token.reused'), expect('refresh_token.reused', 'reuse', { actorId: null, targetUserId: alice.id, details: { sessionId: done.sessions['login'] } }));
      assertEntry(await audit.only(alice.id, 'session.logged_out'), expect('session.logged_out', 'logout', { ...own, details: { sessionId: done.sessions['laptop'] } }));
      assertEntry(await from(alice.id, 'session.revoked', 'revoke'), expect('session.revoked', 'revoke', { ...own, details: { reason: 'revoked_by_user', sessionId: done.sessions['tablet'] } }));
      assertEntry(await from(alice.id, 'session.revoked', 'logoutAll'), expect('session.revoked', 'logoutAll', { ...own, details: { reason: 'logout_all', count: 2 } }));
      assert.equal((await audit.of(alice.id, 'session.revoked')).length, 2);
    });

    test('status and role changes name the admin who made them, from where; a change to the same value records nothing', async () => {
      const { carol } = done;
      const byAdmin = { actorId: audit.adminId, targetUserId: carol.id };
      assertEntry(await audit.only(carol.id, 'user.role_changed'), expect('user.role_changed', 'ban', { ...byAdmin, details: { from: 'user', to: 'admin' } }));
      const [deleted, banned] = await audit.of(carol.id, 'user.status_changed');
      assertEntry(banned, expect('user.status_changed', 'ban', { ...byAdmin, details: { from: 'active', to: 'banned', sessionsRevoked: 1 } }));
      assertEntry(deleted, expect('user.status_changed', 'delete', { ...byAdmin, details: { from: 'banned', to: 'deleted', sessionsRevoked: 0 } }));
      assert.ok((await audit.of(audit.adminId, 'user.status_changed')).length >= 2, "in the admin's entries too");
    });

    test('push tokens: added for the session, removed by their user; removing one that is gone records nothing', async () => {
      const { alice } = done;
      const own = { actorId: alice.id, targetUserId: alice.id, details: { sessionId: alice.session } };
      assertEntry(await audit.only(alice.id, 'push_token.added'), expect('push_token.added', 'pushAdded', own));
      assertEntry(await audit.only(alice.id, 'push_token.removed'), expect('push_token.removed', 'pushRemoved', own));
    });

    test('group ownership: the owner leaving passes it on, recorded for the new owner with the previous one', async () => {
      const { alice, bob } = done;
      const details = { conversationId: done.groupId, previousOwnerId: alice.id };
      assertEntry(await audit.only(bob.id, 'group.owner_changed'), expect('group.owner_changed', 'leave', { actorId: alice.id, targetUserId: bob.id, details }));
    });

    test('nothing secret is stored: no password, token, typed email or message text in any audit row', async () => {
      const { alice } = done;
      assert.equal((await audit.page(`userId=${alice.id}&limit=100`)).entries.length, 13, 'the actions were recorded');
      const needles = [alice.id, ...done.secrets];
      // Straight from the table on PostgreSQL (every column as text); through the store where the app holds the database.
      const holding =
        target.kind === 'postgres'
          ? await rowsHolding({ kind: target.kind, databaseUrl: server.config.databaseUrl, dataDir: server.dataDir }, 'audit_log', needles)
          : await storedEntriesHolding(server, needles);
      assert.ok(holding.get(alice.id)! > 0, 'the search finds what is there');
      for (const secret of done.secrets) assert.equal(holding.get(secret), 0, `a stored audit row holds ${secret}`);
    });

    test('filters by user, type and time combine; pages go newest first with every entry once', async () => {
      const user = await registerUser(server.baseUrl, 'Paged');
      const register = (token: string) => post('/api/auth/expo-push-token', { token }, newClient(), user.accessToken);
      const tokens = Array.from({ length: 5 }, () => `ExponentPushToken[${randomUUID()}]`);
      for (const token of tokens) assert.equal((await register(token)).status, 200);
      await request(server.baseUrl, 'DELETE', '/api/auth/expo-push-token', { token: user.accessToken, body: { token: tokens.at(-1) } });
      const all = (await audit.page(`userId=${user.user.id}`)).entries;
      assert.deepEqual(all.map((entry) => entry.type), ['push_token.removed', ...tokens.map(() => 'push_token.added')]);
      assert.ok(all.every((entry) => entry.actorId === user.user.id));

      const paged: AuditEntryDto[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: AuditResponse = await audit.page(`userId=${user.user.id}&limit=2${cursor ? `&before=${cursor}` : ''}`);
        paged.push(...page.entries);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      assert.deepEqual(paged, all);
      assert.equal(pages, 3);

      const ofTypes = async (query: string) => (await audit.page(`userId=${user.user.id}&${query}`)).entries.map((entry) => entry.id);
      const ids = (entries: AuditEntryDto[]) => entries.map((entry) => entry.id);
      assert.deepEqual(await ofTypes('type=push_token.removed'), ids(all.slice(0, 1)));
      assert.deepEqual(await ofTypes('type=push_token.added'), ids(all.slice(1)));
      assert.deepEqual(await ofTypes('type=push_token.added,push_token.removed'), ids(all));
      assert.deepEqual(await ofTypes('type=push_token.added&type=push_token.removed'), ids(all));
      assert.deepEqual(await ofTypes('type=login.failed'), []);

      const middle = all[2]!.at;
      // The same instant written with an offset.
      const offset = new Date(Date.parse(middle) + 3_600_000).toISOString().replace('Z', '+01:00');
      assert.deepEqual(await ofTypes(`from=${encodeURIComponent(offset)}`), ids(all.filter((entry) => entry.at >= middle)));
      assert.deepEqual(await ofTypes(`to=${middle}`), ids(all.filter((entry) => entry.at < middle)));
      assert.deepEqual(await ofTypes(`from=${all.at(-1)!.at}&to=${middle}&type=push_token.added`), ids(all.filter((entry) => entry.at < middle)));
    });

    test('only admins read it (401 without a token, 403 for a user); a bad filter is 400 naming the parameter', async () => {
      const user = await registerUser(server.baseUrl, 'Curious');
      assertError(await request(server.baseUrl, 'GET', '/api/admin/audit'), 401, 'UNAUTHORIZED');
      assertError(await request(server.baseUrl, 'GET', '/api/admin/audit', { token: user.accessToken }), 403, 'FORBIDDEN');
      const bad = (query: string) => request(server.baseUrl, 'GET', `/api/admin/audit?${query}`, { token: audit.adminToken });
      assertValidationFailed(await bad('userId=not-an-id'), 'query.userId');
      assertValidationFailed(await bad('type=login.failed,login.stolen'), 'query.type.1');
      assertValidationFailed(await bad('type='), 'query.type.0');
      assertValidationFailed(await bad('from=yesterday'), 'query.from');
      assertValidationFailed(await bad('to=2030-01-01'), 'query.to');
      assertValidationFailed(await bad('from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z'), 'query.to');
      assertValidationFailed(await bad('before=123'), 'query.before');
      assertValidationFailed(await bad('limit=0'), 'query.limit');
      assertValidationFailed(await bad('limit=101'), 'query.limit');
      assert.equal((await bad(`userId=${newId()}&limit=100`)).status, 200);
    });
  });

  describe(`audit retention (${target.kind})`, { skip: target.skip }, () => {
    // A one-day retention would delete other apps' entries from a shared database: this one has its own.
    const server = useTestApp(target.kind, { AUDIT_RETENTION_DAYS: '1', AUDIT_CLEANUP_INTERVAL: '1s' }, { privateDatabase: true });

    test('entries older than AUDIT_RETENTION_DAYS are deleted in the background; newer ones stay', async () => {
      const userId = newId();
      const entry = (ageMs: number): AuditEntryRecord => ({
        id: newId(),
        at: new Date(Date.now() - ageMs),
        type: 'login.failed',
        actorId: null,
        targetUserId: userId,
        ip: null,
        userAgent: null,
        details: { reason: 'wrong_password' },
      });
      const [old, recent] = [entry(2 * 86_400_000), entry(23 * 3_600_000)];
      for (const stored of [old!, recent!]) await server.app.storage.audit.append(stored);
      const kept = () => server.app.storage.audit.list({ userId, limit: 10 });
      await until('the old entry is deleted', async () => (await kept()).length === 1);
      assert.deepEqual(await kept(), [recent]);
    });
  });
}

/** For each needle, how many of the app's audit entries (read through its store, as JSON) hold it. */
async function storedEntriesHolding(server: SuiteApp, needles: readonly string[]): Promise<Map<string, number>> {
  const rows: string[] = [];
  for (let before: string | undefined; ; ) {
    const page = await server.app.storage.audit.list({ before, limit: 100 });
    rows.push(...page.map((entry) => JSON.stringify(entry)));
    if (page.length < 100) break;
    before = page.at(-1)!.id;
  }
  return new Map(needles.map((needle) => [needle, rows.filter((row) => row.includes(needle)).length]));
}
