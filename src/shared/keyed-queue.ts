/** Runs tasks that share a key one after another. */
export interface Serializer {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

/**
 * Runs tasks that share a key one after another, in the order they were queued; tasks with different
 * keys run concurrently. A failing task does not stop the ones queued after it.
 */
export class KeyedQueue implements Serializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
