import type { ChatMessageEvent, HistoryResponse, MessageDto } from '../../src/protocol/chat.js';
import type { AckResponse } from '../../src/protocol/ack.js';
import { newId } from '../../src/shared/ids.js';
import type { MessageRecord, NewMessage, Storage } from '../../src/storage/ports.js';
import { registerUser, request } from './http.js';
import { connectSocket, emitAck, type ClientSocket } from './sockets.js';

/** A registered user with some connected devices (sockets sharing one session). */
export interface ChatUser {
  id: string;
  name: string;
  email: string;
  token: string;
  devices: ClientSocket[];
}

export async function chatUser(baseUrl: string, name: string, devices = 1): Promise<ChatUser> {
  const registered = await registerUser(baseUrl, name);
  const sockets = await Promise.all(Array.from({ length: devices }, () => connectSocket(baseUrl, registered.accessToken)));
  return { id: registered.user.id, name, email: registered.email, token: registered.accessToken, devices: sockets };
}

export function device(user: ChatUser, index = 0): ClientSocket {
  const socket = user.devices[index];
  if (!socket) throw new Error(`${user.name} has no device ${index}`);
  return socket;
}

export type SendAck = AckResponse<ChatMessageEvent>;

export function send(from: ClientSocket, payload: { to: string; text: string; clientMessageId?: string }): Promise<SendAck> {
  return emitAck<SendAck>(from, 'CHAT_MESSAGE', payload);
}

/** Sends and insists on success: the stored message and the sender's stream position. */
export async function sendOk(from: ClientSocket, payload: { to: string; text: string; clientMessageId?: string }): Promise<ChatMessageEvent> {
  const ack = await send(from, payload);
  if (!ack.ok) throw new Error(`CHAT_MESSAGE refused: ${JSON.stringify(ack.error)}`);
  return ack;
}

export async function history(baseUrl: string, token: string, peerId: string, query = ''): Promise<HistoryResponse> {
  const result = await request<HistoryResponse>(baseUrl, 'GET', `/api/chat/history/${peerId}${query}`, { token });
  if (result.status !== 200) throw new Error(`history: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/**
 * A round trip on `socket` with no side effect (an invalid payload, refused at once). Anything the
 * server emitted to this socket before answering arrives first, so afterwards "nothing arrived" holds.
 */
export async function roundTrip(socket: ClientSocket): Promise<void> {
  await emitAck(socket, 'CHAT_STOP_TYPING', {});
}

export const texts = (messages: MessageDto[]) => messages.map((message) => message.text);

/** The record of a new message `input` (no reply) to `recipientId`, as storage returns it: nothing changed since. */
export function storedAs(input: NewMessage, recipientId: string | null): MessageRecord {
  const { replyToId: _none, ...sent } = input;
  return { ...sent, recipientId, deliveredAt: null, readAt: null, editedAt: null, deletedAt: null, deletedBy: null, replyTo: null, reactions: [], revision: 0 };
}

/**
 * Stores a message from one user to another straight in the database, in their direct conversation
 * (created if need be): set-up for users with no socket.
 */
export async function storeMessage(storage: Storage, fromId: string, toId: string, text = 'hello', id = newId()): Promise<void> {
  const at = new Date();
  const conversationId = await storage.conversations.ensureDirect(fromId, toId, at);
  await storage.messages.create({ id, conversationId, senderId: fromId, text, clientMessageId: null, createdAt: at });
}
