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
  if (!call) throw new Error(`call ${callId} is not in history`);
  return call;
}

/**
 * A round trip on `socket` with no side effect (an invalid payload, refused at once). Anything the
 * server emitted to this socket before answering arrives first, so afterwards "nothing arrived" holds.
 */
export async function roundTrip(socket: ClientSocket): Promise<void> {
  await emitAck(socket, 'CALL_ENDED', {});
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
