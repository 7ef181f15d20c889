import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Socket } from 'socket.io-client';
import type { CallStatus } from '../../src/calls/call-state-machine.js';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { CallResult, IncomingCallEvent } from '../../src/protocol/call-events.js';
import type { CallDto, CallHistoryResponse } from '../../src/protocol/calls.js';
import { login, registerUser, request } from './http.js';
import { connectSocket, emitAck, nextEvent, type ClientSocket } from './sockets.js';

/** A registered user signed in on `devices` devices: each device its own session and socket. */
export interface CallUser {
  id: string;
  name: string;
  /** One access token per device, in the order of `devices`. */
  tokens: string[];
  devices: ClientSocket[];
}

export async function callUser(baseUrl: string, name: string, devices = 1): Promise<CallUser> {
  const registered = await registerUser(baseUrl, name);
  const tokens = [registered.accessToken];
  for (let index = 1; index < devices; index += 1) {
    tokens.push((await login(baseUrl, { email: registered.email, password: registered.password })).accessToken);
  }
  const sockets = await Promise.all(tokens.map((token) => connectSocket(baseUrl, token)));
  return { id: registered.user.id, name, tokens, devices: sockets };
}

export function device(user: CallUser, index = 0): ClientSocket {
  const socket = user.devices[index];
  if (!socket) throw new Error(`${user.name} has no device ${index}`);
  return socket;
}

export type CallAck = AckResponse<CallResult>;

/** Sends a call event and returns its acknowledgement, whatever it is. */
export function callEvent(socket: ClientSocket, event: string, payload: unknown): Promise<CallAck> {
  return emitAck<CallAck>(socket, event, payload);
}

/** Sends a call event and insists on success: the call as stored afterwards. */
export async function callEventOk(socket: ClientSocket, event: string, payload: unknown): Promise<CallDto> {
  const ack = await callEvent(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} refused: ${JSON.stringify(ack.error)}`);
  return ack.call;
}

/** The error code of a refused event; throws if it was accepted. */
export async function refusal(socket: ClientSocket, event: string, payload: unknown): Promise<string> {
  const ack = await emitAck<AckResponse>(socket, event, payload);
  if (ack.ok) throw new Error(`${event} was accepted, expected a refusal: ${JSON.stringify(ack)}`);
  return ack.error.code;
}

export const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' } as const;
/** The `n`th host candidate of a device: distinct, so the order candidates arrive in can be checked. */
export const CANDIDATE = (n: number) => ({ candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
export const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' } as const;

/** `caller` calls `callee` from its first device and waits until every device of the callee rings. */
export async function ringingCall(caller: CallUser, callee: CallUser, type: 'audio' | 'video' = 'audio'): Promise<CallDto> {
  const rings = callee.devices.map((socket) => nextEvent<IncomingCallEvent>(socket, 'CALL_REQUEST'));
  const call = await callEventOk(device(caller), 'CALL_REQUEST', { to: callee.id, type, offer: OFFER });
  await Promise.all(rings);
  return call;
}

/** A ringing call accepted by the callee's first device; resolves once the caller has the answer. */
export async function acceptedCall(caller: CallUser, callee: CallUser): Promise<CallDto> {
  const { id } = await ringingCall(caller, callee);
  const answered = nextEvent(device(caller), 'CALL_ACCEPT');
  const call = await callEventOk(device(callee), 'CALL_ACCEPT', { callId: id, answer: ANSWER });
  await answered;
  return call;
}

export async function callHistory(baseUrl: string, token: string, query = ''): Promise<CallHistoryResponse> {
  const result = await request<CallHistoryResponse>(baseUrl, 'GET', `/api/call/history${query}`, { token });
  if (result.status !== 200) throw new Error(`call history: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** The stored call `callId` as its party `token` sees it in history. */
export async function storedCall(baseUrl: string, token: string, callId: string): Promise<CallDto> {
  const { calls } = await callHistory(baseUrl, token, '?limit=100');
  const call = calls.find((candidate) => candidate.id === callId);
  if (!call || 'conversationId' in call) throw new Error(`1:1 call ${callId} is not in history`);
  return call;
}

/**
 * A round trip on `socket` with no side effect (an invalid payload, refused at once). Anything the
 * server emitted to this socket before answering arrives first, so afterwards "nothing arrived" holds.
 */
export async function roundTrip(socket: ClientSocket): Promise<void> {
  await emitAck(socket, 'CALL_ENDED', {});
}

/**
 * `socket`'s client connects again (a new connection of the same device and session, as
 * socket.io-client does once the network is back) and resolves with the first `event` it then gets.
 * The listener is in place before the connection opens: the server may send the event in the same
 * packet as the connect, before a listener added after connecting would exist.
 */
export function reconnect<T>(socket: ClientSocket, event: string, timeoutMs?: number): Promise<T> {
  const first = nextEvent<T>(socket, event, timeoutMs);
  socket.connect();
  return first;
}

/** The connection breaks the way a phone losing its network does: no goodbye, the server sees the transport close. */
export function dropConnection(socket: ClientSocket): Promise<unknown> {
  const gone = nextEvent(socket, 'disconnect');
  (socket as unknown as Socket).io.engine.close();
  return gone;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks `check` every few milliseconds until it holds; fails after `timeoutMs`, naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

export interface StorageFault {
  /** How many writes the database has refused so far. */
  attempts(): Promise<number>;
  /** Takes the fault away; safe to call more than once. */
  clear(): Promise<void>;
}

/** The tables holding call records: 1:1 calls and group calls. */
export type CallTable = 'calls' | 'group_calls';

/**
 * A real storage fault on PostgreSQL: until `clear()`, the database refuses every insert or update that
 * would give a row of `table` the call `status` (a trigger raises an error) and counts the refused attempts.
 */
export async function refuseCallStatus(db: pg.Client, table: CallTable, status: CallStatus): Promise<StorageFault> {
  const name = `refuse_${table}_${status}_${randomBytes(4).toString('hex')}`;
  await db.query(`CREATE SEQUENCE ${name}`);
  // A sequence is not transactional: the count survives the failing statement.
  await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM nextval('${name}'); RAISE EXCEPTION 'injected storage fault'; END $$`);
  await db.query(`CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW WHEN (NEW.status = '${status}') EXECUTE FUNCTION ${name}()`);
  let cleared = false;
  return {
    async attempts() {
      const { rows } = await db.query<{ n: string }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM ${name}`);
      return Number(rows[0]!.n);
    },
    async clear() {
      if (cleared) return;
      cleared = true;
      await db.query(`DROP TRIGGER ${name} ON ${table}`);
      await db.query(`DROP FUNCTION ${name}()`);
      await db.query(`DROP SEQUENCE ${name}`);
    },
  };
}
