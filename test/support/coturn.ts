import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnDaemon, untilAnswering } from './daemon.js';

const HOST = '127.0.0.1';
const STUN_MAGIC_COOKIE = 0x2112a442;

/** Where Debian's coturn package puts `turnserver`, if it is installed (on PATH or in /usr/bin). */
export function findTurnserver(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'turnserver');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface Coturn {
  /** TURN urls to hand to peers, UDP first (werift uses only the first TURN url it is given). */
  urls: string[];
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on loopback, since turnserver listens on both. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const tcp = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, HOST, () => {
        const address = tcp.address();
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('No TCP port'));
      });
    });
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, HOST, () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve())).catch(() => undefined);
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (udpFree) return port;
  }
  throw new Error('No port free for both UDP and TCP on loopback');
}

/** Resolves true when something answers a STUN Binding request on the port within `timeoutMs`. */
function answersStunBinding(port: number, timeoutMs: number): Promise<boolean> {
  const transactionId = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt16BE(0, 2); // no attributes
  request.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  transactionId.copy(request, 8);

  const socket = createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    const finish = (answered: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (message) => {
      if (message.length >= 20 && message.subarray(8, 20).equals(transactionId)) finish(true);
    });
    socket.send(request, port, HOST);
  });
}

/**
 * Starts coturn's turnserver on loopback with the TURN REST API scheme (`use-auth-secret`), taking
 * every setting from the command line (-n: no config file) and keeping its pid file and user
 * database in a temporary directory, so nothing on the machine is touched. Resolves once it answers
 * STUN; `stop()` ends it and removes the directory.
 */
export async function startCoturn(options: { secret: string }): Promise<Coturn> {
  const binary = findTurnserver();
  if (!binary) throw new Error('turnserver is not installed (Debian package: coturn)');
  const dir = await mkdtemp(join(tmpdir(), 'coturn-'));
  const port = await freePort();
  const daemon = spawnDaemon(
    binary,
    [
      '-n',
      `--listening-ip=${HOST}`,
      `--relay-ip=${HOST}`,
      `--listening-port=${port}`,
      // Both peers' relayed addresses are on 127.0.0.1, which coturn refuses as peers by default.
      '--allow-loopback-peers',
      '--use-auth-secret',
      `--static-auth-secret=${options.secret}`,
      '--realm=call-app.test',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--no-multicast-peers',
      '--log-file=stdout',
      '--simple-log',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      `--userdb=${join(dir, 'turndb')}`,
    ],
    dir,
  );
  const stop = async (): Promise<void> => {
    await daemon.end('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilAnswering(daemon, `turnserver on ${HOST}:${port}`, () => answersStunBinding(port, 200), 10_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return { urls: [`turn:${HOST}:${port}?transport=udp`, `turn:${HOST}:${port}?transport=tcp`], stop };
}
