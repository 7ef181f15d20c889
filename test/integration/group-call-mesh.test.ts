import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ParticipantEvent, ParticipantLeftEvent } from '../../src/protocol/call-events.js';
import { MeshParticipant } from '../support/call-peers.js';
import { callEventOk, device } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { callGroup, groupCallOk, ringingGroupCall, type CallGroup } from '../support/group-calls.js';
import { nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const MEDIA_TIMEOUT_MS = 20_000;

/** The first `count` members of `group`, each as a mesh peer on its device (host candidates on loopback only). */
const meshOf = (group: CallGroup, count: number) => group.members.slice(0, count).map((member) => new MeshParticipant(device(member)));

for (const target of databaseTargets()) {
  describe(`group calls in a mesh, with real WebRTC peers (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { GROUP_CALL_MESH_MAX: '4' });

    test('three members connect pairwise and hear each other; a fourth joins late and connects to all; one leaves and the others are told', async () => {
      const group = await callGroup(server.baseUrl, ['Ann', 'Ben', 'Cat', 'Dan']);
      const peers = meshOf(group, 4);
      const [ann, ben, cat, dan] = peers as [MeshParticipant, MeshParticipant, MeshParticipant, MeshParticipant];
      try {
        const started = await ringingGroupCall(group);
        await ann.entered(started);
        assert.equal(started.call.topology, 'mesh');

        const annHearsBen = nextEvent<ParticipantEvent>(ann.socket, 'CALL_PARTICIPANT_JOINED', 5000);
        const benIn = await groupCallOk(ben.socket, 'CALL_JOIN', { callId: started.call.id });
        assert.deepEqual((await annHearsBen).participant, benIn.you);
        await ben.entered(benIn);
        const catIn = await groupCallOk(cat.socket, 'CALL_JOIN', { callId: started.call.id });
        await cat.entered(catIn);
        assert.deepEqual(
          catIn.participants.map((participant) => participant.userId),
          group.members.slice(0, 3).map((member) => member.id),
          'the participant list, by join order',
        );

        // Each of the three reaches `connected` with the two others and receives their RTP.
        const three = [ann, ben, cat];
        await Promise.all(three.map((peer) => peer.mediaFrom(three.filter((other) => other !== peer).map((other) => other.deviceId), MEDIA_TIMEOUT_MS)));

        const danIn = await groupCallOk(dan.socket, 'CALL_JOIN', { callId: started.call.id });
        await dan.entered(danIn);
        const four = [ann, ben, cat, dan];
        await Promise.all(four.map((peer) => peer.mediaFrom(four.filter((other) => other !== peer).map((other) => other.deviceId), MEDIA_TIMEOUT_MS)));
        assert.deepEqual(four.flatMap((peer) => peer.errors), [], 'no signaling was refused');

        const told = [ann, cat, dan].map((peer) => nextEvent<ParticipantLeftEvent>(peer.socket, 'CALL_PARTICIPANT_LEFT', 5000));
        const left = await callEventOk(ben.socket, 'CALL_ENDED', { callId: started.call.id });
        assert.equal(left.status, 'accepted', 'the call goes on without Ben');
        for (const event of await Promise.all(told)) {
          assert.deepEqual(event, { callId: started.call.id, userId: group.members[1]!.id, deviceId: ben.deviceId, reason: 'left' });
        }
      } finally {
        await Promise.all(peers.map((peer) => peer.close()));
      }
    });
  });
}
