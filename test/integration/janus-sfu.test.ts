// First: it moves this suite into a network namespace of its own (see there why).
import '../support/janus-network.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createJanusRooms } from '../../src/calls/sfu/janus-rooms.js';
import type { JanusRoom } from '../../src/calls/sfu/janus-room.js';
import { JanusSession } from '../../src/calls/sfu/janus-session.js';
import { SfuError } from '../../src/calls/sfu/sfu-error.js';
import type { SfuLostReason, SfuRoom, SfuRooms } from '../../src/calls/sfu/sfu-rooms.js';
import { createLogger } from '../../src/shared/logger.js';
import { until } from '../support/calls.js';
import { SfuParticipant } from '../support/janus-peers.js';
import { janusSkip, startJanus, type JanusServer } from '../support/janus.js';

const logger = createLogger({ level: 'silent', pretty: false });
const MEDIA_TIMEOUT_MS = 20_000;

interface Lost {
  reason: SfuLostReason;
  callIds: string[];
  at: number;
}

function roomsOn(janus: JanusServer, lost: Lost[] = []): SfuRooms {
  return createJanusRooms({
    url: janus.url,
    apiSecret: janus.apiSecret,
    adminKey: janus.adminKey,
    logger,
    onLost: (event) => lost.push({ ...event, at: Date.now() }),
  });
}

/** `labels` join one room: each publishes audio and video, then receives the others. */
async function callWith(rooms: SfuRooms, callId: string, labels: string[]): Promise<{ room: SfuRoom; participants: SfuParticipant[] }> {
  let room: SfuRoom | undefined;
  const participants = labels.map((label) => new SfuParticipant(label, () => room!));
  room = await rooms.create(callId, {
    maxParticipants: labels.length,
    onEvent: (event) => participants.find((participant) => participant.label === event.device)?.onRoomEvent(event),
  });
  for (const participant of participants) {
    await participant.publish();
    await participant.receive();
  }
  return { room, participants };
}

/** A plugin request that Janus must refuse; resolves with Janus's error code. */
async function refusedCode(request: Promise<unknown>): Promise<number | undefined> {
  const error = await request.then(
    () => assert.fail('Janus accepted the request'),
    (error: unknown) => error,
  );
  assert.ok(error instanceof SfuError, String(error));
  assert.equal(error.kind, 'refused');
  return error.janus?.code;
}

describe('Janus SFU rooms', { skip: janusSkip() }, () => {
  let janus: JanusServer;
  let rooms: SfuRooms;
  let probe: JanusSession;

  before(async () => {
    janus = await startJanus();
    rooms = roomsOn(janus);
    probe = await JanusSession.open({ url: janus.url, apiSecret: janus.apiSecret, logger, onLost: () => undefined });
  });
  after(async () => {
    await probe?.close();
    await rooms?.close();
    await janus?.stop();
  });

  test('three publishers each receive the other two’s audio and video through the room', async () => {
    const labels = ['alice', 'bob', 'carol'];
    const started = Date.now();
    const { room, participants } = await callWith(rooms, 'call-three', labels);
    try {
      await Promise.all(
        participants.map((participant) =>
          participant.waitForRtpFrom(
            labels.filter((label) => label !== participant.label),
            ['audio', 'video'],
            MEDIA_TIMEOUT_MS,
          ),
        ),
      );
      for (const participant of participants) {
        assert.ok(!participant.received.has(`${participant.label}/audio`), `${participant.label} got its own media back`);
        assert.deepEqual(participant.errors, []);
        // Janus's webrtcup events come by the long poll, which may run behind the media.
        await until(`${participant.label}'s connections reported up`, async () => participant.connectionEvents.length >= 2);
        assert.deepEqual(participant.connectionEvents.sort(), ['publish up', 'subscribe up']);
      }
      const firstRtp = Math.max(...participants.flatMap((participant) => [...participant.received.values()].map((seen) => seen.firstAt)));
      const publishToOthers = participants.map(({ label, publishedAt }) => {
        const firsts = participants.filter((other) => other.label !== label).map((other) => other.received.get(`${label}/audio`)!.firstAt);
        return `${label} ${Math.max(...firsts) - publishedAt!} ms`;
      });
      console.log(`# three publishers: publish -> both others receiving its RTP: ${publishToOthers.join(', ')}; all receiving all ${firstRtp - started} ms after the room was created`);
    } finally {
      await Promise.all(participants.map((participant) => participant.close()));
      await room.destroy();
    }
  });

  test('a participant who leaves stops reaching the others, who keep receiving each other', async () => {
    const labels = ['dave', 'erin', 'frank'];
    const { room, participants } = await callWith(rooms, 'call-leave', labels);
    const [dave, erin, frank] = participants as [SfuParticipant, SfuParticipant, SfuParticipant];
    try {
      await erin.waitForRtpFrom(['dave', 'frank'], ['audio'], MEDIA_TIMEOUT_MS);
      await room.leave('dave');
      await dave.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = { dave: erin.received.get('dave/audio')!.packets, frank: erin.received.get('frank/audio')!.packets };
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(erin.received.get('dave/audio')!.packets, before.dave, 'RTP from dave after he left');
      assert.ok(erin.received.get('frank/audio')!.packets > before.frank, 'no more RTP from frank');
      await assert.rejects(room.trickle('dave', 'publish', { candidate: '' }), (error: unknown) => error instanceof SfuError && error.kind === 'not_in_room');
    } finally {
      await Promise.all([erin.close(), frank.close()]);
      await room.destroy();
    }
  });

  test('a room is private: unlisted, and Janus refuses a join without its pin', async () => {
    const room = (await rooms.create('call-private', { maxParticipants: 3, onEvent: () => undefined })) as JanusRoom;
    const handle = await probe.attach('janus.plugin.videoroom', () => undefined);
    try {
      const listed = await handle.message({ request: 'list' });
      const ids = (listed.data['list'] as { room: number }[]).map((entry) => entry.room);
      assert.ok(!ids.includes(room.janusRoomId), 'the room is listed');
      // 429: a pin or secret is missing; 433: it is wrong (JANUS_VIDEOROOM_ERROR_MISSING_ELEMENT, _UNAUTHORIZED).
      const join = { request: 'join', ptype: 'publisher', room: room.janusRoomId };
      assert.equal(await refusedCode(handle.message(join)), 429);
      assert.equal(await refusedCode(handle.message({ ...join, pin: 'guess' })), 433);
      assert.equal(await refusedCode(handle.message({ request: 'destroy', room: room.janusRoomId })), 429);
      assert.equal(await refusedCode(handle.message({ request: 'destroy', room: room.janusRoomId, secret: 'guess' })), 433);
      // Only the server, with the plugin's admin key, may create rooms.
      assert.equal(await refusedCode(handle.message({ request: 'create', room: 42, is_private: true })), 429);
      assert.equal(await refusedCode(handle.message({ request: 'create', room: 42, is_private: true, admin_key: 'guess' })), 433);
    } finally {
      await handle.detach();
      await room.destroy();
    }
  });

  test('destroying a room frees it on Janus, and its participants with it', async () => {
    const { room, participants } = await callWith(rooms, 'call-destroyed', ['gina', 'hal']);
    const handle = await probe.attach('janus.plugin.videoroom', () => undefined);
    try {
      const id = (room as JanusRoom).janusRoomId;
      await participants[1]!.waitForRtpFrom(['gina'], ['audio'], MEDIA_TIMEOUT_MS);
      assert.equal((await handle.message({ request: 'exists', room: id })).data['exists'], true);
      await room.destroy();
      assert.equal((await handle.message({ request: 'exists', room: id })).data['exists'], false);
      await room.destroy();
      await assert.rejects(room.publish('gina', { type: 'offer', sdp: 'v=0' }), (error: unknown) => error instanceof SfuError && error.kind === 'not_in_room');
      // The call id is free for a new room.
      const again = await rooms.create('call-destroyed', { maxParticipants: 2, onEvent: () => undefined });
      await again.destroy();
    } finally {
      await handle.detach();
      await Promise.all(participants.map((participant) => participant.close()));
    }
  });

  test('a malformed offer is refused as the client’s fault, without Janus’s words on the wire; a good one then joins', async () => {
    let room: SfuRoom | undefined;
    const ivan = new SfuParticipant('ivan', () => room!);
    room = await rooms.create('call-bad-offer', { maxParticipants: 2, onEvent: () => undefined });
    try {
      const error = await room.publish('ivan', { type: 'offer', sdp: 'v=0\r\nnot an sdp' }).then(
        () => assert.fail('Janus accepted the offer'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof SfuError && error.kind === 'refused', String(error));
      assert.deepEqual(error.toBody(), { code: 'VALIDATION_FAILED', message: 'The media server refused the request' });
      await ivan.publish();
      await ivan.publisher.waitForConnected(MEDIA_TIMEOUT_MS);
    } finally {
      await ivan.close();
      await room.destroy();
    }
  });

  test('Janus refuses requests without the API secret', async () => {
    const response = await fetch(janus.url, { method: 'POST', body: JSON.stringify({ janus: 'create', transaction: 't' }) });
    const body = (await response.json()) as { janus: string; error?: { code: number } };
    assert.equal(body.janus, 'error');
    assert.equal(body.error?.code, 403); // JANUS_ERROR_UNAUTHORIZED
  });
});

describe('Janus SFU failures', { skip: janusSkip() }, () => {
  test('Janus killed mid-call is reported with the calls it took, and no room can be made while it is down', async () => {
    const janus = await startJanus();
    const lost: Lost[] = [];
    const rooms = roomsOn(janus, lost);
    const { participants } = await callWith(rooms, 'call-crash', ['judy', 'ken']);
    try {
      await participants[0]!.waitForRtpFrom(['ken'], ['audio'], MEDIA_TIMEOUT_MS);
      const killedAt = Date.now();
      await janus.kill();
      while (lost.length === 0 && Date.now() - killedAt < 15_000) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(lost.length, 1, 'the loss was not reported');
      assert.equal(lost[0]!.reason, 'unreachable');
      assert.deepEqual(lost[0]!.callIds, ['call-crash']);
      const reportedAfter = lost[0]!.at - killedAt;
      console.log(`# Janus SIGKILLed: reported lost after ${reportedAfter} ms`);
      assert.ok(reportedAfter < 8_000, `reported after ${reportedAfter} ms`);
      await assert.rejects(rooms.create('call-while-down', { maxParticipants: 2, onEvent: () => undefined }), (error: unknown) => error instanceof SfuError && error.kind === 'unavailable');
    } finally {
      await Promise.all(participants.map((participant) => participant.close()));
      await rooms.close();
      await janus.stop();
    }
  });

  test('a Janus that stops answering (hung, SIGSTOP) is reported unreachable by the keepalive', async () => {
    const janus = await startJanus();
    const lost: Lost[] = [];
    const rooms = createJanusRooms({
      url: janus.url,
      apiSecret: janus.apiSecret,
      adminKey: janus.adminKey,
      logger,
      keepaliveMs: 500,
      requestTimeoutMs: 1_000,
      onLost: (event) => lost.push({ ...event, at: Date.now() }),
    });
    try {
      await rooms.create('call-hung', { maxParticipants: 2, onEvent: () => undefined });
      const frozenAt = Date.now();
      janus.freeze();
      while (lost.length === 0 && Date.now() - frozenAt < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(lost.map(({ reason, callIds }) => ({ reason, callIds })), [{ reason: 'unreachable', callIds: ['call-hung'] }]);
      console.log(`# Janus hung: reported lost after ${lost[0]!.at - frozenAt} ms (keepalive every 500 ms, 1 s request timeout)`);
    } finally {
      await rooms.close();
      await janus.stop();
    }
  });

  test('keepalives hold a quiet session past Janus’s session timeout; a session left without them expires, and that is reported', async () => {
    const janus = await startJanus({ sessionTimeoutSeconds: 2 });
    try {
      for (const keepaliveMs of [500, 60_000]) {
        const lost: Lost[] = [];
        const rooms = createJanusRooms({ url: janus.url, apiSecret: janus.apiSecret, adminKey: janus.adminKey, logger, keepaliveMs, onLost: (event) => lost.push({ ...event, at: Date.now() }) });
        try {
          await rooms.create('call-quiet', { maxParticipants: 2, onEvent: () => undefined });
          const kept = keepaliveMs < 2_000;
          // Janus's watchdog looks at sessions every couple of seconds.
          const deadline = Date.now() + (kept ? 5_000 : 15_000);
          while ((kept || lost.length === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
          // Janus says `timeout` on the long poll when it is out at that moment; a poll sent just after
          // hears only "no such session", which reads as a restart. Either way the session is lost.
          const expected = kept ? [] : [{ reason: 'expired', callIds: ['call-quiet'] }];
          const seen = lost.map(({ reason, callIds }) => ({ reason: reason === 'restarted' ? 'expired' : reason, callIds }));
          assert.deepEqual(seen, expected, `keepalive every ${keepaliveMs} ms`);
        } finally {
          await rooms.close();
        }
      }
    } finally {
      await janus.stop();
    }
  });

  test('a Janus restarted under the same address is reported as restarted', async () => {
    const janus = await startJanus();
    const lost: Lost[] = [];
    // Long enough for a new Janus to answer the next poll before the old one counts as unreachable.
    const rooms = createJanusRooms({ url: janus.url, apiSecret: janus.apiSecret, adminKey: janus.adminKey, logger, unreachableAfterMs: 30_000, onLost: (event) => lost.push({ ...event, at: Date.now() }) });
    try {
      await rooms.create('call-restart', { maxParticipants: 2, onEvent: () => undefined });
      await janus.restart();
      const deadline = Date.now() + 15_000;
      while (lost.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(lost.map(({ reason, callIds }) => ({ reason, callIds })), [{ reason: 'restarted', callIds: ['call-restart'] }]);
      const room = await rooms.create('call-after-restart', { maxParticipants: 2, onEvent: () => undefined });
      await room.destroy();
    } finally {
      await rooms.close();
      await janus.stop();
    }
  });
});
