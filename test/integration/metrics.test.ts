import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { assertError } from '../support/assertions.js';
import { ANSWER, callEventOk, callUser, device, ringingCall } from '../support/calls.js';
import { history, roundTrip, sendOk } from '../support/chat.js';
import { registerUser, request } from '../support/http.js';
import { refusedScrape, scrape, valueOf, type Sample } from '../support/prometheus.js';
import { emitAck, nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const TOKEN = 'a-metrics-token-for-the-tests';

/** How much each series moved between two scrapes. */
const delta = (before: Sample[], after: Sample[]) => (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);

describe('GET /metrics with METRICS_TOKEN', () => {
  const server = useTestApp('pglite', { METRICS_TOKEN: TOKEN });

  test('a scrape without the token, or with another, is refused; with it the process metrics are there', async () => {
    const missing = await refusedScrape(server.baseUrl);
    assertError(missing, 401, 'UNAUTHORIZED');
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assertError(await refusedScrape(server.baseUrl, { authorization: `Bearer ${TOKEN}x` }), 401, 'UNAUTHORIZED');
    assertError(await refusedScrape(server.baseUrl, { authorization: TOKEN }), 401, 'UNAUTHORIZED');
    const samples = await scrape(server.baseUrl, TOKEN);
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes']) {
      assert.ok(samples.some((sample) => sample.name === name), `${name} is exposed`);
    }
  });

  test('a session of registrations, a failed login, chat and a call moves the counters by what it did', async () => {
    const before = await scrape(server.baseUrl, TOKEN);
    const alice = await callUser(server.baseUrl, 'Alice');
    const bob = await callUser(server.baseUrl, 'Bob');
    const failed = await request(server.baseUrl, 'POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' } });
    assertError(failed, 401, 'INVALID_CREDENTIALS');
    for (const text of ['one', 'two', 'three']) await sendOk(device(alice), { to: bob.id, text });
    const refused = await emitAck<{ ok: boolean; error: { code: string } }>(device(alice), 'CHAT_MESSAGE', { to: bob.id });
    assert.equal(refused.error.code, 'VALIDATION_FAILED');
    await history(server.baseUrl, alice.tokens[0]!, bob.id);

    const call = await ringingCall(alice, bob);
    const answered = nextEvent(device(alice), 'CALL_ACCEPT');
    await callEventOk(device(bob), 'CALL_ACCEPT', { callId: call.id, answer: ANSWER });
    await answered;
    await callEventOk(device(bob), 'CALL_STATS', { callId: call.id, stats: { rttMs: 40, jitterMs: 5, packetLossPct: 0, relayed: false, codec: 'audio/opus' } });
    const ended = nextEvent(device(bob), 'CALL_ENDED');
    await callEventOk(device(alice), 'CALL_ENDED', { callId: call.id });
    await ended;
    const after = await scrape(server.baseUrl, TOKEN);
    const moved = delta(before, after);

    const requests = 'callapp_http_request_duration_seconds_count';
    assert.equal(moved(requests, { method: 'POST', route: '/api/auth/register', status: '201' }), 2);
    assert.equal(moved(requests, { method: 'POST', route: '/api/auth/login', status: '401' }), 1);
    assert.equal(moved(requests, { method: 'GET', route: '/api/chat/history/:userId', status: '200' }), 1);
    assert.ok(!after.some((sample) => Object.values(sample.labels).some((value) => value.includes(bob.id))), 'no label holds a raw URL');

    const events = 'callapp_socket_events_total';
    assert.equal(moved(events, { event: 'CHAT_MESSAGE', result: 'ok' }), 3);
    assert.equal(moved(events, { event: 'CHAT_MESSAGE', result: 'VALIDATION_FAILED' }), 1);
    for (const event of ['CALL_REQUEST', 'CALL_ACCEPT', 'CALL_ENDED']) assert.equal(moved(events, { event, result: 'ok' }), 1, event);

    assert.equal(moved('callapp_chat_messages_stored_total', { conversation: 'direct' }), 3);
    assert.equal(moved('callapp_calls_ended_total', { kind: 'direct', status: 'ended', reason: 'hangup' }), 1);
    assert.equal(moved('callapp_calls_ended_total'), 1);
    assert.equal(moved('callapp_call_setup_seconds_count', { kind: 'direct' }), 1);
    assert.equal(moved('callapp_call_quality_reports_total', { band: 'good', relayed: 'false' }), 1);
    for (const histogram of ['mos', 'rtt_seconds', 'jitter_seconds', 'packet_loss_ratio']) assert.equal(moved(`callapp_call_quality_${histogram}_count`), 1, histogram);
    assert.equal(moved('callapp_call_quality_rtt_seconds_sum'), 0.04);
    assert.equal(valueOf(after, 'callapp_sockets_connected'), 2);
    assert.equal(moved('callapp_db_operation_duration_seconds_count', { repository: 'messages', method: 'create' }), 3);
    assert.equal(moved('callapp_db_operation_duration_seconds_count', { repository: 'users', method: 'create' }), 2);
    for (const outcome of ['queued', 'sent', 'failed', 'retried', 'dropped']) {
      assert.ok(after.some((sample) => sample.name === 'callapp_push_notifications_total' && sample.labels['outcome'] === outcome), outcome);
    }
    assert.ok(after.some((sample) => sample.name === 'callapp_push_tokens_removed_total'));
  });
});

describe('GET /metrics on METRICS_PORT', () => {
  const server = useTestApp('pglite', { METRICS_PORT: '0' });

  test('answers on loopback at its own port, and the app port does not serve it', async () => {
    const address = server.app.metricsServer?.address() as AddressInfo | null;
    assert.ok(address, 'the metrics server listens');
    assert.equal(address.address, '127.0.0.1');
    const metricsUrl = `http://127.0.0.1:${address.port}`;
    const samples = await scrape(metricsUrl);
    assert.ok(samples.some((sample) => sample.name === 'callapp_sockets_connected'));
    assertError(await refusedScrape(server.baseUrl), 404, 'NOT_FOUND');
    assertError(await request(metricsUrl, 'GET', '/api/auth/me'), 404, 'NOT_FOUND');
  });
});

describe('request, socket and slow-operation log lines', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = useTestApp('pglite', { SLOW_QUERY_MS: '0' }, { logger });

  test('name the request or socket and the user, and slow storage operations their duration', async () => {
    const alice = await callUser(server.baseUrl, 'Alice');
    const socket = device(alice);
    const userId = alice.id;
    lines.length = 0;
    const answer = await request(server.baseUrl, 'GET', '/api/call/history', { token: alice.tokens[0]!, headers: { 'x-request-id': 'req-metrics-1' } });
    assert.equal(answer.status, 200);
    const completed = lines.find((line) => line['reqId'] === 'req-metrics-1' && line['msg'] === 'request completed');
    assert.equal(completed?.['userId'], userId);

    // Without an ack, a refused event is logged.
    socket.emit('CHAT_MESSAGE', { to: 'not-a-user' });
    await roundTrip(socket);
    const refused = lines.find((line) => line['msg'] === 'event refused');
    assert.equal(refused?.['userId'], userId);
    assert.equal(refused?.['socketId'], socket.id);

    await registerUser(server.baseUrl, 'Carol');
    const slow = lines.find((line) => line['msg'] === 'slow storage operation' && line['repository'] === 'users' && line['method'] === 'create');
    assert.ok(slow, 'creating a user is logged as slow with SLOW_QUERY_MS=0');
    assert.equal(typeof slow['durationMs'], 'number');
    assert.deepEqual(Object.keys(slow).filter((key) => !['level', 'time', 'pid', 'hostname', 'msg', 'component', 'repository', 'method', 'durationMs'].includes(key)), []);
  });
});
