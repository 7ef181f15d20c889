import { presenceSubscribePayload } from '../protocol/people.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import { whenGone } from '../realtime/when-gone.js';
import { isPresenceRoom, presenceRoom } from '../realtime/socket-types.js';
import type { PeopleService } from './people-service.js';

/**
 * Counts every connection for presence and lets a socket watch the presence of up to 100 users, of those
 * whose presence the user may see: a stranger's presence room is never joined.
 */
export function registerPresenceEvents(realtime: RealtimeServer, people: PeopleService): void {
  // Counted during the handshake: once a client hears it is connected, every process counts its user
  // online, so a device connecting on one process just before another leaves on another changes nothing.
  realtime.onHandshake(async (socket) => {
    const { userId } = socket.data.principal;
    // Counted (in memory, at once) before the release is set: a transport already closed releases at once.
    const counted = people.connected(userId);
    whenGone(socket, () => realtime.track(socket, 'presence update', people.disconnected(userId)));
    realtime.track(socket, 'presence update', counted.then(({ told }) => told));
    // A count that failed is written again when the tracker counts again; the connection goes on.
    await counted.catch(() => undefined);
  });

  realtime.onConnection((socket) => {
    const { userId } = socket.data.principal;

    // Subscriptions are the socket's presence rooms: the Redis adapter spreads them over processes.
    realtime.handle(socket, 'PRESENCE_SUBSCRIBE', presenceSubscribePayload, async ({ userIds }) => {
      const visible = await people.visibleTo(userId, userIds);
      const wanted = new Set(visible.map(presenceRoom));
      for (const room of socket.rooms) if (isPresenceRoom(room) && !wanted.has(room)) void socket.leave(room);
      // Join before reading the state, so no change falls between the answer and the first event.
      await socket.join([...wanted]);
      return { presence: await people.presenceOf(visible) };
    });
  });
}
