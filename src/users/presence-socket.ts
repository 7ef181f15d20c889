import { presenceSubscribePayload } from '../protocol/people.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import { isPresenceRoom, presenceRoom } from '../realtime/socket-types.js';
import type { Logger } from '../shared/logger.js';
import type { PeopleService } from './people-service.js';

/** Counts every connection for presence and lets a socket watch the presence of up to 100 users. */
export function registerPresenceEvents(realtime: RealtimeServer, people: PeopleService, logger: Logger): void {
  realtime.onConnection((socket) => {
    const { userId } = socket.data.principal;
    const track = (work: Promise<void>) =>
      realtime.track(work.catch((error: unknown) => logger.error({ err: error, userId }, 'presence update failed')));
    track(people.connected(userId));
    socket.on('disconnect', () => track(people.disconnected(userId)));

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
