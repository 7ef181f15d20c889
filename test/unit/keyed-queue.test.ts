import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyedQueue } from '../../src/shared/keyed-queue.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  test('runs the tasks of one key one at a time in queued order, other keys alongside', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([queue.run('a', task('a1')), queue.run('b', task('b1')), queue.run('a', task('a2'))]);
    assert.deepEqual(results, ['a1', 'b1', 'a2']);
    assert.ok(log.indexOf('a1 end') < log.indexOf('a2 start'), log.join(', '));
    assert.ok(log.indexOf('b1 start') < log.indexOf('a1 end'), 'another key does not wait');
  });

  test('a failing task rejects its own caller only', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'ran');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ran');
  });
});
