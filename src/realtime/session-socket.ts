import type { Authenticator } from '../auth/authenticator.js';
import { authenticatePayload } from '../protocol/session-events.js';
import { AppError } from '../shared/app-error.js';
import type { RealtimeServer } from './realtime-server.js';
import type { AppSocket } from './socket-types.js';

/** setTimeout's longest delay; an access token living longer is re-checked when this runs out. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A connection lives as long as its access token: when the token expires the socket gets SESSION_ENDED
 * (`token_expired`) and is closed, unless the client sent AUTHENTICATE with a fresh token of the same
 * session first. Revocations end it earlier (see createRealtimeServer).
 */
export function registerSessionEvents(socket: AppSocket, deps: { authenticator: Authenticator; handle: RealtimeServer['handle'] }): void {
  let expiry: NodeJS.Timeout | undefined;
  const armExpiry = () => {
    clearTimeout(expiry);
    const left = socket.data.principal.tokenExpiresAt.getTime() - Date.now();
    expiry = setTimeout(() => {
      if (socket.data.principal.tokenExpiresAt.getTime() > Date.now()) return armExpiry();
      socket.emit('SESSION_ENDED', { reason: 'token_expired' });
      socket.disconnect(true);
    }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    expiry.unref();
  };
  armExpiry();
  socket.once('disconnect', () => clearTimeout(expiry));

  deps.handle(socket, 'AUTHENTICATE', authenticatePayload, async ({ token }) => {
    const principal = await deps.authenticator.authenticate(token);
    if (principal.sessionId !== socket.data.principal.sessionId) {
      throw new AppError('FORBIDDEN', 'AUTHENTICATE takes a token of the same session; connect again for another one');
    }
    socket.data.principal = principal;
    armExpiry();
    return { expiresAt: principal.tokenExpiresAt.toISOString() };
  });
}
