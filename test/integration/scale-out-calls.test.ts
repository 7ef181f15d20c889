import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupCallResult, IncomingCallEvent, IncomingGroupCallEvent } from '../../src/protocol/call-events.js';
import { ANSWER, CANDIDATE, OFFER, callEventOk, callHistory, refusal, sleep, storedCall, until } from '../support/calls.js';
import { clusterSkip, useCluster, type ClusterNode } from '../support/cluster.js';
import { groupCallOk, storedGroupCall } from '../support/group-calls.js';
import { createGroup } from '../support/groups.js';
import { login, registerUser } from '../support/http.js';
import { block, unblock } from '../support/safety.js';
import { collect, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/sockets.js';

/** Short timers, so a ring that runs out or a party that is gone ends within seconds; the grace outlasts the ring. */
const CALL_ENV = { CALL_RING_TIMEOUT_MS: '2000', CALL_RECONNECT_GRACE_MS: '3000', CALL_SWEEP_INTERVAL: '1s' };

interface Person {
  id: string;
  name: string;
  /** Each signed-in device's socket, connected to the process given when it signed in. */
  devices: ClientSocket[];
  token: string;
}

/** A user signed in once per process in `on`, each device connected to that process. */
async function person(name: string, on: ClusterNode[]): Promise<Person> {
  const registered = await registerUser(on[0]!.baseUrl, name);
  const devices: ClientSocket[] = [];
  for (const [index, node] of on.entries()) {
    const token = index === 0 ? registered.accessToken : (await login(node.baseUrl, { email: registered.email, password: registered.password })).accessToken;
    devices.push(await connectSocket(node.baseUrl, token));
  }
  return { id: registered.user.id, name, devices, token: registered.accessToken };
}

describe('calls across processes sharing PostgreSQL and Redis', { skip: clusterSkip() }, () => {
  // Nodes 0-2 run throughout; node 3 is the one killed or restarted, and started again after.
  const cluster = useCluster(4, { env: CALL_ENV });
  const processAt = (index: number) => ({
    get baseUrl() {
      return cluster.node(index).baseUrl;
    },
    node: () => cluster.node(index),
  });
  const [p1, p2, p3, doomed] = [processAt(0), processAt(1), processAt(2), processAt(3)];
  const on = (...nodes: { node(): ClusterNode }[]) => nodes.map((entry) => entry.node());
  const again = async (node: ClusterNode) => {
    if (!node.running) await node.start();
  };

  test('a call from process 1 rings the callee on processes 2 and 3; one accepts, the other hears answered_elsewhere', async () => {
    const caller = await person('Caller', on(p1));
    const callee = await person('Callee', on(p2, p3));
    const rings = callee.devices.map((socket) => nextEvent<IncomingCallEvent>(socket, 'CALL_REQUEST'));
    const call = await callEventOk(caller.devices[0]!, 'CALL_REQUEST', { to: callee.id, type: 'audio', offer: OFFER });
    for (const ring of await Promise.all(rings)) assert.equal(ring.call.id, call.id);
    // Candidates sent before the answer are held for the device that accepts.
    await callEventOk(caller.devices[0]!, 'ICE_CANDIDATE', { callId: call.id, candidate: CANDIDATE(1) });

    const elsewhere = nextEvent<{ reason: string }>(callee.devices[0]!, 'CALL_ENDED');
    const answered = nextEvent<{ answer: unknown }>(caller.devices[0]!, 'CALL_ACCEPT');
    const heldCandidate = nextEvent<{ candidate: unknown }>(callee.devices[1]!, 'ICE_CANDIDATE');
    const accepted = await callEventOk(callee.devices[1]!, 'CALL_ACCEPT', { callId: call.id, answer: ANSWER });
    assert.equal(accepted.status, 'accepted');
    assert.deepEqual((await answered).answer, ANSWER);
    assert.equal((await elsewhere).reason, 'answered_elsewhere');
    assert.deepEqual((await heldCandidate).candidate, CANDIDATE(1));
    assert.equal(await refusal(callee.devices[0]!, 'CALL_ACCEPT', { callId: call.id, answer: ANSWER }), 'INVALID_STATE');

    // Trickle both ways between processes 1 and 3, then a hang-up from process 3.
    const toCallee = nextEvent<{ candidate: unknown }>(callee.devices[1]!, 'ICE_CANDIDATE');
    await callEventOk(caller.devices[0]!, 'ICE_CANDIDATE', { callId: call.id, candidate: CANDIDATE(2) });
    assert.deepEqual((await toCallee).candidate, CANDIDATE(2));
    const hungUp = nextEvent<{ reason: string }>(caller.devices[0]!, 'CALL_ENDED');
    await callEventOk(callee.devices[1]!, 'CALL_ENDED', { callId: call.id });
    assert.equal((await hungUp).reason, 'hangup');
    const stored = await storedCall(p2.baseUrl, callee.token, call.id);
    assert.equal(stored.status, 'ended');
    assert.equal(stored.endReason, 'hangup');
  });

  test('busy across processes: someone in a call on process 1 is busy for a caller on process 3, both ways', async () => {
    const x = await person('X', on(p1));
    const y = await person('Y', on(p2));
    const z = await person('Z', on(p3));
    const rang = nextEvent(y.devices[0]!, 'CALL_REQUEST');
    const call = await callEventOk(x.devices[0]!, 'CALL_REQUEST', { to: y.id, type: 'audio', offer: OFFER });
    await rang;
    const busy = await callEventOk(z.devices[0]!, 'CALL_REQUEST', { to: x.id, type: 'audio', offer: OFFER });
    assert.equal(busy.status, 'busy');
    const busyToo = await callEventOk(y.devices[0]!, 'CALL_REQUEST', { to: z.id, type: 'audio', offer: OFFER });
    assert.equal(busyToo.status, 'busy');
    await callEventOk(x.devices[0]!, 'CALL_ENDED', { callId: call.id });
    // Free again everywhere once it ended.
    const rings = nextEvent(x.devices[0]!, 'CALL_REQUEST');
    const next = await callEventOk(z.devices[0]!, 'CALL_REQUEST', { to: x.id, type: 'audio', offer: OFFER });
    assert.equal(next.status, 'ringing');
    await rings;
    await callEventOk(z.devices[0]!, 'CALL_ENDED', { callId: next.id });
  });

  test('a block made on one process holds for calls on another that had checked the pair before it; so does its lifting', async () => {
    const x = await person('X', on(p1));
    const y = await person('Y', on(p2));
    const call = await callEventOk(y.devices[0]!, 'CALL_REQUEST', { to: x.id, type: 'audio', offer: OFFER });
    await callEventOk(y.devices[0]!, 'CALL_ENDED', { callId: call.id });
    await block(p1.baseUrl, x.token, y.id);
    // The block reaches process 2 with the relayed blocksChanged; typing asks the same check, and changes nothing.
    const typing = () => emitAck(y.devices[0]!, 'CHAT_TYPING', { to: x.id });
    await until('process 2 knows of the block', async () => !(await typing()).ok);
    assert.equal(await refusal(y.devices[0]!, 'CALL_REQUEST', { to: x.id, type: 'audio', offer: OFFER }), 'NOT_FOUND');
    await unblock(p1.baseUrl, x.token, y.id);
    await until('process 2 knows the block was lifted', async () => (await typing()).ok);
    const rings = nextEvent(x.devices[0]!, 'CALL_REQUEST');
    const next = await callEventOk(y.devices[0]!, 'CALL_REQUEST', { to: x.id, type: 'audio', offer: OFFER });
    assert.equal(next.status, 'ringing');
    await rings;
    await callEventOk(y.devices[0]!, 'CALL_ENDED', { callId: next.id });
  });

  test('a group call with participants on three processes: joins, signaling by deviceId, leaves', async () => {
    const [a, b, c] = [await person('Ann', on(p1)), await person('Ben', on(p2)), await person('Cat', on(p3))];
    const group = await createGroup(p1.baseUrl, a.token, 'Across', [b.id, c.id]);
    const rings = [b, c].map((member) => nextEvent<IncomingGroupCallEvent>(member.devices[0]!, 'CALL_REQUEST'));
    const started = await groupCallOk(a.devices[0]!, 'CALL_REQUEST', { conversationId: group.id, type: 'audio' });
    await Promise.all(rings);
    const callId = started.call.id;

    const annHearsBen = nextEvent<{ participant: { userId: string } }>(a.devices[0]!, 'CALL_PARTICIPANT_JOINED');
    const ben: GroupCallResult = await groupCallOk(b.devices[0]!, 'CALL_JOIN', { callId });
    assert.equal((await annHearsBen).participant.userId, b.id);
    const joinedTwice = [a, b].map((member) => nextEvent<{ participant: { userId: string } }>(member.devices[0]!, 'CALL_PARTICIPANT_JOINED'));
    const cat: GroupCallResult = await groupCallOk(c.devices[0]!, 'CALL_JOIN', { callId });
    for (const joined of await Promise.all(joinedTwice)) assert.equal(joined.participant.userId, c.id);
    assert.deepEqual(cat.participants.map((participant) => participant.userId).sort(), [a.id, b.id, c.id].sort());

    // The later joiner offers to each earlier one, across processes.
    const benGetsOffer = nextEvent<{ from: string; fromDevice: string; description: unknown }>(b.devices[0]!, 'CALL_SIGNAL');
    await callEventOk(c.devices[0]!, 'CALL_SIGNAL', { callId, to: ben.you.deviceId, description: OFFER });
    const offer = await benGetsOffer;
    assert.deepEqual([offer.from, offer.fromDevice], [c.id, cat.you.deviceId]);
    assert.deepEqual(offer.description, OFFER);

    const leftSeen = [a, c].map((member) => nextEvent<{ userId: string; reason: string }>(member.devices[0]!, 'CALL_PARTICIPANT_LEFT'));
    await callEventOk(b.devices[0]!, 'CALL_ENDED', { callId });
    for (const left of await Promise.all(leftSeen)) assert.deepEqual([left.userId, left.reason], [b.id, 'left']);
    await callEventOk(a.devices[0]!, 'CALL_ENDED', { callId });
    await callEventOk(c.devices[0]!, 'CALL_ENDED', { callId });
    await until('the group call is stored as ended', async () => (await storedGroupCall(p2.baseUrl, b.token, callId)).status === 'ended');
  });

  test('glare across processes: two users calling each other at once from two processes end up in one call', async () => {
    const a = await person('Glare A', on(p1));
    const b = await person('Glare B', on(p2));
    const [fromA, fromB] = await Promise.all([
      callEventOk(a.devices[0]!, 'CALL_REQUEST', { to: b.id, type: 'audio', offer: OFFER }),
      callEventOk(b.devices[0]!, 'CALL_REQUEST', { to: a.id, type: 'audio', offer: OFFER }),
    ]);
    assert.deepEqual([fromA.status, fromB.status].sort(), ['busy', 'ringing']);
    const ringing = fromA.status === 'ringing' ? { call: fromA, by: a } : { call: fromB, by: b };
    await callEventOk(ringing.by.devices[0]!, 'CALL_ENDED', { callId: ringing.call.id });
  });

  test('a rolling restart drops no call: the stopping process leaves it, and the device reconnecting elsewhere takes it over', async () => {
    await again(doomed.node());
    const caller = await person('Steady', on(p1));
    const callee = await person('Moving', on(doomed));
    const rang = nextEvent(callee.devices[0]!, 'CALL_REQUEST');
    const call = await callEventOk(caller.devices[0]!, 'CALL_REQUEST', { to: callee.id, type: 'video', offer: OFFER });
    await rang;
    await callEventOk(callee.devices[0]!, 'CALL_ACCEPT', { callId: call.id, answer: ANSWER });
    const ended = collect(caller.devices[0]!, 'CALL_ENDED');

    assert.equal((await doomed.node().stop()).code, 0);
    // The app's client reconnects, to another process, with the same session.
    const moved = await connectSocket(p3.baseUrl, callee.token);
    const state = await nextEvent<{ call: { id: string; status: string } }>(moved, 'CALL_STATE');
    assert.deepEqual([state.call.id, state.call.status], [call.id, 'accepted']);
    const restartOffer = nextEvent<{ description: unknown }>(caller.devices[0]!, 'CALL_SIGNAL');
    await callEventOk(moved, 'CALL_SIGNAL', { callId: call.id, description: OFFER });
    assert.deepEqual((await restartOffer).description, OFFER);

    // Well past the grace, the call goes on.
    await sleep(Number(CALL_ENV.CALL_RECONNECT_GRACE_MS) + 1500);
    assert.deepEqual(ended.items, []);
    assert.equal((await storedCall(p1.baseUrl, caller.token, call.id)).status, 'accepted');
    const hungUp = nextEvent<{ reason: string }>(caller.devices[0]!, 'CALL_ENDED');
    await callEventOk(moved, 'CALL_ENDED', { callId: call.id });
    assert.equal((await hungUp).reason, 'hangup');
  });

  test('killing the process of one party mid-call ends the call after the grace, once, with a consistent history', async () => {
    await again(doomed.node());
    const caller = await person('Stays', on(p1));
    const callee = await person('Goes', on(doomed));
    const rang = nextEvent(callee.devices[0]!, 'CALL_REQUEST');
    const call = await callEventOk(caller.devices[0]!, 'CALL_REQUEST', { to: callee.id, type: 'audio', offer: OFFER });
    await rang;
    await callEventOk(callee.devices[0]!, 'CALL_ACCEPT', { callId: call.id, answer: ANSWER });
    const ended = collect<{ reason: string }>(caller.devices[0]!, 'CALL_ENDED');
    const killedAt = Date.now();
    await doomed.node().kill();
    await until('the caller hears the call end', async () => ended.items.length > 0, 15_000);
    // Not before the grace: the call waited for the callee's device to come back.
    assert.ok(Date.now() - killedAt >= Number(CALL_ENV.CALL_RECONNECT_GRACE_MS), 'the call ended before the reconnect grace ran out');
    await sleep(1500);
    assert.deepEqual(ended.items.map((event) => event.reason), ['connection_lost']);
    const stored = await storedCall(p1.baseUrl, caller.token, call.id);
    assert.equal(stored.status, 'ended');
    assert.equal(stored.endReason, 'connection_lost');
  });

  test('a ring timeout fires exactly once when the process that placed the call is killed while it rings', async () => {
    await again(doomed.node());
    const caller = await person('Placer', on(doomed));
    const callee = await person('Rung', on(p1, p2));
    const rings = callee.devices.map((socket) => nextEvent(socket, 'CALL_REQUEST'));
    const call = await callEventOk(caller.devices[0]!, 'CALL_REQUEST', { to: callee.id, type: 'audio', offer: OFFER });
    await Promise.all(rings);
    const timeouts = callee.devices.map((socket) => collect<{ callId: string }>(socket, 'CALL_TIMEOUT'));
    await doomed.node().kill();
    await until('both callee devices hear the ring time out', async () => timeouts.every((events) => events.items.length > 0), 15_000);
    await sleep(1500);
    for (const events of timeouts) assert.deepEqual(events.items.map((event) => event.callId), [call.id]);
    const stored = await storedCall(p3.baseUrl, callee.token, call.id);
    assert.deepEqual([stored.status, stored.endReason], ['missed', 'timeout']);
    // The callee is free: history has the one call and a new one rings.
    const { calls } = await callHistory(p1.baseUrl, callee.token);
    assert.equal(calls.filter((entry) => entry.id === call.id).length, 1);
  });
});
