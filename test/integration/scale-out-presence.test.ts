import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PersonDto, PresenceEvent } from '../../src/protocol/people.js';
import { chatUser, device, roundTrip, sendOk } from '../support/chat.js';
import { clusterSkip, useCluster } from '../support/cluster.js';
import { registerUser, request } from '../support/http.js';
import { collect, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';

/**
 * A process that stops renewing its heartbeat counts as dead after this long: long enough that a live
 * process starved of CPU for a moment on a busy test machine is not.
 */
const PROCESS_TTL_MS = 5_000;

describe('presence across server processes', { skip: clusterSkip() }, () => {
  const cluster = useCluster(3, { env: { PRESENCE_PROCESS_TTL_MS: String(PROCESS_TTL_MS) } });
  const url = (index: number) => cluster.node(index).baseUrl;

  /** Alice on process 0 watching a contact who is registered (offline) and may connect anywhere. */
  async function watchedContact(name: string) {
    const alice = await chatUser(url(0), 'Alice');
    const contact = await registerUser(url(1), name);
    const first = await connectSocket(url(1), contact.accessToken);
    await sendOk(first, { to: alice.id, text: `hi, ${name} here` });
    const offline = nextEvent<PresenceEvent>(device(alice), 'PRESENCE', 5_000);
    assert.equal((await emitAck(device(alice), 'PRESENCE_SUBSCRIBE', { userIds: [contact.user.id] })).ok, true);
    first.disconnect();
    assert.equal((await offline).online, false);
    return { alice, contact, connect: (index: number) => connectSocket(url(index), contact.accessToken) };
  }

  const online = async (viewer: { token: string }, userId: string, index: number) =>
    (await request<{ user: PersonDto }>(url(index), 'GET', `/api/users/${userId}`, { token: viewer.token })).body.user.online;

  test('a user is online while any process holds one of their sockets', async () => {
    const { alice, contact, connect } = await watchedContact('Bob');
    const cameOnline = nextEvent<PresenceEvent>(device(alice), 'PRESENCE');
    const onOne = await connect(1);
    assert.equal((await cameOnline).online, true);

    const events = collect<PresenceEvent>(device(alice), 'PRESENCE');
    const onTwo = await connect(2);
    onOne.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await roundTrip(device(alice));
    assert.deepEqual(events.items, [], 'a second device on another process, then the first one leaving, change nothing');
    for (const index of [0, 1, 2]) assert.equal(await online(alice, contact.user.id, index), true);

    const wentOffline = nextEvent<PresenceEvent>(device(alice), 'PRESENCE');
    onTwo.disconnect();
    const gone = await wentOffline;
    assert.equal(gone.online, false);
    assert.ok(gone.lastSeenAt && Date.now() - Date.parse(gone.lastSeenAt) < 10_000);
    for (const index of [0, 1, 2]) assert.equal(await online(alice, contact.user.id, index), false);
  });

  test('the users of a process killed with SIGKILL go offline for watchers on the others within a bounded time', async () => {
    const bob = await watchedContact('Bob');
    const carol = await watchedContact('Carol');
    const bobOnline = nextEvent<PresenceEvent>(device(bob.alice), 'PRESENCE');
    await bob.connect(2);
    assert.equal((await bobOnline).online, true);
    // Carol is on the process that dies and on another one.
    const carolOnline = nextEvent<PresenceEvent>(device(carol.alice), 'PRESENCE');
    await carol.connect(2);
    assert.equal((await carolOnline).online, true);
    const carolElsewhere: ClientSocket = await carol.connect(1);
    const carolEvents = collect<PresenceEvent>(device(carol.alice), 'PRESENCE');

    const bobOffline = nextEvent<PresenceEvent>(device(bob.alice), 'PRESENCE', 4 * PROCESS_TTL_MS);
    const killedAt = Date.now();
    await cluster.node(2).kill();
    const gone = await bobOffline;
    const tookMs = Date.now() - killedAt;
    assert.equal(gone.online, false);
    assert.ok(gone.lastSeenAt, 'last seen is written as on a last disconnect');
    assert.ok(tookMs >= PROCESS_TTL_MS / 2, `offline after ${tookMs} ms: not before the heartbeat could expire`);
    assert.equal(await online(bob.alice, bob.contact.user.id, 1), false);
    const shown = await request<{ user: PersonDto }>(url(0), 'GET', `/api/users/${bob.contact.user.id}`, { token: bob.alice.token });
    assert.equal(shown.body.user.lastSeenAt, gone.lastSeenAt);

    await roundTrip(device(carol.alice));
    assert.deepEqual(carolEvents.items, [], 'Carol still has a socket on a live process');
    assert.equal(await online(carol.alice, carol.contact.user.id, 0), true);
    assert.equal(carolElsewhere.connected, true);

    // The process comes back and counts from nothing.
    await cluster.node(2).start();
    const back = nextEvent<PresenceEvent>(device(bob.alice), 'PRESENCE');
    await bob.connect(2);
    assert.equal((await back).online, true);
  });
});
