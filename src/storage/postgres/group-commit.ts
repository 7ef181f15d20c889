export interface GroupCommitOptions {
  /** Most items one statement stores. */
  maxBatch: number;
  /** Statements under way at once (each holds a pool connection). */
  concurrency: number;
  /** Items queued at most; a caller beyond it waits for room before its item is queued. */
  maxQueued: number;
}

interface Entry<In, Out> {
  item: In;
  resolve(result: Out): void;
  reject(error: unknown): void;
}

/**
 * Group commit: concurrent writes go to the database together, as one statement (one transaction, one
 * commit) per batch, and each caller's promise settles once that statement has committed. Nothing waits
 * on a timer: while a slot is free, what arrived in the same turn of the event loop goes at once; while
 * every slot is busy, what arrives meanwhile forms the next batch. Batches settle their callers in the
 * order they were queued, whatever order their commits finished in.
 *
 * `store` gets the items of a batch in queue order and returns their results in the same order. When it
 * fails, the batch is stored again one item at a time, so that only the items that fail on their own
 * reject and the others commit.
 */
export class GroupCommit<In, Out> {
  private readonly queue: Entry<In, Out>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private running = 0;
  private scheduled = false;
  private closed = false;
  /** Resolves when every batch taken so far has settled its callers. */
  private settled: Promise<void> = Promise.resolve();
  private readonly accepted = new Set<Promise<unknown>>();

  constructor(
    private readonly store: (items: In[]) => Promise<Out[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  add(item: In): Promise<Out> {
    if (this.closed) return Promise.reject(new Error('the storage is closed'));
    const result = this.enqueue(item);
    this.accepted.add(result);
    const forget = () => void this.accepted.delete(result);
    result.then(forget, forget);
    return result;
  }

  /** Refuses new items, stores every item already accepted and resolves once all of them have settled. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.accepted]);
  }

  private async enqueue(item: In): Promise<Out> {
    while (this.queue.length >= this.options.maxQueued) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running >= this.options.concurrency || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch || this.closed) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    // After the I/O callbacks of this turn of the event loop: the writes they started join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.running < this.options.concurrency && this.queue.length > 0) this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.options.maxBatch);
    for (const wake of this.roomWaiters.splice(0, this.options.maxQueued - this.queue.length)) wake();
    this.running += 1;
    const outcomes = this.run(batch).finally(() => {
      this.running -= 1;
      if (this.queue.length > 0) this.flush();
    });
    this.settled = Promise.all([this.settled, outcomes]).then(([, results]) =>
      results.forEach((outcome, index) => {
        const entry = batch[index]!;
        if (outcome.status === 'fulfilled') entry.resolve(outcome.value);
        else entry.reject(outcome.reason);
      }),
    );
  }

  private async run(batch: Entry<In, Out>[]): Promise<PromiseSettledResult<Out>[]> {
    const items = batch.map((entry) => entry.item);
    try {
      const t0 = performance.now();
      const results = await this.store(items);
      HCSTATS.n += 1; HCSTATS.rows += items.length; HCSTATS.ms += performance.now() - t0; HCSTATS.queued += this.queue.length;
      return results.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (items.length === 1) return [{ status: 'rejected', reason: error }];
      const alone: PromiseSettledResult<Out>[] = [];
      for (const item of items) {
        alone.push(
          await this.store([item]).then(
            ([value]) => ({ status: 'fulfilled', value: value! }),
            (reason: unknown) => ({ status: 'rejected', reason }),
          ),
        );
      }
      return alone;
    }
  }
}

const HCSTATS = { n: 0, rows: 0, ms: 0, queued: 0 };
if (process.env['HC_DEBUG']) setInterval(() => { if (HCSTATS.n) process.stderr.write(`batches ${HCSTATS.n} rows/batch ${(HCSTATS.rows / HCSTATS.n).toFixed(1)} ms/batch ${(HCSTATS.ms / HCSTATS.n).toFixed(2)} queuedAfter ${(HCSTATS.queued / HCSTATS.n).toFixed(1)}\n`); Object.assign(HCSTATS, { n: 0, rows: 0, ms: 0, queued: 0 }); }, 2000).unref();
