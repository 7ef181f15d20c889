import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { ChatMessageEvent, MessageDto } from '../../src/protocol/chat.js';
import type { EncryptedContent } from '../../src/protocol/encrypted.js';
import type { ToDeviceMessageDto, ToDeviceSendResponse } from '../../src/protocol/keys.js';
import type { DatabaseLocation } from './groups.js';
import { login, PASSWORD, request } from './http.js';
import { claimBundles, registerDevice } from './keys.js';
import { SignalDevice } from './signal-device.js';
import { connectSocket, emitAck, type ClientSocket } from './sockets.js';

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A signed-in app with its own session, its connected socket and a libsignal device registered for the session. */
export interface E2eeDevice {
  keys: SignalDevice;
  token: string;
  socket: ClientSocket;
  userId: string;
  deviceId: string;
}

export async function e2eeDevice(baseUrl: string, user: { id: string; email: string }, deviceId: number, oneTimePreKeys = 5): Promise<E2eeDevice> {
  const session = await login(baseUrl, { email: user.email, password: PASSWORD });
  const keys = new SignalDevice(user.id, deviceId);
  await registerDevice(baseUrl, session.accessToken, keys.registration(oneTimePreKeys));
  const socket = await connectSocket(baseUrl, session.accessToken);
  return { keys, token: session.accessToken, socket, userId: user.id, deviceId: String(deviceId) };
}

/** Starts sessions, from bundles claimed through the directory, with every device of `userId` it has none with yet. */
export async function ensureSessions(baseUrl: string, from: E2eeDevice, userId: string): Promise<void> {
  const { devices } = (await request(baseUrl, 'GET', `/api/keys/users/${userId}/devices`, { token: from.token })).body as { devices: { deviceId: string }[] };
  const missing = devices.map((entry) => entry.deviceId).filter((id) => !(userId === from.userId && id === from.deviceId) && !from.keys.hasSession(userId, id));
  if (missing.length === 0) return;
  for (const bundle of await claimBundles(baseUrl, from.token, userId, missing)) await from.keys.startSession(bundle);
}

/** An encrypted payload with one Signal ciphertext per device of `recipients` (sessions must exist). */
export async function encryptFor(from: E2eeDevice, recipients: readonly { userId: string; deviceId: string }[], plaintext: string): Promise<EncryptedContent> {
  const ciphertexts = [];
  for (const { userId, deviceId } of recipients) {
    const ciphertext = await from.keys.encrypt(signalAddress(userId, deviceId), utf8.encode(plaintext));
    ciphertexts.push({ userId, deviceId, ...ciphertext });
  }
  return { scheme: 'signal', senderDeviceId: from.deviceId, ciphertexts };
}

const signalAddress = (userId: string, deviceId: string) => new SignalDevice(userId, Number(deviceId)).address;

/** Decrypts the ciphertext of a received message addressed to this device. */
export async function decryptMine(device: E2eeDevice, message: MessageDto): Promise<string> {
  const encrypted = message.encrypted;
  if (!encrypted?.ciphertexts) throw new Error(`message ${message.id} carries no per-device ciphertexts`);
  const mine = encrypted.ciphertexts.find((entry) => entry.userId === device.userId && entry.deviceId === device.deviceId);
  if (!mine) throw new Error(`message ${message.id} has no ciphertext for ${device.userId}.${device.deviceId}`);
  return text(await device.keys.decrypt(message.from, encrypted.senderDeviceId, mine));
}

export async function sendEncrypted(from: E2eeDevice, target: { to: string } | { conversationId: string }, encrypted: EncryptedContent, clientMessageId?: string): Promise<MessageDto> {
  const ack = await emitAck<AckResponse<ChatMessageEvent>>(from.socket, 'CHAT_MESSAGE', { ...target, encrypted, ...(clientMessageId ? { clientMessageId } : {}) });
  if (!ack.ok) throw new Error(`encrypted CHAT_MESSAGE refused: ${JSON.stringify(ack.error)}`);
  return ack.message;
}

/** Sends to-device messages and insists that every one was queued. */
export async function sendToDevices(baseUrl: string, from: E2eeDevice, messages: { userId: string; deviceId: string; type: number; body: string }[]): Promise<string[]> {
  const result = await request<ToDeviceSendResponse>(baseUrl, 'POST', '/api/keys/to-device', { token: from.token, body: { messages } });
  if (result.status !== 200) throw new Error(`to-device send failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.results.map((entry) => {
    if (!entry.queued) throw new Error(`to-device message not queued: ${entry.reason}`);
    return entry.id;
  });
}

export async function pendingToDevice(baseUrl: string, device: E2eeDevice): Promise<ToDeviceMessageDto[]> {
  return (await request<{ messages: ToDeviceMessageDto[] }>(baseUrl, 'GET', '/api/keys/to-device', { token: device.token })).body.messages;
}

/**
 * The tables in which any of `phrases` appears in any row (each row read as text). PGlite takes one
 * connection, so the app on it must be stopped: its data dir is opened directly.
 */
export async function tablesContaining(location: DatabaseLocation, phrases: readonly string[]): Promise<string[]> {
  const tablesQuery = `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`;
  const search = (table: string) => `select count(*) as n from "${table}" t where ${phrases.map((_, i) => `t::text like $${i + 1}`).join(' or ')}`;
  const patterns = phrases.map((phrase) => `%${phrase}%`);
  const found: string[] = [];
  if (location.kind === 'postgres') {
    const client = new pg.Client({ connectionString: location.databaseUrl });
    await client.connect();
    try {
      for (const { table_name } of (await client.query<{ table_name: string }>(tablesQuery)).rows) {
        if (Number((await client.query<{ n: string }>(search(table_name), patterns)).rows[0]!.n) > 0) found.push(table_name);
      }
    } finally {
      await client.end();
    }
    return found;
  }
  const db = await PGlite.create(path.join(location.dataDir, 'pglite'));
  try {
    for (const { table_name } of (await db.query<{ table_name: string }>(tablesQuery)).rows) {
      if (Number((await db.query<{ n: string | number }>(search(table_name), patterns)).rows[0]!.n) > 0) found.push(table_name);
    }
  } finally {
    await db.close();
  }
  return found;
}
