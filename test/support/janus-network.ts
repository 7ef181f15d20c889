import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Janus never gathers ICE candidates on loopback (its ice.c skips every IFF_LOOPBACK interface), and
 * tests may send traffic to loopback only. So a Janus suite runs in a network namespace of its own
 * (`unshare -rn`): its only interfaces are loopback and a veth pair between JANUS_NETWORK.janus, the one
 * Janus gathers on, and JANUS_NETWORK.peers; the machine's interfaces are not in it, and it ends with
 * the suite's process.
 *
 * Import this module first in a Janus test file: outside the namespace it runs the same file again
 * inside one, with the same arguments and output (node:test's reporter sees the inner run's results),
 * and exits with its status. A local PostgreSQL in DATABASE_URL is reached there by its Unix socket.
 */
export const JANUS_NETWORK = { janus: '10.77.0.1', peers: '10.77.0.2' } as const;

const INSIDE = 'CALL_APP_JANUS_NAMESPACE';
/** Where Debian's PostgreSQL puts its socket. */
const POSTGRES_SOCKET_DIR = '/var/run/postgresql';

/** True inside the suite's namespace. */
export const insideJanusNetwork = process.env[INSIDE] === '1';

/**
 * Janus is installed, and a namespace with a veth pair can be made here (unshare and ip on PATH, user
 * namespaces allowed): tried in a throwaway namespace.
 */
function canMakeNamespace(): boolean {
  if (!existsSync('/usr/bin/janus')) return false;
  const probe = spawnSync('unshare', ['-rn', 'ip', 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'], { stdio: 'ignore' });
  return probe.status === 0;
}

/**
 * A local PostgreSQL's URL by its Unix socket, which the namespace still reaches (a socket is a file,
 * not an address on the machine's loopback); undefined when the server is elsewhere or has no socket here.
 */
function throughUnixSocket(databaseUrl: string): string | undefined {
  const url = new URL(databaseUrl);
  const port = url.port || '5432';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || !existsSync(`${POSTGRES_SOCKET_DIR}/.s.PGSQL.${port}`)) return undefined;
  url.hostname = 'localhost';
  url.searchParams.set('host', POSTGRES_SOCKET_DIR);
  return url.toString();
}

// Otherwise the suite runs where it is and janusSkip() says why (or fails, in CI).
if (!insideJanusNetwork && canMakeNamespace()) {
  const setup = [
    'set -e',
    'ip link set lo up',
    'ip link add janus0 type veth peer name janus1',
    `ip addr add ${JANUS_NETWORK.janus}/24 dev janus0`,
    `ip addr add ${JANUS_NETWORK.peers}/24 dev janus1`,
    'ip link set janus0 up',
    'ip link set janus1 up',
    'exec "$@"',
  ].join('\n');
  const databaseUrl = process.env['DATABASE_URL'] && throughUnixSocket(process.env['DATABASE_URL']);
  const inner = spawnSync('unshare', ['-rn', 'sh', '-c', setup, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE]: '1', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
  });
  if (inner.error) throw inner.error;
  process.exit(inner.status ?? 1);
}
