import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../../shared/logger.js';
import { JanusRoom, VIDEOROOM } from './janus-room.js';
import { JanusSession, type JanusHandle } from './janus-session.js';
import { SfuError } from './sfu-error.js';
import type { SfuLostReason, SfuRoom, SfuRooms } from './sfu-rooms.js';

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

/** Room ids are random below 2^48 (Janus's ids are integers; JSON numbers are exact there). */
const ROOM_ID_LIMIT = 2 ** 48;

interface Connection {
  session: JanusSession;
  /** A handle for room-level requests (create, destroy). */
  control: JanusHandle;
}

/**
 * SfuRooms on Janus's videoroom plugin: one session, opened on the first create() and again after it is
 * lost, holding one control handle and the handles of every room's participants. Rooms are private:
 * a random id, a secret to destroy them and a pin to join them, all known only to this server, and
 * `is_private` so they are never listed.
 */
export function createJanusRooms(options: JanusRoomsOptions): SfuRooms {
  const rooms = new Map<string, JanusRoom>();
  let connecting: Promise<Connection> | undefined;

  const connect = async (): Promise<Connection> => {
    let session: JanusSession | undefined;
    try {
      session = await JanusSession.open({
        url: options.url,
        apiSecret: options.apiSecret,
        logger: options.logger,
        requestTimeoutMs: options.requestTimeoutMs,
        keepaliveMs: options.keepaliveMs,
        unreachableAfterMs: options.unreachableAfterMs,
        onLost: (reason) => {
          connecting = undefined;
          const callIds = [...rooms.keys()];
          rooms.clear();
          options.onLost({ reason, callIds });
        },
      });
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
      const keys = { room: randomInt(1, ROOM_ID_LIMIT), secret: randomBytes(24).toString('base64url'), pin: randomBytes(24).toString('base64url') };
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
      const room: JanusRoom = new JanusRoom(callId, keys, session, control, onEvent, () => {
        if (rooms.get(callId) === room) rooms.delete(callId);
      });
      rooms.set(callId, room);
      return room;
    },

    async close(): Promise<void> {
      await Promise.all([...rooms.values()].map((room) => room.destroy().catch(() => undefined)));
      const current = connecting;
      connecting = undefined;
      if (current) await (await current.catch(() => undefined))?.session.close();
    },
  };
}
