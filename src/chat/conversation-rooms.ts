import pLimit from 'p-limit';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import { conversationRoom, type AppSocket } from '../realtime/socket-types.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Logger } from '../shared/logger.js';
import type { ConversationsRepository } from '../storage/ports.js';

const GROUP_ROOM_PREFIX = conversationRoom('');
/** Users whose groups are read at once when every socket's rooms are read again. */
const REGROUP_CONCURRENCY = 4;

const groupRoomsOf = (socket: AppSocket) => [...socket.rooms].filter((room) => room.startsWith(GROUP_ROOM_PREFIX));

/**
 * Every socket is in the room of each group its user belongs to, so a group message is one emit and a
 * removed member's devices stop hearing the group the moment they leave its room. The rooms are joined
 * before the socket connects (no group event is missed in between), then checked again once the socket
 * is in its user's room: a change committed between the two looks joined or left the user's room
 * without this socket. The second look reads again only when a membership change was heard since the
 * first began (every change is announced after it is stored, so one that the first look missed is
 * heard after that look began).
 *
 * Both looks read the database only for a user's first socket here. Once a socket has been checked
 * in its user's room, every later change reaches it there, so its group rooms stay its user's groups,
 * and another socket of the user copies them instead (again once in the user's room, where from that
 * moment on the same changes reach both).
 */
export function registerConversationRooms(
  realtime: RealtimeServer,
  { conversations, events, logger }: { conversations: Pick<ConversationsRepository, 'groupIdsOf'>; events: DomainEvents; logger: Logger },
): void {
  let membershipChanges = 0;
  events.on('groupMembersChanged', () => {
    membershipChanges += 1;
  });
  /** The membership-change count when each socket's first look began, for the looks that succeeded. */
  const lookedAt = new WeakMap<AppSocket, number>();
  /** Per user, the sockets whose group rooms are their user's groups. */
  const current = new Map<string, Set<AppSocket>>();
  const currentSibling = (socket: AppSocket) => {
    for (const sibling of current.get(socket.data.principal.userId) ?? []) if (sibling !== socket && sibling.connected) return sibling;
    return undefined;
  };
  const markCurrent = (socket: AppSocket) => {
    if (!socket.connected) return;
    const { userId } = socket.data.principal;
    const sockets = current.get(userId) ?? new Set();
    current.set(userId, sockets.add(socket));
    socket.once('disconnecting', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && current.get(userId) === sockets) current.delete(userId);
    });
  };

  /**
   * After the link between processes was cut, joins, leaves and membership changes announced meanwhile
   * may not have reached this process's sockets: every user's group rooms are read again (a few users at
   * a time; one more pass if another outage ends during one).
   */
  let regrouping: Promise<void> | undefined;
  let regroupAgain = false;
  const regroupUser = async (userId: string, sockets: ReadonlySet<AppSocket>) => {
    for (;;) {
      const changesBefore = membershipChanges;
      const rooms = (await conversations.groupIdsOf(userId)).map(conversationRoom);
      // A change heard meanwhile may have moved these sockets already: read again rather than undo it.
      if (changesBefore !== membershipChanges) continue;
      await Promise.all([...sockets].filter((socket) => socket.connected).map((socket) => moveTo(socket, rooms)));
      return;
    }
  };
  const regroupAll = async () => {
    do {
      regroupAgain = false;
      const limit = pLimit(REGROUP_CONCURRENCY);
      await Promise.all(
        [...current].map(([userId, sockets]) =>
          limit(() => regroupUser(userId, sockets)).catch((error: unknown) => logger.error({ err: error, userId }, 'could not read the groups of a user again after an outage')),
        ),
      );
    } while (regroupAgain);
  };
  events.on('relayResumed', () => {
    membershipChanges += 1;
    if (regrouping) {
      regroupAgain = true;
      return;
    }
    regrouping = regroupAll().finally(() => {
      regrouping = undefined;
    });
  });

  realtime.onHandshake(async (socket) => {
    const sibling = currentSibling(socket);
    const changesBefore = membershipChanges;
    try {
      await socket.join(sibling ? groupRoomsOf(sibling) : (await conversations.groupIdsOf(socket.data.principal.userId)).map(conversationRoom));
      lookedAt.set(socket, changesBefore);
    } catch (error) {
      logger.error({ err: error, userId: socket.data.principal.userId }, 'could not join the groups of a connecting socket; joining on connection');
    }
  });
  realtime.onConnection((socket) => {
    const sibling = currentSibling(socket);
    const settled = sibling
      ? moveTo(socket, groupRoomsOf(sibling))
      : lookedAt.get(socket) === membershipChanges
        ? Promise.resolve()
        : conversations.groupIdsOf(socket.data.principal.userId).then((ids) => moveTo(socket, ids.map(conversationRoom)));
    realtime.track(socket, 'joining groups', settled.then(() => markCurrent(socket)));
  });
}

/** Leaves the group rooms not in `rooms` and joins those of `rooms` the socket is not in, all at once. */
async function moveTo(socket: AppSocket, rooms: string[]): Promise<void> {
  const wanted = new Set(rooms);
  await Promise.all([
    ...groupRoomsOf(socket).filter((room) => !wanted.has(room)).map((room) => socket.leave(room)),
    socket.join(rooms.filter((room) => !socket.rooms.has(room))),
  ]);
}
