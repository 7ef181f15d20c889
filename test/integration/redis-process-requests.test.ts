import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { after, before, describe, test } from 'node:test';
import { ProcessGoneError, type ProcessRequests } from '../../src/scale-out/process-requests.js';
import { RedisClaims } from '../../src/scale-out/redis-claims.js';
import { redisProcessRequests } from '../../src/scale-out/redis-process-requests.js';
import { AppError } from '../../src/shared/app-error.js';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import { redisServerSkip, startTestRedis, type TestRedis } from '../support/redis-server.js';

const logger = createLogger({ level: 'silent', pretty: false });
const TIMEOUT_MS = 500;
const CHECK_EVERY_MS = 100;

/** One "process": its id, its two connections (commands, subscriber) and its requests. */
interface Process {
  id: string;
  requests: ProcessRequests;
  /** Its connections drop, as when the process dies. */
  die(): void;
}

/**
 * Requests from one server process to another and the claims that say which process holds what, over
 * a Redis of the suite's own; each "process" here has its own connections, as two server processes would.
 */
describe('requests between processes and claims, through Redis', { skip: redisServerSkip() }, () => {
  const prefix = `test-requests-${randomBytes(4).toString('hex')}:`;
  let redis: TestRedis;
  const connections: Redis[] = [];
  const connect = () => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return connection;
  };
  const startProcess = async (timeoutMs = TIMEOUT_MS): Promise<Process> => {
    const [publisher, subscriber] = [connect(), connect()];
    const id = newId();
    const requests = await redisProcessRequests({ publisher, subscriber, prefix, processId: id, logger, timeoutMs, checkEveryMs: CHECK_EVERY_MS });
    return { id, requests, die: () => [publisher, subscriber].forEach((connection) => connection.disconnect()) };
  };

  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    for (const connection of connections) connection.disconnect();
    await redis.close();
  });

  test("a process answers another's request by kind: the result comes back as sent (Dates too), an AppError as itself, anything else as a failure that says nothing of it", async () => {
    const [holder, asker] = [await startProcess(), await startProcess()];
    holder.requests.answer('echo', async (payload) => ({ got: payload, at: new Date('2026-12-01T10:00:00Z') }));
    holder.requests.answer('refuse', async () => {
      throw new AppError('FORBIDDEN', 'Not yours', { details: [{ path: 'callId', message: 'not a participant' }] });
    });
    holder.requests.answer('crash', async () => {
      throw new Error('secret internals');
    });
    assert.throws(() => holder.requests.answer('echo', async () => null), /answered already/);

    assert.deepEqual(await asker.requests.ask(holder.id, 'echo', { n: 1 }), { got: { n: 1 }, at: new Date('2026-12-01T10:00:00Z') });
    const refused = await asker.requests.ask(holder.id, 'refuse', {}).then(
      () => assert.fail('answered'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof AppError);
    assert.deepEqual(refused.toBody(), { code: 'FORBIDDEN', message: 'Not yours', details: [{ path: 'callId', message: 'not a participant' }] });
    const crashed = await asker.requests.ask(holder.id, 'crash', {}).then(
      () => assert.fail('answered'),
      (error: unknown) => error,
    );
    assert.ok(crashed instanceof Error && !(crashed instanceof AppError), 'a crash is not passed off as a refusal');
    assert.doesNotMatch(crashed.message, /secret/);
    // Many at once each get their own answer.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => asker.requests.ask(holder.id, 'echo', n)));
    assert.deepEqual(
      answers.map((answer) => (answer as { got: number }).got),
      Array.from({ length: 50 }, (_, n) => n),
    );
  });

  test('a request for a process that is gone fails at once as ProcessGoneError; one that does not answer fails UNAVAILABLE after the bound', async () => {
    const [holder, asker] = [await startProcess(), await startProcess()];
    holder.requests.answer('hang', () => new Promise(() => undefined));
    holder.requests.answer('echo', async (payload) => payload);

    let started = Date.now();
    const hung = await asker.requests.ask(holder.id, 'hang', {}).catch((error: unknown) => error);
    assert.ok(hung instanceof AppError && !(hung instanceof ProcessGoneError) && hung.code === 'UNAVAILABLE', String(hung));
    assert.ok(Date.now() - started >= TIMEOUT_MS - 10, 'it waited for the bound');

    started = Date.now();
    const never = await asker.requests.ask(newId(), 'echo', {}).catch((error: unknown) => error);
    assert.ok(never instanceof ProcessGoneError && never.code === 'UNAVAILABLE', String(never));

    assert.equal(await asker.requests.ask(holder.id, 'echo', 7), 7);
    assert.ok((await asker.requests.others()).includes(holder.id), 'the holder is among the others the asker sees');
    assert.ok(!(await asker.requests.others()).includes(asker.id), 'a process is not among its own others');
    holder.die();
    // Redis drops a dead process's subscriptions with its connection.
    let gone: unknown;
    for (let attempt = 0; attempt < 50 && !(gone instanceof ProcessGoneError); attempt += 1) {
      gone = await asker.requests.ask(holder.id, 'echo', 8).catch((error: unknown) => error);
    }
    assert.ok(gone instanceof ProcessGoneError, String(gone));
    assert.ok(!(await asker.requests.others()).includes(holder.id), 'a process that is gone is not among the others');
    assert.ok(Date.now() - started < TIMEOUT_MS * 3, 'gone is known without waiting for the bound');
  });

  test('a process that dies with requests unanswered: its askers know it is gone well before the bound; the others they asked still answer', async () => {
    const patient = 60_000;
    const [doomed, other, asker] = [await startProcess(patient), await startProcess(patient), await startProcess(patient)];
    let heard = 0;
    doomed.requests.answer('hang', () => {
      heard += 1;
      return new Promise(() => undefined);
    });
    other.requests.answer('slow', async (payload) => {
      await new Promise((resolve) => setTimeout(resolve, 5 * CHECK_EVERY_MS));
      return payload;
    });
    const hung = [1, 2].map(() => asker.requests.ask(doomed.id, 'hang', {}).catch((error: unknown) => error));
    const slow = asker.requests.ask(other.id, 'slow', 'done');
    while (heard < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const diedAt = Date.now();
    doomed.die();
    for (const outcome of await Promise.all(hung)) assert.ok(outcome instanceof ProcessGoneError && outcome.processId === doomed.id, String(outcome));
    assert.ok(Date.now() - diedAt < patient / 10, `known gone ${Date.now() - diedAt} ms after, not after the ${patient} ms bound`);
    assert.equal(await slow, 'done');
  });

  test('of processes claiming one key at once exactly one holds it, until it releases it or passes it on; a release or pass by another changes nothing', async () => {
    const [a, b] = [new RedisClaims(connect(), `${prefix}claims:`), new RedisClaims(connect(), `${prefix}claims:`)];
    const key = newId();
    const claimants = Array.from({ length: 10 }, () => newId());
    const holders = await Promise.all(claimants.map((claimant, index) => (index % 2 === 0 ? a : b).claim(key, claimant)));
    assert.equal(new Set(holders).size, 1);
    const [holder] = holders as [string];
    assert.ok(claimants.includes(holder));
    assert.equal(await b.holderOf(key), holder);
    await a.release(key, claimants.find((claimant) => claimant !== holder)!);
    assert.equal(await a.holderOf(key), holder);
    // Only the holder passes it on.
    const [successor, intruder] = [newId(), newId()];
    await a.pass(key, intruder, newId());
    assert.equal(await b.holderOf(key), holder);
    await a.pass(key, holder, successor);
    assert.equal(await b.holderOf(key), successor);
    await b.release(key, holder);
    assert.equal(await a.holderOf(key), successor, 'the former holder releases nothing');
    await b.release(key, successor);
    assert.equal(await a.holderOf(key), undefined);
    assert.equal(await a.claim(key, claimants[0]!), claimants[0]);
  });
});
