import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { PeopleSearchResponse, PersonDto, PresenceEvent } from '../../src/protocol/people.js';
import { newId } from '../../src/shared/ids.js';
import { chatUser, device, roundTrip } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { registerUser, request } from '../support/http.js';
import { closeAllSockets, collect, connectSocket, emitAck, nextEvent } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`people and presence (${target.kind})`, { skip: target.skip }, () => {
    let server: TestApp;
    before(async () => {
      server = await startTestApp(target.kind);
    });
    after(async () => {
      closeAllSockets();
      await server.stop();
    });

    async function search(token: string, query: string): Promise<PeopleSearchResponse> {
      const result = await request<PeopleSearchResponse>(server.baseUrl, 'GET', `/api/users?${query}`, { token });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body;
    }

    test('search finds active users by name or email prefix, page by page, and shows nothing private', async () => {
      // A tag no other test's user has, so the shared PostgreSQL database does not disturb the counts.
      const tag = `q${randomBytes(4).toString('hex')}`;
      const searcher = await registerUser(server.baseUrl, `${tag} Searcher`);
      const people = [];
      for (const name of ['Bea', 'anna', 'Cleo', 'Dirk', 'Emil']) people.push(await registerUser(server.baseUrl, `${tag} ${name}`));
      const [bea, anna, , dirk, emil] = people;
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      for (const [user, status] of [[dirk!, 'banned'], [emil!, 'deleted']] as const) {
        const change = await request(server.baseUrl, 'PATCH', `/api/admin/users/${user.user.id}`, { token: admin.accessToken, body: { status } });
        assert.equal(change.status, 200);
      }

      const all = await search(searcher.accessToken, `query=${tag.toUpperCase()}`);
      assert.deepEqual(all.users.map((user) => user.name), [`${tag} anna`, `${tag} Bea`, `${tag} Cleo`]);
      assert.equal(all.nextCursor, null);
      for (const user of all.users) assert.deepEqual(Object.keys(user).sort(), ['id', 'lastSeenAt', 'name', 'online']);

      const firstPage = await search(searcher.accessToken, `query=${tag}&limit=2`);
      assert.deepEqual(firstPage.users.map((user) => user.id), [anna!.user.id, bea!.user.id]);
      const secondPage = await search(searcher.accessToken, `query=${tag}&limit=2&after=${firstPage.nextCursor}`);
      assert.deepEqual(secondPage.users.map((user) => user.name), [`${tag} Cleo`]);
      assert.equal(secondPage.nextCursor, null);

      const byEmail = await search(searcher.accessToken, `query=${encodeURIComponent(bea!.email.slice(0, tag.length + 4))}`);
      assert.deepEqual(byEmail.users.map((user) => user.id), [bea!.user.id]);
      // LIKE wildcards are plain characters: "_" does not match the space after the tag.
      assert.deepEqual((await search(searcher.accessToken, `query=${tag}_`)).users, []);
      assert.deepEqual((await search(searcher.accessToken, `query=${encodeURIComponent('%')}${tag}`)).users, []);

      for (const bad of ['', 'query=', `query=${'x'.repeat(101)}`, `query=${tag}&limit=0`, `query=${tag}&after=nope`, 'query[$ne]=x']) {
        const refused = await request(server.baseUrl, 'GET', `/api/users?${bad}`, { token: searcher.accessToken });
        assert.equal(refused.status, 400, bad);
      }
      assert.equal((await request(server.baseUrl, 'GET', `/api/users?query=${tag}`)).status, 401);
    });

    test('GET /api/users/:id shows an active user as { id, name, online, lastSeenAt }', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const shown = await request<{ user: PersonDto }>(server.baseUrl, 'GET', `/api/users/${bob.id}`, { token: alice.accessToken });
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body, { user: { id: bob.id, name: 'Bob', online: true, lastSeenAt: null } });
      const unknown = await request(server.baseUrl, 'GET', `/api/users/${newId()}`, { token: alice.accessToken });
      assert.equal(unknown.status, 404);
      assert.equal((await request(server.baseUrl, 'GET', '/api/users/not-an-id', { token: alice.accessToken })).status, 400);
    });

    test('presence: online with the first socket, offline with the last, lastSeenAt kept', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      const subscribed = await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: [bob.user.id, newId(), bob.user.id] });
      assert.deepEqual(subscribed, { ok: true, presence: [{ userId: bob.user.id, online: false, lastSeenAt: null }] });

      const online = nextEvent<PresenceEvent>(device(alice), 'PRESENCE');
      const phone = await connectSocket(server.baseUrl, bob.accessToken);
      assert.deepEqual(await online, { userId: bob.user.id, online: true, lastSeenAt: null });

      const events = collect<PresenceEvent>(device(alice), 'PRESENCE');
      const laptop = await connectSocket(server.baseUrl, bob.accessToken);
      laptop.disconnect();
      // Nothing on the client side tells when the server has handled a disconnect: give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await roundTrip(device(alice));
      assert.deepEqual(events.items, []);

      const offline = nextEvent<PresenceEvent>(device(alice), 'PRESENCE');
      phone.disconnect();
      const gone = await offline;
      assert.equal(gone.online, false);
      assert.ok(gone.lastSeenAt && Date.now() - Date.parse(gone.lastSeenAt) < 10_000);
      const shown = await request<{ user: PersonDto }>(server.baseUrl, 'GET', `/api/users/${bob.user.id}`, { token: alice.token });
      assert.deepEqual(shown.body.user, { id: bob.user.id, name: 'Bob', online: false, lastSeenAt: gone.lastSeenAt });

      // Subscribing again replaces the subscriptions: Bob is no longer watched.
      assert.deepEqual(await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: [] }), { ok: true, presence: [] });
      const quiet = collect(device(alice), 'PRESENCE');
      const again = await connectSocket(server.baseUrl, bob.accessToken);
      await roundTrip(again);
      await roundTrip(device(alice));
      assert.deepEqual(quiet.items, []);
    });

    test('presence subscriptions are bounded', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const tooMany = Array.from({ length: 101 }, () => newId());
      const refused = await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: tooMany });
      assert.equal(refused.ok, false);
      assert.equal(refused.error.code, 'VALIDATION_FAILED');
      assert.equal((await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: tooMany.slice(0, 100) })).ok, true);
    });
  });
}
