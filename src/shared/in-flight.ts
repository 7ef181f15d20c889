/** Work started by clients that shutdown waits for, so no acknowledged write is cut off. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    this.pending.add(work);
    const settled = () => void this.pending.delete(work);
    work.then(settled, settled);
  }

  /** Resolves when everything tracked has settled, or after `timeoutMs` (if given), whichever is first. */
  async drain(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) {
      await Promise.allSettled([...this.pending]);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    clearTimeout(timer);
  }
}
