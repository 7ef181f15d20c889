import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalPresenceTracker } from '../../src/users/presence-tracker.js';

test('a user is online from the first connection to the last disconnection', async () => {
  const presence = new LocalPresenceTracker();
  assert.equal(await presence.connected('a'), true);
  assert.equal(await presence.connected('a'), false);
  assert.equal(await presence.connected('b'), true);
  assert.deepEqual(await presence.onlineAmong(['a', 'b', 'c']), new Set(['a', 'b']));
  assert.equal(await presence.disconnected('a'), false);
  assert.equal(await presence.disconnected('a'), true);
  assert.equal(await presence.disconnected('a'), false, 'a disconnect without a connection changes nothing');
  assert.deepEqual(await presence.onlineAmong(['a', 'b']), new Set(['b']));
});
