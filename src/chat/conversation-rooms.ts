import type { RealtimeServer } from '../realtime/realtime-server.js';
import { conversationRoom, type AppSocket } from '../realtime/socket-types.js';
import type { Logger } from '../shared/logger.js';
import type { ConversationsRepository } from '../storage/ports.js';

const GROUP_ROOM_PREFIX = conversationRoom('');

/**
 * Every socket is in the room of each group its user belongs to, so a group message is one emit and a
 * removed member's devices stop hearing the group the moment they leave its room. The rooms are joined
 * before the socket connects (no group event is missed in between), then checked again once the socket
 * is in its user's room: a change committed between the two looks joined or left the user's room
 * without this socket.
 */
export function registerConversationRooms(realtime: RealtimeServer, conversations: Pick<ConversationsRepository, 'groupIdsOf'>, logger: Logger): void {
  realtime.onHandshake(async (socket) => {
    try {
      await socket.join((await conversations.groupIdsOf(socket.data.principal.userId)).map(conversationRoom));
    } catch (error) {
      logger.error({ err: error, userId: socket.data.principal.userId }, 'could not join the groups of a connecting socket; joining on connection');
    }
  });
  realtime.onConnection((socket) => realtime.track(socket, 'joining groups', reconcile(socket, conversations)));
}

async function reconcile(socket: AppSocket, conversations: Pick<ConversationsRepository, 'groupIdsOf'>): Promise<void> {
  const current = new Set((await conversations.groupIdsOf(socket.data.principal.userId)).map(conversationRoom));
  for (const room of [...socket.rooms]) if (room.startsWith(GROUP_ROOM_PREFIX) && !current.has(room)) await socket.leave(room);
  await socket.join([...current].filter((room) => !socket.rooms.has(room)));
}
