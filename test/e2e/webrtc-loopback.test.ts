import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { exchangeMessages, negotiate, pairPeers, type WebRtcPeer } from '../support/webrtc-peer.js';

const TIMEOUT_MS = 15_000;

describe('webrtc harness, two in-process peers on loopback', () => {
  const peers: WebRtcPeer[] = [];
  after(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
  });

  it('connects by trickled host candidates and passes bytes both ways over a data channel', async () => {
    const { offerer, answerer } = pairPeers({});
    peers.push(offerer, answerer);

    await negotiate(offerer, answerer);
    await Promise.all([offerer.waitForConnected(TIMEOUT_MS), answerer.waitForConnected(TIMEOUT_MS)]);

    const { receivedByA, receivedByB } = await exchangeMessages(offerer, answerer, TIMEOUT_MS);
    assert.equal(receivedByA, 'hello from b');
    assert.equal(receivedByB, 'hello from a');
    for (const peer of [offerer, answerer]) {
      assert.ok(peer.localCandidates.length > 0);
      assert.ok(peer.localCandidates.every(({ candidate }) => / typ host/.test(candidate)));
    }
  });
});
