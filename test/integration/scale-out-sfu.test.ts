// First: it moves this suite into a network namespace of its own (see there why).
import '../support/janus-network.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallEndedEvent, GroupCallResult, ParticipantLeftEvent } from '../../src/protocol/call-events.js';
import { callEventOk, dropConnection, reconnect, sleep, until } from '../support/calls.js';
import { clusterSkip, useCluster } from '../support/cluster.js';
import { callGroup, storedGroupCall, type CallGroup } from '../support/group-calls.js';
import type { SfuCallDevice } from '../support/janus-peers.js';
import { janusSkip, startJanus, type JanusServer } from '../support/janus.js';
import { audioPackets, devicesOf, everyoneReceivesEveryone, icePairs, restartsMedia } from '../support/sfu-calls.js';
import { collect, nextEvent } from '../support/sockets.js';

/** The sweep runs every second. */
const CALL_ENV = { CALL_RING_TIMEOUT_MS: '5000', CALL_RECONNECT_GRACE_MS: '5000', CALL_SWEEP_INTERVAL: '1s', GROUP_CALL_TOPOLOGY: 'sfu' };
/** The sweep's second, or the call's lock (10 s) when the killed process held it at that moment. */
const LOST_WITHIN_MS = 15_000;

describe('group calls through one Janus from three processes sharing PostgreSQL and Redis', { skip: janusSkip() ?? clusterSkip() }, () => {
  let janus: JanusServer;
  before(async () => {
    janus = await startJanus();
  });
  // Nodes 0 and 1 run throughout; node 2 is the one killed or stopped, and started again after.
  const cluster = useCluster(3, {
    env: () => ({ ...CALL_ENV, JANUS_URL: janus.url, JANUS_API_SECRET: janus.apiSecret!, JANUS_ADMIN_KEY: janus.adminKey! }),
  });
  after(async () => {
    await janus?.stop();
  });
  const urls = (...indexes: number[]) => indexes.map((index) => cluster.node(index).baseUrl);
  const inCall = async (group: CallGroup): Promise<{ devices: SfuCallDevice[]; callId: string }> => {
    const devices = devicesOf(group);
    const { call } = await devices[0]!.enter('CALL_REQUEST', group.id);
    for (const one of devices.slice(1)) await one.enter('CALL_JOIN', call.id);
    await everyoneReceivesEveryone(devices);
    return { devices, callId: call.id };
  };
  const doomed = async () => {
    const node = cluster.node(2);
    if (!node.running) await node.start();
    return node;
  };

  test('a call started on process 1 holds its room there; members on processes 2 and 3 receive everyone, restart their media after a drop, and leave', async () => {
    const group = await callGroup(urls(0, 1, 2), ['Ann', 'Ben', 'Cat']);
    const { devices, callId } = await inCall(group);
    const [ann, ben, cat] = devices as [SfuCallDevice, SfuCallDevice, SfuCallDevice];
    try {
      // Ben's signaling drops and comes back on process 2, which asks process 1's room for a restart.
      const benPairs = icePairs(ben);
      await dropConnection(ben.socket);
      const back = await reconnect<GroupCallResult>(ben.socket, 'CALL_STATE');
      assert.equal(back.call.id, callId);
      await restartsMedia(ben, [ann, cat], benPairs);

      // Cat leaves on process 3: the room, on process 1, takes Cat's feed out of the others' subscriptions.
      const stayed = [ann, ben];
      const offersBefore = stayed.map((one) => one.subscriptionOffers);
      const told = stayed.map((one) => nextEvent<ParticipantLeftEvent>(one.socket, 'CALL_PARTICIPANT_LEFT', 5000));
      await callEventOk(cat.socket, 'CALL_ENDED', { callId });
      for (const event of await Promise.all(told)) assert.equal(event.userId, group.members[2]!.id);
      await until('a subscribe offer without Cat', async () => stayed.every((one, index) => one.subscriptionOffers > offersBefore[index]!));
      await cat.close();
      await sleep(500);
      const catBefore = audioPackets(stayed, 'Cat');
      const annBefore = audioPackets([ben], 'Ann');
      await sleep(1_000);
      assert.deepEqual(audioPackets(stayed, 'Cat'), catBefore, 'RTP from Cat after Cat left');
      assert.ok(audioPackets([ben], 'Ann')[0]! > annBefore[0]!, 'Ben keeps receiving Ann');
      for (const one of devices) assert.deepEqual([...one.errors, ...one.media.errors], [], `${one.media.label}'s signaling`);

      // The last to leave is on process 2: the room on process 1 goes with the call.
      await callEventOk(ann.socket, 'CALL_ENDED', { callId });
      const ended = await callEventOk(ben.socket, 'CALL_ENDED', { callId });
      assert.equal(ended.status, 'ended');
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }
  });

  test('the process holding the room killed: the participants on the others are told media_server_lost within seconds, history says so, and the group calls again', async () => {
    const node = await doomed();
    const group = await callGroup([node.baseUrl, ...urls(0, 1)], ['Dan', 'Eve', 'Fay']);
    const { devices, callId } = await inCall(group);
    const survivors = devices.slice(1);
    try {
      const ended = survivors.map((one) => nextEvent<CallEndedEvent>(one.socket, 'CALL_ENDED', LOST_WITHIN_MS));
      const killedAt = Date.now();
      await node.kill();
      for (const event of await Promise.all(ended)) assert.deepEqual(event, { callId, reason: 'media_server_lost' });
      console.log(`# room holder killed: the others' participants told ${Date.now() - killedAt} ms later`);
      // The room the dead process left on Janus is destroyed with the call: no media flows after its end.
      const between = () => [...audioPackets([survivors[0]!], 'Fay'), ...audioPackets([survivors[1]!], 'Eve')];
      let last = between();
      await until('RTP between the survivors stops', async () => {
        await sleep(500);
        const now = between();
        const still = now.some((packets, index) => packets > last[index]!);
        last = now;
        return !still;
      });
      const stored = await storedGroupCall(cluster.node(0).baseUrl, group.members[1]!.tokens[0]!, callId);
      assert.deepEqual([stored.status, stored.endReason], ['failed', 'media_server_lost']);
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }

    // Eve calls again from process 1, which now holds the new call's room.
    const again = { id: group.id, members: group.members.slice(1) };
    const next = await inCall(again);
    try {
      await callEventOk(next.devices[0]!.socket, 'CALL_ENDED', { callId: next.callId });
      await callEventOk(next.devices[1]!.socket, 'CALL_ENDED', { callId: next.callId });
    } finally {
      await Promise.all(next.devices.map((one) => one.close()));
    }
  });

  test('the process holding the room shut down (a rolling restart): another takes the room over and media never stops; the call goes on, takes a new member, loses the stopped process\'s participant after the grace, and ends with its last', async () => {
    const node = await doomed();
    const group = await callGroup([node.baseUrl, ...urls(0, 1, 0)], ['Gus', 'Hal', 'Ivy', 'Jay']);
    const devices = devicesOf(group);
    const [gus, hal, ivy, jay] = devices as [SfuCallDevice, SfuCallDevice, SfuCallDevice, SfuCallDevice];
    try {
      const { call, you } = await gus.enter('CALL_REQUEST', group.id);
      await hal.enter('CALL_JOIN', call.id);
      await ivy.enter('CALL_JOIN', call.id);
      const three = [gus, hal, ivy];
      await everyoneReceivesEveryone(three);
      const endings = [hal, ivy].map((one) => collect<CallEndedEvent>(one.socket, 'CALL_ENDED'));
      const gusLeft = nextEvent<ParticipantLeftEvent>(hal.socket, 'CALL_PARTICIPANT_LEFT', LOST_WITHIN_MS);

      await node.stop();
      // Gus's media goes on too: his connections are with Janus, which kept the room.
      const streams: [SfuCallDevice, string][] = three.flatMap((to) => three.filter((from) => from !== to).map((from): [SfuCallDevice, string] => [to, from.media.label]));
      const received = () => streams.map(([to, from]) => audioPackets([to], from)[0]!);
      const stopped = received();
      await sleep(1_000);
      const later = received();
      assert.ok(later.every((packets, index) => packets > stopped[index]!), `RTP every way after the holder stopped: ${stopped.join(', ')} then ${later.join(', ')}`);

      // The room's new holder takes Jay in: he and those still connected receive each other (Gus's
      // socket went with the stopped process, so no offer for his subscription reaches him).
      await jay.enter('CALL_JOIN', call.id);
      await everyoneReceivesEveryone([hal, ivy, jay]);
      // Gus's socket was on the stopped process: he is gone once his grace runs out.
      assert.deepEqual(await gusLeft, { callId: call.id, userId: group.members[0]!.id, deviceId: you.deviceId, reason: 'connection_lost' });
      for (const one of [hal, ivy, jay]) assert.deepEqual([...one.errors, ...one.media.errors], [], `${one.media.label}'s signaling`);

      await callEventOk(hal.socket, 'CALL_ENDED', { callId: call.id });
      await callEventOk(ivy.socket, 'CALL_ENDED', { callId: call.id });
      const ended = await callEventOk(jay.socket, 'CALL_ENDED', { callId: call.id });
      assert.equal(ended.status, 'ended');
      assert.deepEqual(
        endings.map((box) => box.items),
        [[], []],
        'nobody was told the call ended before they left',
      );
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }
  });

  // Last: it stops every process.
  test('the last process shutting down, with nobody to take its rooms over, ends its SFU calls (server_restart) and tells their participants', async () => {
    for (const index of [1, 2]) if (cluster.node(index).running) await cluster.node(index).stop();
    const last = cluster.node(0);
    const group = await callGroup(urls(0), ['Kit', 'Lou']);
    const { devices, callId } = await inCall(group);
    try {
      const ended = devices.map((one) => nextEvent<CallEndedEvent>(one.socket, 'CALL_ENDED', LOST_WITHIN_MS));
      await last.stop();
      for (const event of await Promise.all(ended)) assert.deepEqual(event, { callId, reason: 'server_restart' });
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }
    await last.start();
    const stored = await storedGroupCall(last.baseUrl, group.members[1]!.tokens[0]!, callId);
    assert.deepEqual([stored.status, stored.endReason], ['failed', 'server_restart']);
  });
});
