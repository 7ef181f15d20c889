import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ConversationsResponse } from '../../src/protocol/chat.js';
import type { PeopleSearchResponse, PersonDto, PresenceEvent } from '../../src/protocol/people.js';
import { newId } from '../../src/shared/ids.js';
import { chatUser, device, roundTrip, sendOk, storeMessage, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { PASSWORD, registerUser, request } from '../support/http.js';
import { collect, connectSocket, emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

for (const target of databaseTargets()) {
  describe(`people and presence (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind);

    async function search(token: string, query: string): Promise<PeopleSearchResponse> {
      const result = await request<PeopleSearchResponse>(server.baseUrl, 'GET', `/api/users?${query}`, { token });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body;
    }

    test('search finds active users by name prefix or word prefix, page by page, and shows nothing private', async () => {
      // A tag no other test's user has, so the shared PostgreSQL database does not disturb the counts.
      const tag = `q${randomBytes(4).toString('hex')}`;
      const searcher = await registerUser(server.baseUrl, `${tag} Searcher`);
      const people = [];
      for (const name of ['Bea', 'anna', 'Cleo Marchetti', 'Dirk', 'Emil']) people.push(await registerUser(server.baseUrl, `${tag} ${name}`));
      const [bea, anna, cleo, dirk, emil] = people;
      const admin = await registerUser(server.baseUrl, 'Admin');
      await server.app.storage.users.setRole(admin.user.id, 'admin');
      for (const [user, status] of [[dirk!, 'banned'], [emil!, 'deleted']] as const) {
        const change = await request(server.baseUrl, 'PATCH', `/api/admin/users/${user.user.id}`, { token: admin.accessToken, body: { status } });
        assert.equal(change.status, 200);
      }

      const all = await search(searcher.accessToken, `query=${tag.toUpperCase()}`);
      assert.deepEqual(all.users.map((user) => user.name), [`${tag} anna`, `${tag} Bea`, `${tag} Cleo Marchetti`]);
      assert.equal(all.nextCursor, null);
      for (const user of all.users) assert.deepEqual(Object.keys(user).sort(), ['id', 'lastSeenAt', 'name', 'online']);

      const firstPage = await search(searcher.accessToken, `query=${tag}&limit=2`);
      assert.deepEqual(firstPage.users.map((user) => user.id), [anna!.user.id, bea!.user.id]);
      const secondPage = await search(searcher.accessToken, `query=${tag}&limit=2&after=${firstPage.nextCursor}`);
      assert.deepEqual(secondPage.users.map((user) => user.name), [`${tag} Cleo Marchetti`]);
      assert.equal(secondPage.nextCursor, null);

      // Words of a name match by their start too, in any order.
      for (const words of [`marc ${tag}`, `${tag.slice(0, 6)} MARCHETTI`, `cle-${tag}`]) {
        assert.deepEqual((await search(searcher.accessToken, `query=${encodeURIComponent(words)}`)).users.map((user) => user.id), [cleo!.user.id], words);
      }
      assert.deepEqual((await search(searcher.accessToken, `query=${encodeURIComponent(`etti ${tag}`)}`)).users, []);
      // LIKE wildcards are plain characters: "_" does not stand for the tag's first letter, nor "%" for anything.
      for (const wildcard of [`_${tag.slice(1)}`, `%${tag.slice(2)}`]) {
        assert.deepEqual((await search(searcher.accessToken, `query=${encodeURIComponent(wildcard)}`)).users, [], wildcard);
      }

      for (const bad of ['', 'query=', `query=${'x'.repeat(101)}`, `query=${tag}&limit=0`, `query=${tag}&after=nope`, 'query[$ne]=x']) {
        const refused = await request(server.baseUrl, 'GET', `/api/users?${bad}`, { token: searcher.accessToken });
        assert.equal(refused.status, 400, bad);
      }
      assert.equal((await request(server.baseUrl, 'GET', `/api/users?query=${tag}`)).status, 401);
    });

    test('an email cannot be read out of search: no prefix of it finds anyone, only the whole address does', async () => {
      // Letters no hex-named fixture user of another suite can start a word with.
      const tag = `zq${randomBytes(4).toString('hex')}`;
      const email = `${tag}.vera-hale@example.com`;
      const registered = await request(server.baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Vera Hale' } });
      assert.equal(registered.status, 201);
      const mallory = await registerUser(server.baseUrl, 'Mallory');

      for (const probe of [tag.slice(0, 3), tag, `${tag}.`, `${tag}.vera`, `${tag}.vera-hale@`, email.slice(0, -1), `%${tag}`, `${tag}%`, `_${tag.slice(1)}`]) {
        assert.deepEqual((await search(mallory.accessToken, `query=${encodeURIComponent(probe)}`)).users, [], probe);
      }
      // A stranger's presence is not shown: null, not a made-up "offline".
      const vera = { id: registered.body.user.id, name: 'Vera Hale', online: null, lastSeenAt: null };
      for (const whole of [email, email.toUpperCase(), `  ${email} `]) {
        assert.deepEqual((await search(mallory.accessToken, `query=${encodeURIComponent(whole)}`)).users, [vera], whole);
      }
    });

    test('search is rate-limited per user: 429 with Retry-After, and other users keep their budget', async () => {
      const flooder = await registerUser(server.baseUrl, 'Flooder');
      const budget = server.config.rateLimit.peopleSearchesPerMinute;
      for (let i = 0; i < budget; i += 1) await search(flooder.accessToken, `query=${String.fromCharCode(97 + (i % 26))}`);
      const limited = await request(server.baseUrl, 'GET', '/api/users?query=z', { token: flooder.accessToken });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
      assert.equal(limited.body.error.retryAfterSeconds, retryAfter);
      const other = await registerUser(server.baseUrl, 'Patient');
      await search(other.accessToken, 'query=z');
    });

    test('GET /api/users/:id shows { id, name, online, lastSeenAt }, presence only to those the user has written to', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await chatUser(server.baseUrl, 'Bob');
      const shown = async (viewer: ChatUser, user: ChatUser) => {
        const result = await request<{ user: PersonDto }>(server.baseUrl, 'GET', `/api/users/${user.id}`, { token: viewer.token });
        assert.equal(result.status, 200);
        return result.body;
      };
      assert.deepEqual(await shown(alice, bob), { user: { id: bob.id, name: 'Bob', online: null, lastSeenAt: null } });
      assert.deepEqual(await shown(alice, alice), { user: { id: alice.id, name: 'Alice', online: true, lastSeenAt: null } });

      // Writing to Bob shows Alice's presence to him, not his to her.
      await sendOk(device(alice), { to: bob.id, text: 'hi Bob' });
      assert.deepEqual((await shown(bob, alice)).user.online, true);
      assert.deepEqual((await shown(alice, bob)).user.online, null);
      await sendOk(device(bob), { to: alice.id, text: 'hi Alice' });
      assert.deepEqual(await shown(alice, bob), { user: { id: bob.id, name: 'Bob', online: true, lastSeenAt: null } });

      const unknown = await request(server.baseUrl, 'GET', `/api/users/${newId()}`, { token: alice.token });
      assert.equal(unknown.status, 404);
      // Ids are opaque: a string that cannot be one names nobody either.
      assert.equal((await request(server.baseUrl, 'GET', '/api/users/not-an-id', { token: alice.token })).status, 404);
    });

    test('presence: online with the first socket, offline with the last, lastSeenAt kept', async () => {
      const alice = await chatUser(server.baseUrl, 'Alice');
      const bob = await registerUser(server.baseUrl, 'Bob');
      await storeMessage(server.app.storage, bob.user.id, alice.id);
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

    test('a stranger cannot follow someone’s presence: not in the ack, no PRESENCE events, until they have been written to', async () => {
      const alice = await registerUser(server.baseUrl, 'Alice');
      const mallory = await chatUser(server.baseUrl, 'Mallory');
      // Carol is a contact of Alice's: her events show when Alice's presence changes were published.
      const carol = await chatUser(server.baseUrl, 'Carol');
      await storeMessage(server.app.storage, alice.user.id, carol.id);
      // Mallory writing to Alice does not make Alice's presence hers to see.
      await sendOk(device(mallory), { to: alice.user.id, text: 'hey, are you online?' });
      assert.deepEqual(await emitAck(device(carol), 'PRESENCE_SUBSCRIBE', { userIds: [alice.user.id] }), {
        ok: true,
        presence: [{ userId: alice.user.id, online: false, lastSeenAt: null }],
      });
      assert.deepEqual(await emitAck(device(mallory), 'PRESENCE_SUBSCRIBE', { userIds: [alice.user.id, carol.id, mallory.id] }), {
        ok: true,
        presence: [{ userId: mallory.id, online: true, lastSeenAt: null }],
      });
      const atMallory = collect<PresenceEvent>(device(mallory), 'PRESENCE');

      const online = nextEvent<PresenceEvent>(device(carol), 'PRESENCE');
      const phone = await connectSocket(server.baseUrl, alice.accessToken);
      assert.equal((await online).online, true);
      const offline = nextEvent<PresenceEvent>(device(carol), 'PRESENCE');
      phone.disconnect();
      assert.equal((await offline).online, false);
      await roundTrip(device(mallory));
      assert.deepEqual(atMallory.items, []);
      const conversation = await request<ConversationsResponse>(server.baseUrl, 'GET', '/api/chat/conversations', { token: mallory.token });
      assert.deepEqual(conversation.body.conversations.map((entry) => entry.peer), [{ id: alice.user.id, name: 'Alice', online: null, lastSeenAt: null }]);
      const found = await request<PeopleSearchResponse>(server.baseUrl, 'GET', `/api/users?query=${encodeURIComponent(alice.email)}`, { token: mallory.token });
      assert.deepEqual(found.body.users, [{ id: alice.user.id, name: 'Alice', online: null, lastSeenAt: null }]);

      // Once Alice answers, Mallory is a contact: subscribing again shows her presence and its changes.
      const aliceNow = await connectSocket(server.baseUrl, alice.accessToken);
      await sendOk(aliceNow, { to: mallory.id, text: 'I am, who is this?' });
      const resubscribed = await emitAck(device(mallory), 'PRESENCE_SUBSCRIBE', { userIds: [alice.user.id] });
      assert.deepEqual(resubscribed.presence.map((entry: PresenceEvent) => [entry.userId, entry.online]), [[alice.user.id, true]]);
      const gone = nextEvent<PresenceEvent>(device(mallory), 'PRESENCE');
      aliceNow.disconnect();
      assert.deepEqual([(await gone).userId, (await gone).online], [alice.user.id, false]);
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
