import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon, untilAnswering, type Daemon } from './daemon.js';
import { insideJanusNetwork, JANUS_NETWORK } from './janus-network.js';

const HOST = '127.0.0.1';
const CONFIG_DIR = fileURLToPath(new URL('../janus/', import.meta.url));
const BINARY = '/usr/bin/janus';
/** Where Debian's janus package puts its plugins and transports (multiarch), and other common prefixes. */
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus', '/opt/janus/lib/janus'];
const STARTUP_TIMEOUT_MS = 15_000;

const inCi = process.env['CI'] === 'true';

/** Janus's library folder (plugins/, transports/) if Janus is installed here. */
function janusLibDir(): string | undefined {
  if (!existsSync(BINARY)) return undefined;
  return LIB_DIRS.find((dir) => existsSync(join(dir, 'plugins', 'libjanus_videoroom.so')) && existsSync(join(dir, 'transports', 'libjanus_http.so')));
}

/**
 * Why the Janus suites cannot run here, for node:test's `skip`; undefined when they can. They need
 * Debian's janus and the suite's network namespace (janus-network.ts). In CI a missing Janus is an
 * error, not a skip.
 */
export function janusSkip(): string | undefined {
  const missing = !janusLibDir()
    ? 'Janus is not installed (apt-get install janus)'
    : !insideJanusNetwork
      ? 'the Janus suite could not make its network namespace (unshare -rn from util-linux, ip from iproute2)'
      : undefined;
  if (missing && inCi) throw new Error(`CI=true but ${missing}: the SFU tests cannot run`);
  return missing && `${missing}: Janus SFU tests skipped`;
}

export interface JanusServer {
  /** The HTTP transport's base URL, as JANUS_URL takes it. */
  url: string;
  apiSecret: string | undefined;
  /** The videoroom plugin's admin_key (needed to create rooms). */
  adminKey: string | undefined;
  /** Milliseconds from spawning Janus to its first answer. */
  startupMs: number;
  /** SIGKILLs the process (a crash): nothing of Janus is left to answer. */
  kill(): Promise<void>;
  /** SIGSTOPs the process: it keeps its sockets open and answers nothing (a hung Janus). */
  freeze(): void;
  /** SIGKILLs the process if it runs and starts a new one with the same address and secrets (a restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('No TCP port');
  return address.port;
}

async function answersInfo(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/info`, { signal: AbortSignal.timeout(500) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A Janus for one suite, started from test/janus/ with fresh secrets, its HTTP API on a free loopback
 * port, ICE on JANUS_NETWORK.janus only, and its own RTP port range. Its configuration, plugin and
 * transport folders (only the videoroom plugin and the HTTP transport are linked in) live in a
 * temporary directory that stop() removes; Janus logs to the pipe only. `sessionTimeoutSeconds` is
 * Janus's session_timeout (60 s, as in Debian's configuration, unless a test needs it short).
 */
export async function startJanus(options: { sessionTimeoutSeconds?: number } = {}): Promise<JanusServer> {
  const libDir = janusLibDir();
  if (!libDir) throw new Error('Janus is not installed (Debian package: janus)');

  const dir = await mkdtemp(join(tmpdir(), 'janus-'));
  const port = await freeTcpPort();
  // The namespace is the suite's own, so any range is free; below the ephemeral ports all the same.
  const rtpStart = 20_000 + randomInt(0, 120) * 100;
  const values: Record<string, string> = {
    DIR: dir,
    HTTP_PORT: String(port),
    API_SECRET: randomBytes(18).toString('base64url'),
    ADMIN_SECRET: randomBytes(18).toString('base64url'),
    ADMIN_KEY: randomBytes(18).toString('base64url'),
    RTP_PORT_RANGE: `${rtpStart}-${rtpStart + 99}`,
    ICE_ADDRESS: JANUS_NETWORK.janus,
    SESSION_TIMEOUT: String(options.sessionTimeoutSeconds ?? 60),
  };
  for (const folder of ['conf', 'plugins', 'transports', 'empty']) await mkdir(join(dir, folder));
  for (const file of await readdir(CONFIG_DIR)) {
    const template = await readFile(join(CONFIG_DIR, file), 'utf8');
    await writeFile(join(dir, 'conf', file), template.replace(/@([A-Z_]+)@/g, (_, name: string) => values[name] ?? `@${name}@`));
  }
  await symlink(join(libDir, 'plugins', 'libjanus_videoroom.so'), join(dir, 'plugins', 'libjanus_videoroom.so'));
  await symlink(join(libDir, 'transports', 'libjanus_http.so'), join(dir, 'transports', 'libjanus_http.so'));

  const url = `http://${HOST}:${port}/janus`;
  const launchOrClean = () =>
    launch(dir, url).catch(async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
  const started = Date.now();
  let current = await launchOrClean();
  const startupMs = Date.now() - started;
  const end = (signal: NodeJS.Signals) => current.end(signal);
  const stop = async (): Promise<void> => {
    await end('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  const restart = async (): Promise<void> => {
    await end('SIGKILL');
    current = await launchOrClean();
  };
  return { url, apiSecret: values['API_SECRET'], adminKey: values['ADMIN_KEY'], startupMs, kill: () => end('SIGKILL'), freeze: () => current.freeze(), restart, stop };
}

/** Spawns Janus on the configuration in `dir` and resolves once it answers on `url`. */
async function launch(dir: string, url: string): Promise<Daemon> {
  const daemon = spawnDaemon(BINARY, [`--config=${join(dir, 'conf', 'janus.jcfg')}`, `--configs-folder=${join(dir, 'conf')}`], dir, { cwd: dir });
  await untilAnswering(daemon, `Janus on ${url}`, () => answersInfo(url), STARTUP_TIMEOUT_MS);
  return daemon;
}
