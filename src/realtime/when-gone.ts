import type { AppSocket } from './socket-types.js';

/**
 * Runs `release` once, when the socket is gone however it ends: disconnected, or its transport closed
 * before it was ever connected (a handshake step failed, or the client left during the handshake). A
 * transport already closed releases at once: it will not close again.
 */
export function whenGone(socket: AppSocket, release: () => void): void {
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  if (socket.conn.readyState === 'closed') {
    once();
    return;
  }
  socket.conn.once('close', once);
  socket.once('disconnect', once);
}
