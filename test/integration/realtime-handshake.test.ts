import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { databaseTargets } from '../support/databases.js';
import { registerUser, request } from '../support/http.js';
import { connectError, connectSocket, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`socket handshake (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    test('refuses a missing, malformed or forged token with the error code as message', async () => {
      assert.equal(await connectError(server.baseUrl, {}), 'UNAUTHORIZED');
      assert.equal(await connectError(server.baseUrl, { token: 42 }), 'UNAUTHORIZED');
      assert.equal(await connectError(server.baseUrl, { token: 'not.a.jwt' }), 'UNAUTHORIZED');
    });

    test('accepts a valid token, and an unknown event with a bad payload does not drop the connection', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const socket = await connectSocket(server.baseUrl, alice.accessToken);
      (socket as unknown as Socket).emit('NO_SUCH_EVENT', { $ne: null });
      assert.equal(socket.connected, true);
    });

    test('a ban disconnects the user at once and refuses the next handshake with ACCOUNT_BANNED', async () => {
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const socket = await connectSocket(server.baseUrl, bob.accessToken);
      const disconnected = nextEvent<string>(socket, 'disconnect');
      const ban = await request(server.baseUrl, 'PATCH', `/api/admin/users/${bob.user.id}`, { token: admin.accessToken, body: { status: 'banned' } });
      assert.equal(ban.status, 200);
      assert.equal(await disconnected, 'io server disconnect');
      assert.equal(await connectError(server.baseUrl, { token: bob.accessToken }), 'ACCOUNT_BANNED');
    });

    test('logging out ends the socket of that session only', async () => {
      const carol = await registerUser(server.baseUrl, 'Carol');
      const login = await request(server.baseUrl, 'POST', '/api/auth/login', { body: { email: carol.email, password: carol.password } });
      const phone = await connectSocket(server.baseUrl, carol.accessToken);
      const laptop = await connectSocket(server.baseUrl, login.body.accessToken);
      const phoneGone = nextEvent(phone, 'disconnect');
      await request(server.baseUrl, 'POST', '/api/auth/logout', { body: { refreshToken: carol.refreshToken } });
      await phoneGone;
      assert.equal(laptop.connected, true);
    });
  });
}
