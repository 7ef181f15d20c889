import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildIceServers, turnCredentials } from '../../src/calls/turn-credentials.js';

const NOW = new Date('2030-06-01T12:00:00.750Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const STUN = ['stun:stun.example.test:3478'];
const TURN = ['turn:turn.example.test:3478?transport=udp', 'turn:turn.example.test:3478?transport=tcp'];

/** HMAC-SHA1 through WebCrypto, a second implementation to check the module's node:crypto one against. */
async function expectedCredential(secret: string, username: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await webcrypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-1' }, false, [
    'sign',
  ]);
  const signature = await webcrypto.subtle.sign('HMAC', key, encoder.encode(username));
  return Buffer.from(signature).toString('base64');
}

describe('turn credentials', () => {
  it('hands out STUN and TURN with coturn REST API credentials', async () => {
    const answer = buildIceServers({
      stunUrls: STUN,
      turnUrls: TURN,
      turnSecret: 'north-wind',
      ttlSeconds: 600,
      userId: 'user-42',
      now: NOW,
    });
    const username = `${NOW_SECONDS + 600}:user-42`;
    assert.deepEqual(answer, {
      iceServers: [
        { urls: STUN },
        { urls: TURN, username, credential: await expectedCredential('north-wind', username) },
      ],
      ttlSeconds: 600,
    });
  });

  it('signs with the secret: another secret or user gives another credential', () => {
    const base = { secret: 's1', userId: 'u1', ttlSeconds: 60, now: NOW };
    const reference = turnCredentials(base).credential;
    assert.notEqual(turnCredentials({ ...base, secret: 's2' }).credential, reference);
    assert.notEqual(turnCredentials({ ...base, userId: 'u2' }).credential, reference);
    assert.match(reference, /^[A-Za-z0-9+/]{27}=$/, 'base64 of a 20-byte SHA-1 digest');
  });

  it('puts the expiry, in whole unix seconds, before the user id', () => {
    const { username } = turnCredentials({ secret: 's', userId: 'u-7', ttlSeconds: 86_400, now: NOW });
    assert.equal(username, `${NOW_SECONDS + 86_400}:u-7`);
  });

  it('hands out no TURN entry without a secret', () => {
    for (const turnSecret of [undefined, '']) {
      const answer = buildIceServers({ stunUrls: STUN, turnUrls: TURN, turnSecret, ttlSeconds: 600, userId: 'u', now: NOW });
      assert.deepEqual(answer, { iceServers: [{ urls: STUN }], ttlSeconds: 600 });
    }
  });

  it('hands out no TURN entry without TURN urls, and no STUN entry without STUN urls', () => {
    const answer = buildIceServers({ stunUrls: [], turnUrls: [], turnSecret: 's', ttlSeconds: 300, userId: 'u', now: NOW });
    assert.deepEqual(answer, { iceServers: [], ttlSeconds: 300 });
  });

  it('copies the url lists rather than sharing them with the config', () => {
    const stunUrls = [...STUN];
    const answer = buildIceServers({ stunUrls, turnUrls: [], ttlSeconds: 300, userId: 'u', now: NOW });
    assert.notEqual(answer.iceServers[0]?.urls, stunUrls);
  });
});
