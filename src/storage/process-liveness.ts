/**
 * This process's identity in the database, and whether the processes behind other identities still run.
 * Rows a process owns while it lives (live calls) carry its id; when it dies they are orphans. Each
 * adapter keeps it its own way (postgres/process-liveness.ts, mongo/process-liveness.ts).
 */
export interface ProcessLiveness {
  readonly id: string;
  /** Those of `ids` whose process is no longer running. */
  gone(ids: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}
