import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';
import { spawnServer, type Finished, type ServerProcess } from './processes.js';
import { redisServerMissing, startTestRedis, type TestRedis } from './redis-server.js';
import { closeAllSockets } from './sockets.js';

/**
 * Why a cluster of server processes cannot run here (no PostgreSQL to share, no redis-server), for
 * node:test's `skip`; undefined when it can. In CI (CI=true) a missing piece is an error, not a skip.
 */
export function clusterSkip(): string | undefined {
  const missing = !process.env['DATABASE_URL'] ? 'DATABASE_URL is not set' : redisServerMissing();
  if (!missing) return undefined;
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ${missing}: the scale-out tests cannot run`);
  return `${missing}: scale-out tests skipped`;
}

/** One server process of a cluster. */
export interface ClusterNode {
  readonly index: number;
  /** Changes on every start (each start takes a free port). */
  readonly baseUrl: string;
  readonly running: boolean;
  /** Everything it printed on stdout so far (its JSON log) in this run. */
  output(): string;
  /** SIGKILL: it dies without a goodbye (no shutdown, nothing written to Redis or the database). */
  kill(): Promise<Finished>;
  /** SIGTERM: a graceful shutdown, as in a rolling restart. */
  stop(): Promise<Finished>;
  /** Starts it again after kill() or stop(), with the same environment (on a new port). */
  start(): Promise<void>;
}

export interface Cluster {
  readonly nodes: ClusterNode[];
  /** The Redis they share: restart it to see the cluster through an outage. */
  readonly redis: TestRedis;
  /** The fresh PostgreSQL database they share. */
  readonly databaseUrl: string;
  /** The key prefix they share. */
  readonly redisPrefix: string;
  /** Stops every node (SIGTERM), Redis, and drops the database. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Environment for every node (configuration, as in production); a function is read when the cluster starts. */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Environment for one node, over `env`. */
  nodeEnv?: (index: number) => Record<string, string>;
}

function clusterNode(index: number, env: Record<string, string>): ClusterNode & { dispose(): Promise<void> } {
  let server: ServerProcess | undefined;
  let output = '';
  let dataDir: string | undefined;
  const current = () => {
    if (!server) throw new Error(`cluster node ${index} is not running`);
    return server;
  };
  const killOnExit = () => server?.child.kill('SIGKILL');
  const end = async (signal: NodeJS.Signals) => {
    const { child, exited } = current();
    child.kill(signal);
    const result = await exited;
    server = undefined;
    process.off('exit', killOnExit);
    return result;
  };
  return {
    index,
    get baseUrl() {
      return current().baseUrl;
    },
    get running() {
      return server !== undefined;
    },
    output: () => output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    async start() {
      if (server) throw new Error(`cluster node ${index} is running already`);
      dataDir ??= await mkdtemp(path.join(tmpdir(), `call-app-test-node-${index}-`));
      output = '';
      server = await spawnServer('postgres', dataDir, env);
      server.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      process.once('exit', killOnExit);
    },
    async dispose() {
      if (server) await end('SIGTERM');
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `count` real server processes (src/main.ts, each on a free port) sharing one fresh PostgreSQL database
 * and one redis-server of their own, as several machines behind a load balancer would. The first node
 * starts alone (it migrates the database), the others together.
 */
export async function startCluster(count: number, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startTestRedis();
  let database: ScratchDatabase | undefined;
  const nodes: ReturnType<typeof clusterNode>[] = [];
  const redisPrefix = `test-cluster-${randomBytes(4).toString('hex')}:`;
  const close = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
    await redis.close();
    await database?.drop();
  };
  try {
    database = await createScratchDatabase('call_app_cluster');
    const env = typeof options.env === 'function' ? options.env() : options.env;
    const shared = { DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_PREFIX: redisPrefix, ...env };
    for (let index = 0; index < count; index += 1) nodes.push(clusterNode(index, { ...shared, ...options.nodeEnv?.(index) }));
    await nodes[0]?.start();
    await Promise.all(nodes.slice(1).map((node) => node.start()));
    return { nodes, redis, databaseUrl: database.url, redisPrefix, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** startCluster for the enclosing describe(): started in its `before`, closed (with every test socket) in its `after`. */
export function useCluster(count: number, options: ClusterOptions = {}): { readonly current: Cluster; node(index: number): ClusterNode } {
  let cluster: Cluster | undefined;
  const current = () => {
    if (!cluster) throw new Error('the cluster is not running (read it in a hook or test)');
    return cluster;
  };
  before(async () => {
    cluster = await startCluster(count, options);
  });
  after(async () => {
    closeAllSockets();
    // CLUSTER_LOGS=1 prints what each node logged in its current run, to see what happened in a failure.
    if (process.env['CLUSTER_LOGS'] === '1') for (const node of cluster?.nodes ?? []) console.error(`node ${node.index}:\n${node.output()}`);
    await cluster?.close();
    cluster = undefined;
  });
  return {
    get current() {
      return current();
    },
    node(index) {
      const node = current().nodes[index];
      if (!node) throw new Error(`the cluster has no node ${index}`);
      return node;
    },
  };
}
