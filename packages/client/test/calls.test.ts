import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CallSession, GroupCallSession } from '../src/index.js';
import { closeSdkClients, eventually, signedInClient } from '../../../test/support/sdk.js';
import { useTestApp } from '../../../test/support/test-app.js';

const kind = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';

type Client = Awaited<ReturnType<typeof signedInClient>>;

function nextIncoming<T extends CallSession | GroupCallSession>(client: Client): Promise<T> {
  return new Promise((resolve) => {
    const off = client.calls.on('incoming', (call) => {
      off();
      resolve(call as T);
    });
  });
}

/** The states a call goes through from now on. */
function states(call: CallSession | GroupCallSession): string[] {
  const seen: string[] = [call.state];
  (call as CallSession).on('state', (state) => seen.push(state));
  return seen;
}

describe(`client SDK: calls over WebRTC (werift) (${kind})`, () => {
  const server = useTestApp(kind);
  after(closeSdkClients);

  test('a 1:1 video call: ringing, accept, connected, ICE restart, hang-up, history', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const ringing = nextIncoming<CallSession>(bob);
    const outgoing = await alice.calls.start(bob.user!.id, 'video');
    const aliceStates = states(outgoing);
    assert.equal(outgoing.state, 'outgoing');
    const incoming = await ringing;
    assert.equal(incoming.state, 'incoming');
    assert.equal(incoming.peer.name, 'Alice');
    assert.equal(incoming.id, outgoing.id);

    await incoming.accept();
    await eventually(() => outgoing.state === 'connected' && incoming.state === 'connected', 'both sides connected', 20_000);
    assert.deepEqual(aliceStates, ['outgoing', 'connecting', 'connected']);

    // A network change: the caller offers with fresh ICE credentials and the callee answers.
    await outgoing.restartIce();
    const pc = (outgoing as unknown as { link: { pc: { signalingState: string } } }).link.pc;
    await eventually(() => pc.signalingState === 'stable', 'the restart answered');
    assert.equal(outgoing.state, 'connected');

    const ended = new Promise((resolve) => incoming.on('state', (state) => state === 'ended' && resolve(incoming.endReason)));
    await outgoing.hangUp();
    assert.equal(await ended, 'hangup');
    const { calls } = await bob.calls.history();
    assert.equal(calls[0]?.id, outgoing.id);
    assert.equal(calls[0]?.status, 'ended');
  });

  test('a rejected call ends at the caller with `rejected`', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const ringing = nextIncoming<CallSession>(bob);
    const outgoing = await alice.calls.start(bob.user!.id, 'audio');
    await (await ringing).reject();
    await eventually(() => outgoing.state === 'ended', 'the end at the caller');
    assert.equal(outgoing.endReason, 'rejected');
  });

  test('a mesh group call: three devices, every pair connected', async () => {
    const alice = await signedInClient(server.baseUrl, 'Alice');
    const bob = await signedInClient(server.baseUrl, 'Bob');
    const carol = await signedInClient(server.baseUrl, 'Carol');
    const group = await alice.chat.createGroup('Call us', [bob.user!.id, carol.user!.id]);
    const bobRings = nextIncoming<GroupCallSession>(bob);
    const carolRings = nextIncoming<GroupCallSession>(carol);
    const started = await alice.calls.startGroup(group.id, 'audio');
    const [bobCall, carolCall] = await Promise.all([bobRings, carolRings]);
    assert.equal(bobCall.conversation.title, 'Call us');
    await bobCall.join();
    await carolCall.join();
    const everyPair = () =>
      [started, bobCall, carolCall].every((call) => call.participants.length === 2 && call.participants.every((p) => p.connectionState === 'connected'));
    await eventually(everyPair, 'every pair connected', 30_000);

    await carolCall.leave();
    await eventually(() => started.participants.length === 1 && bobCall.participants.length === 1, 'the others to see Carol leave');
    await bobCall.leave();
    await started.leave();
    assert.equal(started.state, 'ended');
  });
});
