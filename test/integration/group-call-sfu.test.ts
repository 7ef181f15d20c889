// First: it moves this suite into a network namespace of its own (see there why).
import '../support/janus-network.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallEndedEvent, GroupCallResult, ParticipantLeftEvent, SfuSignalEvent } from '../../src/protocol/call-events.js';
import { ANSWER, CANDIDATE, OFFER, callEventOk, device, dropConnection, reconnect, refusal, sleep, until } from '../support/calls.js';
import { callGroup, groupCallOk, storedGroupCall } from '../support/group-calls.js';
import type { SfuCallDevice } from '../support/janus-peers.js';
import { janusSkip, startJanus, type JanusServer } from '../support/janus.js';
import { devicesOf, icePairs, KINDS, MEDIA_TIMEOUT_MS, namesBut, restartsMedia, ufrag } from '../support/sfu-calls.js';
import { closeAllSockets, nextEvent } from '../support/sockets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Janus killed: its long poll fails at once and the session counts as lost after 5 s without contact. */
const LOSS_TIMEOUT_MS = 15_000;

// One process on PGlite; scale-out-sfu.test.ts runs several sharing Janus.
describe('group calls through the SFU, with a real Janus and real WebRTC peers (pglite)', { skip: janusSkip() }, () => {
  let janus: JanusServer;
  let server: TestApp;

  before(async () => {
    janus = await startJanus();
    server = await startTestApp('pglite', {
      JANUS_URL: janus.url,
      JANUS_API_SECRET: janus.apiSecret!,
      JANUS_ADMIN_KEY: janus.adminKey!,
      GROUP_CALL_TOPOLOGY: 'sfu',
    });
  });
  after(async () => {
    closeAllSockets();
    await server?.stop();
    await janus?.stop();
  });

  test('three members publish and receive each other through Janus over our signaling only; a fourth joins late and gets everyone; one leaves and the others stop receiving them', async () => {
    const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat', 'Dan']);
    const devices = devicesOf(group);
    const [ann, ben, cat, dan] = devices as [SfuCallDevice, SfuCallDevice, SfuCallDevice, SfuCallDevice];
    try {
      const started = await ann.enter('CALL_REQUEST', group.id);
      assert.equal(started.topology, 'sfu');
      assert.equal(started.call.topology, 'sfu');
      const callId = started.call.id;
      await ben.enter('CALL_JOIN', callId);
      await cat.enter('CALL_JOIN', callId);
      const three = [ann, ben, cat];
      await Promise.all(three.map((one) => one.media.waitForMediaFrom(namesBut(three, one), KINDS, MEDIA_TIMEOUT_MS)));

      const danIn = await dan.enter('CALL_JOIN', callId);
      await Promise.all(devices.map((one) => one.media.waitForMediaFrom(namesBut(devices, one), KINDS, MEDIA_TIMEOUT_MS)));
      const deviceIds = danIn.participants.map((participant) => participant.deviceId);
      for (const [index, one] of devices.entries()) {
        // Each subscribe offer says whose audio and video each of its streams carries: everyone's but one's own.
        const others = deviceIds.filter((_, other) => other !== index);
        const carried = (kind: 'audio' | 'video') => one.streams.filter((stream) => stream.kind === kind).map((stream) => stream.deviceId).sort();
        assert.deepEqual([carried('audio'), carried('video')], [[...others].sort(), [...others].sort()], `${one.media.label}'s streams`);
      }
      for (const one of devices) {
        assert.ok(!one.media.received.has(`${one.media.label}/audio`), `${one.media.label} got its own media back`);
        assert.deepEqual([...one.errors, ...one.media.errors], [], `${one.media.label}'s signaling`);
      }

      const stayed = [ann, cat, dan];
      const offersBefore = stayed.map((one) => one.subscriptionOffers);
      const told = stayed.map((one) => nextEvent<ParticipantLeftEvent>(one.socket, 'CALL_PARTICIPANT_LEFT', 5000));
      const left = await callEventOk(ben.socket, 'CALL_ENDED', { callId });
      assert.equal(left.status, 'accepted', 'the call goes on without Ben');
      for (const event of await Promise.all(told)) assert.equal(event.userId, group.members[1]!.id);
      // Janus drops Ben's feed from the others' subscriptions: each gets a new subscribe offer.
      await until('a subscribe offer without Ben', async () => stayed.every((one, index) => one.subscriptionOffers > offersBefore[index]!));
      await ben.close();
      await sleep(500);
      const counts = (from: string) => stayed.map((one) => one.media.received.get(`${from}/audio`)?.packets ?? 0);
      const [benBefore, catBefore] = [counts('Ben'), counts('Cat')];
      await sleep(1_000);
      assert.deepEqual(counts('Ben'), benBefore, 'RTP from Ben after he left');
      const catAfter = counts('Cat');
      assert.ok(stayed.filter((one) => one !== cat).every((one) => catAfter[stayed.indexOf(one)]! > catBefore[stayed.indexOf(one)]!), 'the others keep receiving Cat');
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }
  });

  test('only participants signal, each description and candidate naming its connection, and only members join', async () => {
    const group = await callGroup(server.baseUrl, ['Eli', 'Fay']);
    const outsider = (await callGroup(server.baseUrl, ['Gus'])).members[0]!;
    const [eli, fay] = devicesOf(group) as [SfuCallDevice, SfuCallDevice];
    try {
      const { call } = await eli.enter('CALL_REQUEST', group.id);
      const signal = (extra: Record<string, unknown>) => ({ callId: call.id, description: OFFER, ...extra });
      assert.equal(await refusal(eli.socket, 'CALL_SIGNAL', signal({})), 'VALIDATION_FAILED');
      assert.equal(await refusal(eli.socket, 'ICE_CANDIDATE', { callId: call.id, candidate: CANDIDATE(1) }), 'VALIDATION_FAILED');
      assert.equal(await refusal(eli.socket, 'CALL_SIGNAL', signal({ connection: 'both' })), 'VALIDATION_FAILED');
      // Who offers on which connection is fixed: the device on `publish`, Janus on `subscribe`.
      assert.equal(await refusal(eli.socket, 'CALL_SIGNAL', signal({ connection: 'publish', description: ANSWER })), 'INVALID_STATE');
      assert.equal(await refusal(eli.socket, 'CALL_SIGNAL', signal({ connection: 'subscribe' })), 'INVALID_STATE');
      // Nobody else publishes: there is no subscribe offer to answer.
      assert.equal(await refusal(eli.socket, 'CALL_SIGNAL', signal({ connection: 'subscribe', description: ANSWER })), 'INVALID_STATE');
      // A member not in the call, and someone not in the group, reach no room.
      assert.equal(await refusal(device(group.members[1]!), 'CALL_SIGNAL', signal({ connection: 'publish' })), 'INVALID_STATE');
      assert.equal(await refusal(device(outsider), 'CALL_JOIN', { callId: call.id }), 'FORBIDDEN');
      assert.equal(await refusal(device(outsider), 'CALL_SIGNAL', signal({ connection: 'publish' })), 'FORBIDDEN');
      assert.equal(await refusal(device(outsider), 'ICE_CANDIDATE', { callId: call.id, connection: 'publish', candidate: CANDIDATE(1) }), 'FORBIDDEN');
      // A description Janus cannot use is the client's fault, in our words only; a good one then joins.
      fay.callId = call.id;
      await groupCallOk(fay.socket, 'CALL_JOIN', { callId: call.id });
      const bad = await callEventOk(fay.socket, 'CALL_SIGNAL', signal({ connection: 'publish', description: { type: 'offer', sdp: 'v=0\r\nnot an sdp' } })).then(
        () => assert.fail('Janus took a malformed offer'),
        (error: Error) => error.message,
      );
      assert.equal(bad, 'CALL_SIGNAL refused: {"code":"VALIDATION_FAILED","message":"The media server refused the request"}');
      await fay.media.publish();
      await fay.media.waitForMediaFrom(['Eli'], KINDS, MEDIA_TIMEOUT_MS);
      await eli.media.waitForMediaFrom(['Fay'], KINDS, MEDIA_TIMEOUT_MS);
    } finally {
      await Promise.all([eli.close(), fay.close()]);
    }
  });

  test('a participant whose signaling drops and comes back within the grace gets CALL_STATE and an offer for its subscribe connection (the one it missed, then one restarting ICE), publishes again with an ICE restart, and media flows both ways again', async () => {
    const group = await callGroup(server.baseUrl, ['Kim', 'Lea', 'Max']);
    const devices = devicesOf(group);
    const [kim, lea, max] = devices as [SfuCallDevice, SfuCallDevice, SfuCallDevice];
    try {
      const { call } = await kim.enter('CALL_REQUEST', group.id);
      const leaIn = await lea.enter('CALL_JOIN', call.id);
      await Promise.all([kim, lea].map((one) => one.media.waitForMediaFrom(namesBut([kim, lea], one), KINDS, MEDIA_TIMEOUT_MS)));
      const leaPairs = icePairs(lea);
      const leaLast = lea.subscribeOffers.at(-1)!;

      // While Lea is away Max joins: Janus's offer adding him to her subscription goes nowhere.
      await dropConnection(lea.socket);
      const maxIn = await max.enter('CALL_JOIN', call.id);
      await max.media.waitForMediaFrom(['Kim', 'Lea'], KINDS, MEDIA_TIMEOUT_MS);
      await kim.media.waitForRtpFrom(['Max'], KINDS, MEDIA_TIMEOUT_MS);
      await sleep(500);
      assert.equal(lea.subscribeOffers.at(-1), leaLast, 'an offer reached Lea while she was away');

      const back = await reconnect<GroupCallResult>(lea.socket, 'CALL_STATE');
      assert.deepEqual(back.you, leaIn.you);
      const since = (one: SfuCallDevice, last: SfuSignalEvent) => one.subscribeOffers.slice(one.subscribeOffers.indexOf(last) + 1);
      await until('the missed subscribe offer and an ICE restart after it', async () => since(lea, leaLast).length === 2);
      const [missed, restart] = since(lea, leaLast) as [SfuSignalEvent, SfuSignalEvent];
      assert.ok(missed.streams?.some((stream) => stream.deviceId === maxIn.you.deviceId), 'the missed offer carries Max');
      assert.equal(ufrag(missed.description.sdp), ufrag(leaLast.description.sdp), 'the missed offer is the one Janus made while she was away');
      assert.notEqual(ufrag(restart.description.sdp), ufrag(missed.description.sdp), 'the next offer restarts ICE');
      assert.deepEqual(restart.streams, missed.streams);
      // Max's media reaching Lea is new since she came back.
      await restartsMedia(lea, [kim, max], leaPairs);

      // Kim comes back with no offer out for her: the first offer restarts ICE at once.
      const kimPairs = icePairs(kim);
      const kimLast = kim.subscribeOffers.at(-1)!;
      await dropConnection(kim.socket);
      await reconnect<GroupCallResult>(kim.socket, 'CALL_STATE');
      await until('a subscribe offer restarting ICE', async () => since(kim, kimLast).length > 0);
      const kimRestart = since(kim, kimLast)[0]!;
      assert.notEqual(ufrag(kimRestart.description.sdp), ufrag(kimLast.description.sdp), 'the offer restarts ICE');
      assert.deepEqual(kimRestart.streams, kimLast.streams);
      await restartsMedia(kim, [lea, max], kimPairs);
      assert.equal(since(kim, kimLast).length, 1, 'one offer for Kim after she came back');
      for (const one of devices) assert.deepEqual([...one.errors, ...one.media.errors], [], `${one.media.label}'s signaling`);
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }
  });

  // Last: it kills Janus (and starts it again for whatever runs after).
  test('Janus killed mid-call ends the call for everyone with media_server_lost, and history shows it so; a call started while it is down ends so too; the next call gets a new Janus session', async () => {
    const group = await callGroup(server.baseUrl, ['Hal', 'Ida', 'Jon']);
    const devices = devicesOf(group);
    try {
      const { call } = await devices[0]!.enter('CALL_REQUEST', group.id);
      for (const one of devices.slice(1)) await one.enter('CALL_JOIN', call.id);
      await Promise.all(devices.map((one) => one.media.waitForMediaFrom(namesBut(devices, one), ['audio'], MEDIA_TIMEOUT_MS)));

      const ended = devices.map((one) => nextEvent<CallEndedEvent>(one.socket, 'CALL_ENDED', LOSS_TIMEOUT_MS));
      const killedAt = Date.now();
      await janus.kill();
      for (const event of await Promise.all(ended)) assert.deepEqual(event, { callId: call.id, reason: 'media_server_lost' });
      console.log(`# Janus killed: every participant told the call ended ${Date.now() - killedAt} ms later`);

      const stored = await storedGroupCall(server.baseUrl, group.members[1]!.tokens[0]!, call.id);
      assert.equal(stored.status, 'failed');
      assert.equal(stored.endReason, 'media_server_lost');
      assert.ok(stored.endedAt !== null && stored.durationSeconds !== null);
      assert.deepEqual(
        stored.participants.map((participant) => [participant.userId, participant.leftAt]),
        group.members.map((member) => [member.id, stored.endedAt]),
        'every participant left when the call ended',
      );
      assert.equal(await refusal(devices[0]!.socket, 'CALL_SIGNAL', { callId: call.id, connection: 'publish', description: OFFER }), 'INVALID_STATE');

      // While Janus is down a call still starts (it is stored, and rings), then ends at once: it has no room.
      const roomless = nextEvent<CallEndedEvent>(devices[0]!.socket, 'CALL_ENDED', LOSS_TIMEOUT_MS);
      const orphan = await groupCallOk(devices[0]!.socket, 'CALL_REQUEST', { conversationId: group.id, type: 'audio' });
      assert.deepEqual(await roomless, { callId: orphan.call.id, reason: 'media_server_lost' });
      const orphanStored = await storedGroupCall(server.baseUrl, group.members[0]!.tokens[0]!, orphan.call.id);
      assert.deepEqual([orphanStored.status, orphanStored.endReason], ['failed', 'media_server_lost']);
    } finally {
      await Promise.all(devices.map((one) => one.close()));
    }

    await janus.restart();
    const again = devicesOf(group)[0]!;
    try {
      const { call } = await again.enter('CALL_REQUEST', group.id);
      await again.media.waitForMediaFrom([], KINDS, MEDIA_TIMEOUT_MS);
      await callEventOk(again.socket, 'CALL_ENDED', { callId: call.id });
    } finally {
      await again.close();
    }
  });
});
