import { presenceSubscribePayload } from '../protocol/people.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import { isPresenceRoom, presenceRoom } from '../realtime/socket-types.js';
import type { PeopleService } from './people-service.js';

/** Counts every connection for presence and lets a socket watch the presence of up to 100 users. */
export function registerPresenceEvents(realtime: RealtimeServer, people: PeopleService): void {
  realtime.onConnection((socket) => {
    const { userId } = socket.data.principal;
    realtime.track(socket, 'presence update', people.connected(userId));
    socket.on('disconnect', () => realtime.track(socket, 'presence update', people.disconnected(userId)));

    // Subscriptions are the socket's presence rooms, so a recovered connection keeps them.
    realtime.handle(socket, 'PRESENCE_SUBSCRIBE', presenceSubscribePayload, async ({ userIds }) => {
      const wanted = new Set(userIds.map(presenceRoom));
      for (const room of socket.rooms) if (isPresenceRoom(room) && !wanted.has(room)) void socket.leave(room);
      // Join before reading the state, so no change falls between the answer and the first event.
      await socket.join([...wanted]);
      return { presence: await people.presenceOf(userIds) };
    });
  });
}
