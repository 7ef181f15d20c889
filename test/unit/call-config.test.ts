import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('call configuration', () => {
  test('defaults: 30 s ring, 10 s reconnect grace, a sweep every 5 s, 20 requests and 1200 other call events a minute, a public STUN server, no TURN, 1 h credentials', () => {
    assert.deepEqual(loadConfig({}).calls, {
      ringTimeoutMs: 30_000,
      reconnectGraceMs: 10_000,
      sweepIntervalSeconds: 5,
      requestsPerMinute: 20,
      signalingPerMinute: 1200,
      stunUrls: ['stun:stun.l.google.com:19302'],
      turnUrls: [],
      turnSecret: undefined,
      turnCredentialTtlSeconds: 3600,
    });
  });

  test('reads timers, the sweep interval, the request and signaling budgets, STUN and TURN lists and the credential lifetime', () => {
    const { calls } = loadConfig({
      CALL_RING_TIMEOUT_MS: '45000',
      CALL_RECONNECT_GRACE_MS: '0',
      CALL_SWEEP_INTERVAL: '1s',
      CALL_REQUESTS_PER_MINUTE: '5',
      CALL_SIGNALING_PER_MINUTE: '300',
      STUN_URLS: 'stun:stun.example.com:3478, stuns:stun.example.com:5349',
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349?transport=tcp',
      TURN_SECRET: 'shared-with-coturn',
      TURN_CREDENTIAL_TTL: '2h',
    });
    assert.deepEqual(calls, {
      ringTimeoutMs: 45_000,
      reconnectGraceMs: 0,
      sweepIntervalSeconds: 1,
      requestsPerMinute: 5,
      signalingPerMinute: 300,
      stunUrls: ['stun:stun.example.com:3478', 'stuns:stun.example.com:5349'],
      turnUrls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
      turnSecret: 'shared-with-coturn',
      turnCredentialTtlSeconds: 7200,
    });
  });

  test('refuses a URL of the wrong scheme, TURN without its secret, a ring timeout of zero and a negative budget', () => {
    for (const [env, pattern] of [
      [{ STUN_URLS: 'turn:turn.example.com' }, /STUN_URLS/],
      [{ TURN_URLS: 'stun:stun.example.com', TURN_SECRET: 'x' }, /TURN_URLS/],
      [{ TURN_URLS: 'turn:turn.example.com' }, /TURN_SECRET/],
      [{ CALL_RING_TIMEOUT_MS: '0' }, /CALL_RING_TIMEOUT_MS/],
      [{ CALL_SIGNALING_PER_MINUTE: '-1' }, /CALL_SIGNALING_PER_MINUTE/],
      [{ TURN_CREDENTIAL_TTL: 'soon' }, /TURN_CREDENTIAL_TTL/],
    ] as const) {
      assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && pattern.test(error.message), JSON.stringify(env));
    }
  });

  test('Janus: none by default; JANUS_URL needs its API secret, GROUP_CALL_TOPOLOGY=sfu needs Janus', () => {
    assert.equal(loadConfig({}).sfu, undefined);
    assert.deepEqual(loadConfig({ JANUS_URL: 'http://127.0.0.1:8088/janus/', JANUS_API_SECRET: 'shared-with-janus', GROUP_CALL_TOPOLOGY: 'sfu' }).sfu, {
      janusUrl: 'http://127.0.0.1:8088/janus',
      apiSecret: 'shared-with-janus',
      adminKey: undefined,
      topology: 'sfu',
    });
    assert.equal(loadConfig({ JANUS_URL: 'http://janus:8088/janus', JANUS_API_SECRET: 's', JANUS_ADMIN_KEY: 'k' }).sfu?.topology, 'auto');
    // Several processes share Janus: each call's room is held by one of them (routed-sfu-topology.ts).
    assert.equal(loadConfig({ JANUS_URL: 'http://janus:8088/janus', JANUS_API_SECRET: 's', REDIS_URL: 'redis://127.0.0.1:6379' }).sfu?.janusUrl, 'http://janus:8088/janus');
    for (const [env, pattern] of [
      [{ JANUS_URL: 'http://127.0.0.1:8088/janus' }, /JANUS_API_SECRET/],
      [{ JANUS_URL: 'ws://127.0.0.1:8188', JANUS_API_SECRET: 's' }, /JANUS_URL/],
      [{ GROUP_CALL_TOPOLOGY: 'sfu' }, /GROUP_CALL_TOPOLOGY/],
      [{ GROUP_CALL_TOPOLOGY: 'star', JANUS_URL: 'http://127.0.0.1:8088/janus', JANUS_API_SECRET: 's' }, /GROUP_CALL_TOPOLOGY/],
    ] as const) {
      assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && pattern.test(error.message), JSON.stringify(env));
    }
  });
});
