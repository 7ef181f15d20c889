/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface PeriodicTask {
  /** Runs the work now (or, with `runNow: false`, an interval from now), then again each interval after a run ends. */
  start(options?: { runNow?: boolean }): void;
  /** Stops the schedule and waits for a run in progress (so what it uses can close after it). */
  stop(): Promise<void>;
}

/**
 * Background work on a timer that never holds the process open: one run at a time, the next an interval
 * after the last ended. The work is told whether a stop was asked for, to end a long run early; a failure
 * goes to `onError` and the schedule goes on.
 */
export function periodicTask(intervalSeconds: number, work: (stopping: () => boolean) => Promise<void>, onError: (error: unknown) => void): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  const stopping = () => stopped;

  function schedule(): void {
    timer = setTimeout(run, Math.min(intervalSeconds * 1000, MAX_DELAY_MS));
    timer.unref();
  }

  function run(): void {
    running = work(stopping)
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
  }

  return {
    start({ runNow = true } = {}) {
      if (!stopped) return;
      stopped = false;
      if (runNow) run();
      else schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Runs `step` (which handles at most `batch` things) until it handles fewer or a stop is asked for; resolves with the total. */
export async function inBatches(batch: number, step: (batch: number) => Promise<number>, stopping: () => boolean): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await step(batch);
    total += done;
    if (done < batch || stopping()) return total;
  }
}
