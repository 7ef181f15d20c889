/**
 * The real server against a bare Socket.io relay (support/relay-server.ts), in the same run, with the
 * same load: load clients in their own processes (support/load-client.ts) drive both; only the set-up
 * differs (support/targets.ts). Each scenario runs `rounds` times, the relay then the server each round;
 * a figure is the median of its rounds, and the ratio is ours / relay's. The server runs on PostgreSQL
 * (a scratch database next to DATABASE_URL's) when DATABASE_URL is set, else on PGlite.
 * BENCH_SIZE picks the sizes (support/sizes.ts); BENCH_FILTER runs the scenarios whose name contains it.
 */
import { registerUser } from '../test/support/http.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { callSetup } from './scenarios/calls.js';
import { chatLatency, chatThroughput } from './scenarios/chat.js';
import { idleConnections } from './scenarios/connections.js';
import { groupFanout } from './scenarios/groups.js';
import { historyPage } from './scenarios/history.js';
import { loginBurst } from './scenarios/login.js';
import { startLoadClient } from './support/load.js';
import { report } from './support/report.js';
import type { Figures, Scenario, ScenarioContext } from './support/scenario.js';
import { benchSizes } from './support/sizes.js';
import { startRelayTarget, startServerTarget, type Target } from './support/targets.js';
import { printTable, summarise } from './support/comparison-table.js';

const LOAD_CLIENTS = 2;
const SCENARIOS: Scenario[] = [chatThroughput, chatLatency, groupFanout, callSetup, idleConnections, loginBurst, historyPage];

const filter = process.env['BENCH_FILTER'] ?? '';
const scenarios = 'relay-comparison'.includes(filter) ? SCENARIOS : SCENARIOS.filter((scenario) => scenario.name.includes(filter));
const sizes = benchSizes();
const database = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';

/** The command that produced these figures, for whoever quotes them. */
function commandLine(): string {
  const args = [sizes.label === 'full' ? '' : `--${sizes.label}`, filter].filter(Boolean);
  return `${database === 'postgres' ? 'DATABASE_URL=postgres://... ' : ''}npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

/** Accounts and groups on one target, the same shape on both. */
async function prepare(target: Target): Promise<Omit<ScenarioContext, 'loads' | 'sizes' | 'database'>> {
  const users = await target.users(Math.max(2 * sizes.pairs, 2 * sizes.calls, sizes.fanoutGroupMembers, sizes.busyGroupMembers));
  const busy = await target.group(users[0]!, users.slice(1, sizes.busyGroupMembers), 'Busy group');
  const fanout = await target.group(users[0]!, users.slice(1, sizes.fanoutGroupMembers), 'Large group');
  const login = target.name === 'server' ? await registerUser(target.process.baseUrl, 'Login burst') : undefined;
  return { target, users, groups: { busy, fanout }, ...(login ? { login: { email: login.email, password: login.password } } : {}) };
}

if (scenarios.length > 0) {
  const scratch = database === 'postgres' ? await createScratchDatabase('call_app_bench') : undefined;
  const loads = await Promise.all(Array.from({ length: LOAD_CLIENTS }, () => startLoadClient()));
  const relay = await startRelayTarget();
  const server = await startServerTarget(database, scratch ? { DATABASE_URL: scratch.url } : {});
  const results: { scenario: Scenario; rounds: { relay: Figures[]; server: Figures[] } }[] = [];
  const started = performance.now();
  try {
    const setUpStarted = performance.now();
    const contexts = { relay: await prepare(relay), server: await prepare(server) };
    console.log(`set-up (${contexts.server.users.length} accounts and 2 groups per target): ${Math.round(performance.now() - setUpStarted)} ms`);
    for (const scenario of scenarios) {
      const rounds = { relay: [] as Figures[], server: [] as Figures[] };
      for (let round = 0; round < (scenario.rounds ?? sizes.rounds); round += 1) {
        for (const name of scenario.againstRelay ? (['relay', 'server'] as const) : (['server'] as const)) {
          const scenarioStarted = performance.now();
          rounds[name].push(await scenario.run({ ...contexts[name], loads, sizes, database }));
          console.log(`${scenario.name} round ${round + 1} ${name}: ${Math.round(performance.now() - scenarioStarted)} ms`);
        }
      }
      results.push({ scenario, rounds });
    }
  } finally {
    await Promise.all([relay.stop(), server.stop(), ...loads.map((load) => load.stop())]);
    await scratch?.drop();
  }
  const summary = summarise(results);
  await report(
    'relay-comparison',
    {
      backend: database,
      sizes: sizes.label,
      command: commandLine(),
      durationMs: Math.round(performance.now() - started),
      startupMs: { server: server.process.startupMs, relay: relay.process.startupMs },
      settings: sizes,
      scenarios: summary,
    },
    () => printTable(database, sizes.label, summary),
  );
}
