/**
 * `npm run bench -- cluster`: several server processes on one PostgreSQL database (a scratch one next to
 * DATABASE_URL's, which must be set) and one redis-server of the benchmark's own. Load clients in their
 * own processes (support/load-client.ts) drive pairs of users who message each other both ways.
 *
 * - latency: at one fixed offered rate, with two processes running, both users of every pair on the same
 *   process, then on different ones: what crossing processes through Redis adds.
 * - throughput: at saturation with 1, then 2, then 3 processes (each started before its run), every
 *   pair's users on two different processes (on the one process when there is one).
 *
 * Everything (the server processes, the load clients, PostgreSQL, Redis) shares this machine's cores.
 */
import { registerUser } from '../test/support/http.js';
import { startTestRedis } from '../test/support/redis-server.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { merge } from './scenarios/chat.js';
import { startLoadClient, type LoadClient } from './support/load.js';
import type { Sender, SendResult } from './support/load-commands.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { round } from './support/stats.js';

const quick = process.env['BENCH_SIZE'] !== 'full';
const PAIRS = quick ? 10 : 50;
const WINDOW = quick ? 8 : 32;
const FIXED_RATE = quick ? 200 : 1000;
const PHASES = quick ? { warmupMs: 500, measureMs: 1500 } : { warmupMs: 2000, measureMs: 10_000 };
const LOAD_CLIENTS = 2;

interface User {
  id: string;
  auth: Record<string, unknown>;
}

/** Pair `pair`'s two users on these processes (indexes into `nodes`). */
type Placement = (pair: number) => [number, number];

async function run(loads: LoadClient[], nodes: ServerProcess[], users: User[], placement: Placement, pace: { window: number } | { rate: number }, tag: string) {
  const shares = loads.map(() => ({ byNode: nodes.map(() => [] as { user: User; sender: Sender['target'] }[]) }));
  for (let pair = 0; pair < PAIRS; pair += 1) {
    const share = shares[pair % loads.length]!;
    const [a, b] = [users[2 * pair]!, users[2 * pair + 1]!];
    const [onA, onB] = placement(pair);
    share.byNode[onA]!.push({ user: a, sender: { to: b.id } });
    share.byNode[onB]!.push({ user: b, sender: { to: a.id } });
  }
  // Socket indexes in each load client follow the order of its connect commands.
  const senders = await Promise.all(
    shares.map(async (share, w) => {
      const mine: Sender[] = [];
      for (const [index, sockets] of share.byNode.entries()) {
        if (sockets.length === 0) continue;
        for (const socket of sockets) mine.push({ socket: mine.length, target: socket.sender });
        await loads[w]!.run({ type: 'connect', url: nodes[index]!.baseUrl, auths: sockets.map((socket) => socket.user.auth), concurrency: 10 });
      }
      return mine;
    }),
  );
  const perSender = 'window' in pace ? { window: pace.window } : { ratePerSender: pace.rate / (2 * PAIRS) };
  const results = await Promise.all(
    loads.map((load, w) => load.run<SendResult>({ type: 'send', tag, senders: senders[w]!, receivers: 1, ...perSender, ...PHASES, drainMs: 10_000 })),
  );
  await Promise.all(loads.map((load) => load.run({ type: 'disconnect' })));
  const merged = merge(results);
  return {
    'msg/s': round(merged.completedInWindow / (PHASES.measureMs / 1000)),
    'p50 ms': merged.latency(50),
    'p99 ms': merged.latency(99),
    failed: merged.failures,
  };
}

if (!process.env['DATABASE_URL']) throw new Error('set DATABASE_URL: several processes share one PostgreSQL database');
const redis = await startTestRedis();
const scratch = await createScratchDatabase('call_app_bench_cluster');
const env = { DATABASE_URL: scratch.url, REDIS_URL: redis.url, REDIS_PREFIX: 'bench:' };
const nodes: ServerProcess[] = [];
const loads = await Promise.all(Array.from({ length: LOAD_CLIENTS }, () => startLoadClient()));
const rows: [string, Record<string, number>][] = [];
try {
  nodes.push(await startServerProcess('postgres', env));
  const users: User[] = [];
  for (let n = 0; n < 2 * PAIRS; n += 1) {
    const registered = await registerUser(nodes[0]!.baseUrl, `Bench ${n}`);
    users.push({ id: registered.user.id, auth: { token: registered.accessToken } });
  }
  const across = (count: number): Placement => (pair) => [pair % count, (pair + 1) % count];

  rows.push(['throughput, 1 process', await run(loads, nodes, users, across(1), { window: WINDOW }, 'tp1')]);
  nodes.push(await startServerProcess('postgres', env));
  rows.push([`latency at ${FIXED_RATE} msg/s, same process (2 running)`, await run(loads, nodes, users, () => [0, 0], { rate: FIXED_RATE }, 'same')]);
  rows.push([`latency at ${FIXED_RATE} msg/s, across processes (2 running)`, await run(loads, nodes, users, across(2), { rate: FIXED_RATE }, 'cross')]);
  rows.push(['throughput, 2 processes', await run(loads, nodes, users, across(2), { window: WINDOW }, 'tp2')]);
  nodes.push(await startServerProcess('postgres', env));
  rows.push(['throughput, 3 processes', await run(loads, nodes, users, across(3), { window: WINDOW }, 'tp3')]);
} finally {
  await Promise.all(loads.map((load) => load.stop()));
  await Promise.all(nodes.map((node) => node.stop()));
  await redis.close();
  await scratch.drop();
}

const command = `DATABASE_URL=postgres://... npm run bench -- cluster${quick ? ' (BENCH_SIZE quick)' : ''}`;
console.log(`\n${command}: ${PAIRS} pairs, both ways; saturation keeps ${WINDOW} unacknowledged per sender; send -> received by the other party\n`);
const columns = Object.keys(rows[0]![1]);
console.log(`| run | ${columns.join(' | ')} |\n|---|${columns.map(() => '---').join('|')}|`);
for (const [name, figures] of rows) console.log(`| ${name} | ${columns.map((column) => figures[column]).join(' | ')} |`);
