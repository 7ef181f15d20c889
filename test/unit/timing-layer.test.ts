import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Storage } from '../../src/storage/ports.js';
import { STORAGE_ITSELF, withOperationTiming } from '../../src/storage/timing-layer.js';

class Processes {
  readonly id = 'process-1';
  #gone = ['dead'];
  async gone(ids: readonly string[]): Promise<string[]> {
    return ids.filter((id) => this.#gone.includes(id));
  }
}

class Users {
  #failures = 0;
  async findById(id: string): Promise<{ id: string } | null> {
    return id === 'missing' ? null : { id };
  }
  async create(): Promise<never> {
    this.#failures += 1;
    throw new Error(`refused ${this.#failures}`);
  }
}

function timedStorage() {
  const timings: string[] = [];
  const asked: string[] = [];
  const inner = { processes: new Processes(), users: new Users(), ping: async () => undefined, close: async () => undefined };
  const storage = withOperationTiming(inner as unknown as Storage, (repository, method) => {
    asked.push(`${repository}.${method}`);
    return (durationMs) => {
      assert.ok(durationMs >= 0);
      timings.push(`${repository}.${method}`);
    };
  });
  return { storage, timings, asked };
}

describe('withOperationTiming', () => {
  test('times every method on its repository, private fields and all, and passes other members through', async () => {
    const { storage, timings, asked } = timedStorage();
    assert.equal(storage.processes.id, 'process-1');
    assert.deepEqual(await storage.processes.gone(['dead', 'alive']), ['dead']);
    assert.deepEqual(await storage.users.findById('u1'), { id: 'u1' });
    await storage.ping();
    assert.deepEqual(timings, ['processes.gone', 'users.findById', `${STORAGE_ITSELF}.ping`]);
    assert.ok(asked.includes('users.create') && asked.includes(`${STORAGE_ITSELF}.close`), 'recorders are made once, when the layer is built');
    const before = asked.length;
    await storage.users.findById('u2');
    assert.equal(asked.length, before);
  });

  test('a failed operation is timed and its error passed on as it was', async () => {
    const { storage, timings } = timedStorage();
    await assert.rejects(storage.users.create({ id: 'x', email: 'x', name: 'x', passwordHash: 'x', createdAt: new Date() }), /refused 1/);
    assert.deepEqual(timings, ['users.create']);
  });
});
