import type { LoadClient } from './load.js';
import type { Command } from './load-commands.js';
import type { Sizes } from './sizes.js';
import type { BenchDatabase } from './server-process.js';
import type { BenchUser, Target } from './targets.js';

/** A scenario's figures, each labelled with its unit. */
export type Figures = Record<string, number>;

export interface ScenarioContext {
  target: Target;
  database: BenchDatabase;
  sizes: Sizes;
  loads: LoadClient[];
  users: BenchUser[];
  groups: { busy: string; fanout: string };
  /** An account (the server only) to log in with. */
  login?: { email: string; password: string };
}

export interface Scenario {
  name: string;
  /** What the table says about it, and what the ratio means. */
  description: string;
  /** false: the relay has nothing to compare with (it has no logins and no storage); the server alone. */
  againstRelay: boolean;
  /** Rounds when not the sizes' (a server-only scenario that is slow to set up runs once). */
  rounds?: number;
  run(context: ScenarioContext): Promise<Figures>;
}

/** Connects each load client's share of sockets (`auths[w]` on client w), in parallel; wall-clock ms. */
export async function connectAll(context: ScenarioContext, auths: Record<string, unknown>[][]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    auths.map((share, w) => context.loads[w]!.run({ type: 'connect', url: context.target.process.baseUrl, auths: share, concurrency: context.sizes.connectConcurrency })),
  );
  return performance.now() - started;
}

export async function disconnectAll(context: ScenarioContext): Promise<void> {
  await Promise.all(context.loads.map((load) => load.run({ type: 'disconnect' } satisfies Command)));
}
