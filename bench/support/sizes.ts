/** How big each scenario runs: `npm run bench` (full), `-- --quick` (every scenario small), `-- --tiny` (the smoke test). */
export interface Sizes {
  label: 'full' | 'quick' | 'tiny';
  /** Rounds per scenario; each runs the relay, then the server. */
  rounds: number;
  pairs: number;
  window: number;
  warmupMs: number;
  measureMs: number;
  /** Offered load of the latency scenario, all senders together. */
  fixedRate: number;
  /** Phases of the latency and group scenarios (a saturated server drains its backlog after them). */
  shortWarmupMs: number;
  shortMeasureMs: number;
  /** Restart the target before the memory figures (chat, idle sockets), so that they start from a fresh heap. */
  freshProcess: boolean;
  rssWaitMs: number;
  /** After connecting or dropping the idle sockets, before reading the RSS. */
  settleMs: number;
  busyGroupMembers: number;
  busyGroupWindow: number;
  fanoutGroupMembers: number;
  fanoutConnected: number;
  calls: number;
  callRounds: number;
  idleSockets: number;
  connectConcurrency: number;
  loginConcurrency: number;
  loginMs: number;
  /** Stored messages at the two history measurements, per backend (PGlite inserts far more slowly). */
  history: { postgres: [number, number]; pglite: [number, number]; requests: number };
}

const FULL: Sizes = {
  label: 'full',
  rounds: 2,
  pairs: 50,
  window: 32,
  warmupMs: 2000,
  measureMs: 10_000,
  fixedRate: 5000,
  shortWarmupMs: 2000,
  shortMeasureMs: 10_000,
  freshProcess: true,
  rssWaitMs: 10_000,
  settleMs: 1000,
  busyGroupMembers: 50,
  busyGroupWindow: 4,
  fanoutGroupMembers: 1000,
  fanoutConnected: 200,
  calls: 100,
  callRounds: 5,
  idleSockets: 5000,
  connectConcurrency: 50,
  loginConcurrency: 50,
  loginMs: 10_000,
  history: { postgres: [1000, 1_000_000], pglite: [1000, 100_000], requests: 200 },
};

const QUICK: Sizes = {
  ...FULL,
  label: 'quick',
  // 8 unacknowledged per sender and these chat phases: long enough for the server's queue to reach its steady state.
  window: 8,
  warmupMs: 800,
  measureMs: 1500,
  shortWarmupMs: 200,
  shortMeasureMs: 600,
  freshProcess: false,
  rssWaitMs: 500,
  settleMs: 300,
  fanoutGroupMembers: 200,
  fanoutConnected: 50,
  callRounds: 2,
  idleSockets: 1000,
  loginMs: 1000,
  history: { postgres: [1000, 100_000], pglite: [1000, 10_000], requests: 50 },
};

const TINY: Sizes = {
  label: 'tiny',
  // The smoke test checks that every figure is produced, not that it is stable: one round is enough.
  rounds: 1,
  pairs: 4,
  window: 4,
  warmupMs: 100,
  measureMs: 300,
  fixedRate: 200,
  shortWarmupMs: 100,
  shortMeasureMs: 300,
  freshProcess: false,
  rssWaitMs: 100,
  settleMs: 100,
  busyGroupMembers: 5,
  busyGroupWindow: 2,
  fanoutGroupMembers: 10,
  fanoutConnected: 5,
  calls: 4,
  callRounds: 1,
  idleSockets: 40,
  connectConcurrency: 10,
  loginConcurrency: 4,
  loginMs: 300,
  history: { postgres: [100, 1000], pglite: [100, 1000], requests: 10 },
};

export function benchSizes(label = process.env['BENCH_SIZE']): Sizes {
  if (label === 'quick') return QUICK;
  if (label === 'tiny') return TINY;
  return FULL;
}
