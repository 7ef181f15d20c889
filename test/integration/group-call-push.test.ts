import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { callEventOk, callUser, device } from '../support/calls.js';
import { databaseTargets } from '../support/databases.js';
import { startFakeExpo } from '../support/fake-expo.js';
import { offlineUser, received, seen } from '../support/push.js';

// expo-server-sdk reads EXPO_BASE_URL when it loads: set it before anything imports the app.
const expo = await startFakeExpo();
process.env['EXPO_BASE_URL'] = expo.url;
const { useTestApp } = await import('../support/test-app.js');
// These load the app too (through the test tokens).
const { createGroup } = await import('../support/groups.js');
const { groupCallOk } = await import('../support/group-calls.js');
after(() => expo.close());

for (const target of databaseTargets()) {
  describe(`group call pushes (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { PUSH_POLL_MS: '25', RATE_LIMIT_AUTH_PER_IP: '100000' }, { privateDatabase: true });

    test('every rung member gets the incoming-call push, and a silent stop once the call stops ringing for them', async () => {
      const ann = await callUser(server.baseUrl, 'Ann');
      const cat = await callUser(server.baseUrl, 'Cat');
      const ben = await offlineUser(server.baseUrl, 'Ben');
      const group = await createGroup(server.baseUrl, ann.tokens[0]!, 'Climbing', [ben.id, cat.id]);
      const started = await groupCallOk(device(ann), 'CALL_REQUEST', { conversationId: group.id, type: 'audio' });
      const callId = started.call.id;
      const [ring] = await received(expo, ben.token);
      assert.deepEqual(seen(ring!), {
        title: 'Climbing',
        body: 'Ann: audio call',
        data: { type: 'call', callId, callType: 'audio', from: { id: ann.id, name: 'Ann' }, conversationId: group.id },
        priority: 'high',
        sound: 'default',
        channelId: 'calls',
        categoryId: 'incoming_call',
        collapseId: `call:${callId}`,
      });
      assert.ok(ring!.ttl !== undefined && ring!.ttl <= 30, 'it expires with the ring');

      await groupCallOk(device(cat), 'CALL_JOIN', { callId });
      await callEventOk(device(ann), 'CALL_ENDED', { callId });
      await callEventOk(device(cat), 'CALL_ENDED', { callId });
      const [, stop] = await received(expo, ben.token, 2);
      assert.deepEqual(seen(stop!), { data: { type: 'call_ended', callId, reason: 'hangup' }, priority: 'high', _contentAvailable: true });
    });
  });
}
