import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ChatMessageEvent } from '../../src/protocol/chat.js';
import type { ConversationDto } from '../../src/protocol/conversations.js';
import type { PersonDto } from '../../src/protocol/people.js';
import { chatUser, device, history, send, sendOk } from '../support/chat.js';
import { clusterSkip, useCluster } from '../support/cluster.js';
import { startFakeExpo } from '../support/fake-expo.js';
import { createGroup, nextMatching, sendToOk, syncAll, syncHead } from '../support/groups.js';
import { login, PASSWORD, request } from '../support/http.js';
import { offlineUser, received } from '../support/push.js';
import { collect, connectSocket, nextEvent, type ClientSocket } from '../support/sockets.js';
import { BUDGETS_OUT_OF_THE_WAY } from '../support/test-app.js';

const until = async (what: string, holds: () => Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const expo = await startFakeExpo();

describe('a Redis outage under chat traffic', { skip: clusterSkip() }, () => {
  const cluster = useCluster(2, { env: { ...BUDGETS_OUT_OF_THE_WAY, PRESENCE_PROCESS_TTL_MS: '3000', EXPO_BASE_URL: expo.url, PUSH_POLL_MS: '25' } });
  const url = (index: number) => cluster.node(index).baseUrl;
  const readiness = async (index: number) => {
    const ready = await request(url(index), 'GET', '/ready');
    const failed = (ready.body.error?.details ?? []) as { path: string; message: string }[];
    return { status: ready.status, redis: ready.status === 200 ? ready.body.redis : failed.find((detail) => detail.path === 'redis')?.message };
  };

  after(() => expo.close());

  test('loses no acknowledged message, keeps sockets and processes up, pushes to the offline, reports itself in /ready, and works across processes again after', async () => {
    const alice = await chatUser(url(0), 'Alice');
    const bob = await chatUser(url(1), 'Bob');
    const carol = await offlineUser(url(1), 'Carol');
    let groupMadeDuringOutage: ConversationDto | undefined;
    await sendOk(device(bob), { to: alice.id, text: 'before' });
    const bobCursor = await syncHead(url(1), bob.token);
    const disconnects = [device(alice), device(bob)].map((socket) => collect(socket, 'disconnect'));

    const acked = new Map<string, string>();
    let refused = 0;
    let sending = true;
    const traffic = (from: ClientSocket, to: string, name: string) =>
      (async () => {
        for (let n = 0; sending; n += 1) {
          const ack = await send(from, { to, text: `${name} ${n}`, clientMessageId: `${name}-${n}` }).catch(() => undefined);
          if (ack?.ok) acked.set(ack.message.id, ack.message.text);
          else refused += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
    const senders = [traffic(device(alice), bob.id, 'alice'), traffic(device(bob), alice.id, 'bob')];
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      await cluster.current.redis.stop();
      for (const index of [0, 1]) await until(`process ${index} reports Redis unreachable`, async () => (await readiness(index)).status === 503);
      assert.deepEqual(await readiness(0), { status: 503, redis: 'unreachable' });
      const ackedBefore = acked.size;
      // Bob's connected device, on the other process, cannot be moved into this group's room now: the
      // move waits for Redis a few reconnection attempts (seconds apart by now), then is given up.
      groupMadeDuringOutage = await createGroup(url(0), alice.token, 'Made while Redis is away', [bob.id]);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      assert.ok(acked.size > ackedBefore, 'messages are still stored and acknowledged while Redis is away');
      // Presence cannot say who is online: the recipient is pushed to rather than left untold.
      const toCarol = await sendOk(device(alice), { to: carol.id, text: 'while Redis is away' });
      assert.equal((await received(expo, carol.token))[0]!.data?.['messageId'], toCarol.message.id);
      // Signing in still works (the login limits count in this process meanwhile).
      assert.equal((await request(url(1), 'POST', '/api/auth/login', { body: { email: alice.email, password: 'not the password' } })).status, 401);

      await cluster.current.redis.start();
      for (const index of [0, 1]) await until(`process ${index} reports ready`, async () => (await readiness(index)).status === 200);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      sending = false;
      await Promise.all(senders);
    }

    for (const node of cluster.current.nodes) assert.equal(node.running, true, `process ${node.index} is still running`);
    for (const { items } of disconnects) assert.deepEqual(items, [], 'the sockets stayed connected');
    assert.ok(acked.size > 0);

    // Every acknowledged message is stored, whichever process is asked.
    const stored = new Set((await history(url(0), alice.token, bob.id, '?limit=100')).messages.map((message) => message.id));
    for (let before: string | null = null; ; ) {
      const page = await history(url(1), bob.token, alice.id, `?limit=100${before ? `&before=${before}` : ''}`);
      for (const message of page.messages) stored.add(message.id);
      if (!page.nextCursor) break;
      before = page.nextCursor;
    }
    for (const [id, text] of acked) assert.ok(stored.has(id), `acknowledged message ${text} is stored`);

    // A device that reconnects fills whatever it missed live through sync.
    const bobAgain = await connectSocket(url(1), (await login(url(1), { email: bob.email, password: PASSWORD })).accessToken);
    const synced = new Set((await syncAll(url(1), bob.token, bobCursor)).messages.map((message) => message.id));
    for (const [id, text] of acked) assert.ok(synced.has(id), `sync returns ${text}`);

    // Across processes again, both ways (the adapter reads its stream again once Redis is back).
    const toBob = [device(bob), bobAgain].map((socket) => nextEvent<ChatMessageEvent>(socket, 'CHAT_MESSAGE', 5_000));
    const after = await sendOk(device(alice), { to: bob.id, text: 'after the outage' });
    for (const heard of await Promise.all(toBob)) assert.equal(heard.message.id, after.message.id);
    const toAlice = nextEvent<ChatMessageEvent>(device(alice), 'CHAT_MESSAGE', 5_000);
    const reply = await sendOk(bobAgain, { to: alice.id, text: 'reply after the outage' });
    assert.equal((await toAlice).message.id, reply.message.id);

    // Once back, each process reads its sockets' groups again: Bob's device that was connected all along
    // hears the group made during the outage.
    const inGroup = nextMatching<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE', (event) => event.message.conversationId === groupMadeDuringOutage!.id, 5_000);
    const groupMessage = await sendToOk(device(alice), { conversationId: groupMadeDuringOutage!.id, text: 'in the group made during the outage' });
    assert.equal((await inGroup).message.id, groupMessage.message.id);

    // Redis restarted empty: each process counts its connections again, so presence is right once more.
    await until('Bob is online again for Alice', async () => {
      const shown = await request<{ user: PersonDto }>(url(0), 'GET', `/api/users/${bob.id}`, { token: alice.token });
      return shown.body.user.online === true;
    });
    assert.equal(refused, 0, "no send was refused or left unanswered");
  });
});
