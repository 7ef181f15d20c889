import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { AdminUserDetailResponse, AdminUsersResponse, LiveFiguresResponse } from '../../src/protocol/admin.js';
import { newId } from '../../src/shared/ids.js';
import { assertError, assertValidationFailed } from '../support/assertions.js';
import { chatUser, device, sendOk } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { login, registerUser, request } from '../support/http.js';
import { connectSocket } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  // A database of its own: the live figures count every message and user of it.
  describe(`admin users and live figures (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, {}, { privateDatabase: true });
    let adminToken: string;
    const get = <T>(path: string, token = adminToken) => request<T>(server.baseUrl, 'GET', path, { token });

    before(async () => {
      const admin = await registerUser(server.baseUrl, 'Dashboard Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      adminToken = admin.accessToken;
    });

    test('lists accounts newest first, searching a prefix of the name or the email, any status, in pages', async () => {
      const tag = `adm${randomBytes(3).toString('hex')}`;
      const first = await registerUser(server.baseUrl, `${tag} First`);
      const second = await registerUser(server.baseUrl, `${tag.toUpperCase()} Second`);
      const byEmail = await registerUser(server.baseUrl, 'Mail Only');
      const third = await registerUser(server.baseUrl, `${tag} Third`);
      await request(server.baseUrl, 'PATCH', `/api/admin/users/${third.user.id}`, { token: adminToken, body: { status: 'banned' } });

      const all = await get<AdminUsersResponse>(`/api/admin/users?query=${tag}`);
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.deepEqual(all.body.users.map((user) => user.id), [third.user.id, second.user.id, first.user.id]);
      assert.deepEqual(all.body.users[0], { ...third.user, status: 'banned', lastSeenAt: null, online: false });
      assert.equal(all.body.nextCursor, null);

      const page1 = await get<AdminUsersResponse>(`/api/admin/users?query=${tag}&limit=2`);
      assert.deepEqual(page1.body.users.map((user) => user.id), [third.user.id, second.user.id]);
      assert.equal(page1.body.nextCursor, second.user.id);
      const page2 = await get<AdminUsersResponse>(`/api/admin/users?query=${tag}&limit=2&after=${page1.body.nextCursor}`);
      assert.deepEqual(page2.body.users.map((user) => user.id), [first.user.id]);
      assert.equal(page2.body.nextCursor, null);

      const banned = await get<AdminUsersResponse>(`/api/admin/users?query=${tag}&status=banned`);
      assert.deepEqual(banned.body.users.map((user) => user.id), [third.user.id]);
      // Unlike the people search, admins find a prefix of an email.
      const mail = await get<AdminUsersResponse>(`/api/admin/users?query=${encodeURIComponent(byEmail.email.slice(0, 14).toUpperCase())}`);
      assert.deepEqual(mail.body.users.map((user) => user.id), [byEmail.user.id]);
      // LIKE wildcards are plain characters.
      assert.deepEqual((await get<AdminUsersResponse>(`/api/admin/users?query=${encodeURIComponent(`%${tag.slice(1)}`)}`)).body.users, []);
      // No query: everyone, the newest first.
      assert.equal((await get<AdminUsersResponse>('/api/admin/users?limit=1')).body.users[0]?.id, third.user.id);
    });

    test('one account with its live sessions and presence', async () => {
      const user = await chatUser(server.baseUrl, 'Detailed');
      await login(server.baseUrl, { email: user.email, password: 'correct horse battery', deviceName: 'Second phone' });
      const detail = await get<AdminUserDetailResponse>(`/api/admin/users/${user.id}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.equal(detail.body.user.online, true);
      assert.equal(detail.body.sessions.length, 2);
      assert.deepEqual(Object.keys(detail.body.sessions[0]!).sort(), ['createdAt', 'deviceName', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      assert.ok(detail.body.sessions.some((session) => session.deviceName === 'Second phone'));

      await request(server.baseUrl, 'PATCH', `/api/admin/users/${user.id}`, { token: adminToken, body: { status: 'banned' } });
      const after = await get<AdminUserDetailResponse>(`/api/admin/users/${user.id}`);
      assert.deepEqual(after.body.sessions, [], 'a ban ends every session');
      assertError(await get(`/api/admin/users/${newId()}`), 404, 'NOT_FOUND');
      assertError(await get('/api/admin/users/not-an-id'), 404, 'NOT_FOUND');
    });

    test('live figures: connected users and sockets, messages stored in the last minute', async () => {
      const before = (await get<LiveFiguresResponse>('/api/admin/live')).body;
      const alice = await chatUser(server.baseUrl, 'Live Alice', 2);
      const bob = await chatUser(server.baseUrl, 'Live Bob');
      await sendOk(device(alice), { to: bob.id, text: 'one' });
      await sendOk(device(bob), { to: alice.id, text: 'two' });
      const live = await get<LiveFiguresResponse>('/api/admin/live');
      assert.equal(live.status, 200, JSON.stringify(live.body));
      assert.deepEqual(live.body, {
        connectedUsers: before.connectedUsers + 2,
        connectedSockets: before.connectedSockets + 3,
        callsInProgress: 0,
        groupCallsInProgress: 0,
        messagesPerMinute: before.messagesPerMinute + 2,
      });
      for (const socket of [...alice.devices, ...bob.devices]) socket.disconnect();
    });

    test('non-admins get 403 FORBIDDEN, no token 401; a bad query 400', async () => {
      const user = await registerUser(server.baseUrl, 'Curious');
      await connectSocket(server.baseUrl, user.accessToken);
      for (const path of ['/api/admin/users', `/api/admin/users/${user.user.id}`, '/api/admin/live']) {
        assertError(await get(path, user.accessToken), 403, 'FORBIDDEN');
        assertError(await request(server.baseUrl, 'GET', path), 401, 'UNAUTHORIZED');
      }
      assertValidationFailed(await get('/api/admin/users?limit=101'), 'query.limit');
      assertValidationFailed(await get('/api/admin/users?status=frozen'), 'query.status');
      assertValidationFailed(await get('/api/admin/users?after=nope'), 'query.after');
      assertValidationFailed(await get(`/api/admin/users?query=${'x'.repeat(101)}`), 'query.query');
    });
  });
}
