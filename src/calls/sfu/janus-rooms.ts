import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/logger.js';
import { JanusRoom, VIDEOROOM, type JanusRoomSnapshot, type RoomKeys } from './janus-room.js';
import { JanusSession, type JanusHandle, type JanusSessionOptions } from './janus-session.js';
import { SfuError } from './sfu-error.js';
import type { SfuHandover, SfuLostReason, SfuRoom, SfuRooms } from './sfu-rooms.js';

export interface JanusRoomsOptions {
  /** JANUS_URL: the HTTP transport's base URL, e.g. http://127.0.0.1:8088/janus. */
  url: string;
  /** JANUS_API_SECRET: Janus's api_secret. */
  apiSecret: string | undefined;
  /** The videoroom plugin's admin_key, when Janus is configured with one (only holders may create rooms). */
  adminKey: string | undefined;
  logger: Logger;
  /**
   * Every room went away at once (Janus unreachable, restarted, or our session expired): the calls in
   * `callIds` have no media any more and should end. Later create() calls open a new session.
   */
  onLost: (lost: { reason: SfuLostReason; callIds: string[] }) => void;
  requestTimeoutMs?: number;
  keepaliveMs?: number;
  unreachableAfterMs?: number;
}

/** The sessions of a stopping process and the rooms on each, as another process resumes them. */
type JanusHandover = { sessions: { id: number; control: number; rooms: JanusRoomSnapshot[] }[] };

/** Janus's "no such room" (JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM). */
const NO_SUCH_ROOM = 426;

/**
 * A call's room keys, derived from the call id with a key only the servers and Janus know (HMAC-SHA256
 * of the API secret), so any process can find the room of a call whose holder died and destroy it. The
 * id stays below 2^48 (Janus's ids are integers; JSON numbers are exact there).
 */
function roomKeys(keySecret: string | Buffer, callId: string): RoomKeys {
  const derive = (purpose: string) => createHmac('sha256', keySecret).update(`janus-room-${purpose}\0${callId}`).digest();
  return { room: derive('id').readUIntBE(0, 6) || 1, secret: derive('secret').toString('base64url'), pin: derive('pin').toString('base64url') };
}

interface Connection {
  session: JanusSession;
  /** A handle for room-level requests (create, destroy). */
  control: JanusHandle;
}

/**
 * SfuRooms on Janus's videoroom plugin: one session, opened on the first create() and again after it is
 * lost, holding one control handle and the handles of every room's participants. Rooms are private:
 * an id, a secret to destroy them and a pin to join them, known only to the servers (see roomKeys),
 * and `is_private` so they are never listed. Sessions released by a stopping process are adopted here
 * beside this one's own, each kept until its last room goes.
 */
export function createJanusRooms(options: JanusRoomsOptions): SfuRooms {
  // Without an API secret (a Janus open to anyone who reaches it) the keys are this process's alone.
  const keySecret = options.apiSecret ?? randomBytes(32);
  const rooms = new Map<string, JanusRoom>();
  let connecting: Promise<Connection> | undefined;
  /** Sessions taken over from processes that stopped, each with its control handle. */
  const adopted = new Map<JanusSession, JanusHandle>();

  const sessionOptions = (onLost: JanusSessionOptions['onLost']): JanusSessionOptions => ({
    url: options.url,
    apiSecret: options.apiSecret,
    logger: options.logger,
    requestTimeoutMs: options.requestTimeoutMs,
    keepaliveMs: options.keepaliveMs,
    unreachableAfterMs: options.unreachableAfterMs,
    onLost,
  });

  /** The rooms on a lost session go, and their calls are reported. */
  const lost = (session: JanusSession, reason: SfuLostReason) => {
    const callIds = [...rooms].filter(([, room]) => room.isOn(session)).map(([callId]) => callId);
    for (const callId of callIds) rooms.delete(callId);
    adopted.delete(session);
    options.onLost({ reason, callIds });
  };

  /** A room that went; an adopted session goes with its last room (this process made no rooms on it). */
  const forget = (room: JanusRoom) => {
    if (rooms.get(room.callId) === room) rooms.delete(room.callId);
    for (const session of adopted.keys()) {
      if (!room.isOn(session) || [...rooms.values()].some((other) => other.isOn(session))) continue;
      adopted.delete(session);
      void session.close();
    }
  };

  const connect = async (): Promise<Connection> => {
    let session: JanusSession | undefined;
    try {
      session = await JanusSession.open(
        sessionOptions((reason, lostSession) => {
          connecting = undefined;
          lost(lostSession, reason);
        }),
      );
      return { session, control: await session.attach(VIDEOROOM, () => undefined) };
    } catch (error) {
      connecting = undefined;
      await session?.close();
      throw error;
    }
  };

  const connection = (): Promise<Connection> => {
    connecting ??= connect();
    return connecting;
  };

  return {
    async create(callId, { maxParticipants, onEvent }): Promise<SfuRoom> {
      if (rooms.has(callId)) throw new SfuError('refused', { reason: `call ${callId} has a room already` });
      const { session, control } = await connection();
      const keys = roomKeys(keySecret, callId);
      await control.message({
        request: 'create',
        room: keys.room,
        permanent: false,
        is_private: true,
        secret: keys.secret,
        pin: keys.pin,
        ...(options.adminKey ? { admin_key: options.adminKey } : {}),
        publishers: maxParticipants,
        audiocodec: 'opus',
        videocodec: 'vp8',
        notify_joining: false,
      });
      const room: JanusRoom = new JanusRoom(callId, keys, session, control, onEvent, () => forget(room));
      rooms.set(callId, room);
      return room;
    },

    async destroyLeftover(callId): Promise<void> {
      const { control } = await connection();
      const { room, secret } = roomKeys(keySecret, callId);
      await control.message({ request: 'destroy', room, secret }).catch((error: unknown) => {
        if (!(error instanceof SfuError && error.janus?.code === NO_SUCH_ROOM)) throw error;
      });
    },

    async release(): Promise<SfuHandover | undefined> {
      const own = await connecting?.catch(() => undefined);
      connecting = undefined;
      const sessions = [...(own ? [[own.session, own.control] as const] : []), ...adopted];
      adopted.clear();
      const handover: JanusHandover = { sessions: [] };
      for (const [session, control] of sessions) {
        const on = [...rooms.values()].filter((room) => room.isOn(session));
        if (on.length === 0) {
          await session.close();
          continue;
        }
        handover.sessions.push({ id: session.id, control: control.id, rooms: on.map((room) => room.release()) });
        session.release();
      }
      return handover.sessions.length > 0 ? handover : undefined;
    },

    async adopt(handover, onEvent): Promise<SfuRoom[]> {
      const resumed = await Promise.all(
        (handover as JanusHandover).sessions.map(async (entry) => ({ ...entry, session: await JanusSession.resume(sessionOptions((reason, lostSession) => lost(lostSession, reason)), entry.id) })),
      );
      return resumed.flatMap(({ session, control, rooms: snapshots }) => {
        const controlHandle = session.handle(control, () => undefined);
        adopted.set(session, controlHandle);
        return snapshots.map((snapshot) => {
          const room: JanusRoom = JanusRoom.restore(snapshot, session, controlHandle, (event) => onEvent(snapshot.callId, event), () => forget(room));
          rooms.set(snapshot.callId, room);
          return room;
        });
      });
    },

    async close(): Promise<void> {
      await Promise.all([...rooms.values()].map((room) => room.destroy().catch(() => undefined)));
      const current = connecting;
      connecting = undefined;
      if (current) await (await current.catch(() => undefined))?.session.close();
      await Promise.all([...adopted.keys()].map((session) => session.close()));
      adopted.clear();
    },
  };
}
