import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * Resolves once every connection waiting in `server`'s accept queue has been accepted (at most
 * `timeoutMs`). Closing a listening socket resets the connections still queued, whose clients may already
 * have sent their requests, and a busy server can fall far behind in accepting. Connections are accepted
 * in arrival order, so once one opened now to the server itself is accepted, every earlier one has been.
 */
export async function drainAcceptQueue(server: Server, timeoutMs: number): Promise<void> {
  const bound = server.address();
  if (bound === null || typeof bound === 'string') return;
  const probe = connect({ host: loopbackFor(bound), port: bound.port });
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      server.off('connection', onConnection);
      probe.destroy();
      resolve();
    };
    const onConnection = (socket: Socket) => {
      if (socket.remotePort !== probe.localPort || socket.remoteAddress !== probe.localAddress) return;
      socket.destroy();
      done();
    };
    const timer = setTimeout(done, timeoutMs);
    server.on('connection', onConnection);
    probe.once('error', done);
  });
}

/** An address the server can be reached at from this host: its own, or loopback when it listens on all interfaces. */
function loopbackFor({ address }: AddressInfo): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}
