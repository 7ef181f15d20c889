export interface GroupCommitOptions<I, O> {
  /** Writes two or more items in one transaction; resolves with one result per item, in their order. */
  writeBatch(items: readonly I[]): Promise<O[]>;
  /** Writes one item on its own: a lone item, and each item of a batch that failed. */
  writeOne(item: I): Promise<O>;
  /** Batches in flight at once. */
  concurrency: number;
  maxBatchSize: number;
  /** Told when a batch failed and its items were written one by one. */
  onBatchFailed?: (error: unknown, size: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve(result: O): void;
  reject(error: unknown): void;
}

/**
 * Group commit: items submitted while `concurrency` batches are in flight wait, and go together in the
 * next batch, so concurrent writers share one statement and one commit. Under light load each item
 * goes alone at once: nothing is held back on a timer. When a batch fails (one bad item, or a lock one
 * item waits for), each of its items is written on its own, so only its own failure reaches a caller.
 */
export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: GroupCommitOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once every submitted item has been written (or has failed). */
  async drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const { concurrency, maxBatchSize } = this.options;
    while (this.running < concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatchSize);
      this.running += 1;
      void this.write(batch).finally(() => {
        this.running -= 1;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async write(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const results = await this.options.writeBatch(batch.map((pending) => pending.item));
        batch.forEach((pending, index) => pending.resolve(results[index]!));
        return;
      } catch (error) {
        this.options.onBatchFailed?.(error, batch.length);
      }
    }
    await Promise.all(
      batch.map((pending) =>
        this.options.writeOne(pending.item).then(
          (result) => pending.resolve(result),
          (error: unknown) => pending.reject(error),
        ),
      ),
    );
  }
}
