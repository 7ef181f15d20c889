import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { ChatMessageEvent, ConversationsResponse, HistoryResponse, SyncResponse } from '../../src/protocol/chat.js';
import type { ConversationDto, ConversationResponse, MemberDto, MembersResponse } from '../../src/protocol/conversations.js';
import { newId } from '../../src/shared/ids.js';
import type { UserRecord } from '../../src/storage/ports.js';
import { assertError } from './assertions.js';
import { roundTrip, type SendAck } from './chat.js';
import type { DatabaseKind } from './databases.js';
import { request, type HttpResult } from './http.js';
import { emitAck, type ClientSocket } from './sockets.js';
import type { SuiteApp } from './test-app.js';
import { forgeAccessToken } from './tokens.js';

const api = '/api/chat';

function expectStatus<T>(result: HttpResult<T>, status: number, what: string): T {
  assert.equal(result.status, status, `${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

export async function createGroup(baseUrl: string, token: string, title: string, memberIds: readonly string[]): Promise<ConversationDto> {
  const result = await request<ConversationResponse>(baseUrl, 'POST', `${api}/groups`, { token, body: { title, memberIds } });
  return expectStatus(result, 201, 'create group').conversation;
}

export async function getConversation(baseUrl: string, token: string, conversationId: string): Promise<ConversationDto> {
  const result = await request<ConversationResponse>(baseUrl, 'GET', `${api}/conversations/${conversationId}`, { token });
  return expectStatus(result, 200, 'get conversation').conversation;
}

export async function listConversations(baseUrl: string, token: string, query = ''): Promise<ConversationsResponse> {
  const result = await request<ConversationsResponse>(baseUrl, 'GET', `${api}/conversations${query}`, { token });
  return expectStatus(result, 200, 'list conversations');
}

export async function conversationMessages(baseUrl: string, token: string, conversationId: string, query = ''): Promise<HistoryResponse> {
  const result = await request<HistoryResponse>(baseUrl, 'GET', `${api}/conversations/${conversationId}/messages${query}`, { token });
  return expectStatus(result, 200, 'conversation messages');
}

/** Every member, page by page through the members endpoint; `pages` counts the requests it took. */
export async function allMembers(baseUrl: string, token: string, conversationId: string, limit = 100): Promise<{ members: MemberDto[]; pages: number }> {
  const members: MemberDto[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const query: string = `?limit=${limit}${after ? `&after=${after}` : ''}`;
    const result = await request<MembersResponse>(baseUrl, 'GET', `${api}/conversations/${conversationId}/members${query}`, { token });
    const page = expectStatus(result, 200, 'members');
    assert.ok(page.members.length <= limit, `a page of ${limit} held ${page.members.length}`);
    members.push(...page.members);
    pages += 1;
    after = page.nextCursor;
  } while (after);
  return { members, pages };
}

export async function addMembers(baseUrl: string, token: string, conversationId: string, userIds: readonly string[]): Promise<ConversationDto> {
  const result = await request<ConversationResponse>(baseUrl, 'POST', `${api}/groups/${conversationId}/members`, { token, body: { userIds } });
  return expectStatus(result, 200, 'add members').conversation;
}

export async function setRole(baseUrl: string, token: string, conversationId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
  const result = await request(baseUrl, 'PATCH', `${api}/groups/${conversationId}/members/${userId}`, { token, body: { role } });
  expectStatus(result, 200, `make ${userId} ${role}`);
}

/** DELETE of a membership as it answers: 200 `{ conversation }` for a removal, 204 for the one who left. */
export function removeMember(baseUrl: string, token: string, conversationId: string, userId: string): Promise<HttpResult<ConversationResponse>> {
  return request<ConversationResponse>(baseUrl, 'DELETE', `${api}/groups/${conversationId}/members/${userId}`, { token });
}

export async function leave(baseUrl: string, token: string, conversationId: string, userId: string): Promise<void> {
  const result = await removeMember(baseUrl, token, conversationId, userId);
  expectStatus(result, 204, 'leave');
  assert.equal(result.body, undefined, 'a 204 has no body');
}

/** The conversation as events carry it: what every member shares (no unreadCount, no peer). */
export function shared(conversation: ConversationDto): Omit<ConversationDto, 'unreadCount' | 'peer'> {
  const { unreadCount: _unread, peer: _peer, ...rest } = conversation;
  return rest;
}

export const memberIds = (conversation: { members: MemberDto[] }) => conversation.members.map((member) => member.userId).sort();
export const roleOf = (conversation: { members: MemberDto[] }, userId: string) => conversation.members.find((member) => member.userId === userId)?.role;
export const sorted = (ids: readonly string[]) => [...ids].sort();

export async function sync(baseUrl: string, token: string, after?: string, limit?: number): Promise<SyncResponse> {
  const query = new URLSearchParams();
  if (after !== undefined) query.set('after', after);
  if (limit !== undefined) query.set('limit', String(limit));
  return expectStatus(await request<SyncResponse>(baseUrl, 'GET', `${api}/sync?${query}`, { token }), 200, 'sync');
}

/** Where a device that syncs now starts (sync without `after`). */
export async function syncHead(baseUrl: string, token: string): Promise<string> {
  return (await sync(baseUrl, token)).cursor;
}

export type SyncedChanges = Omit<SyncResponse, 'hasMore'> & { pages: number };

/** Every page of changes after `after`, concatenated as they came (nothing merged, so a repeat shows). */
export async function syncAll(baseUrl: string, token: string, after: string, limit?: number): Promise<SyncedChanges> {
  const all: SyncedChanges = { messages: [], conversations: [], reads: [], left: [], hidden: [], cursor: after, pages: 0 };
  for (;;) {
    const page = await sync(baseUrl, token, all.cursor, limit);
    all.messages.push(...page.messages);
    all.conversations.push(...page.conversations);
    all.reads.push(...page.reads);
    all.left.push(...page.left);
    all.hidden.push(...page.hidden);
    all.cursor = page.cursor;
    all.pages += 1;
    if (!page.hasMore) return all;
    if (all.pages > 1000) throw new Error('sync never ends');
  }
}

export interface ConversationSend {
  conversationId: string;
  text: string;
  clientMessageId?: string;
  /** The message this one answers. */
  replyTo?: string;
}

export function sendTo(from: ClientSocket, payload: ConversationSend): Promise<SendAck> {
  return emitAck<SendAck>(from, 'CHAT_MESSAGE', payload);
}

/** Sends into a conversation by id and insists on success. */
export async function sendToOk(from: ClientSocket, payload: ConversationSend): Promise<ChatMessageEvent> {
  const ack = await sendTo(from, payload);
  if (!ack.ok) throw new Error(`CHAT_MESSAGE refused: ${JSON.stringify(ack.error)}`);
  return ack;
}

/** The error code of a refused socket event; fails if it was accepted. */
async function refusedWith(socket: ClientSocket, event: string, payload: unknown): Promise<string> {
  const ack = await emitAck<AckResponse>(socket, event, payload);
  assert.equal(ack.ok, false, `${event} ${JSON.stringify(payload)} was accepted: ${JSON.stringify(ack)}`);
  return ack.ok ? '' : ack.error.code;
}

/** Resolves with the next `event` on `socket` whose payload `matches`; rejects after `timeoutMs`. */
export function nextMatching<T>(socket: ClientSocket, event: string, matches: (payload: T) => boolean, timeoutMs = 5000): Promise<T> {
  const untyped = socket as unknown as Socket;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      untyped.off(event, listener);
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      untyped.off(event, listener);
      resolve(payload);
    };
    untyped.on(event, listener);
  });
}

/** The conversation a server event is about, or undefined for events that are about none. */
function conversationOf(event: string, payload: any): string | undefined {
  if (payload?.message) return payload.message.conversationId;
  if (event === 'CONVERSATION_UPDATED') return payload?.conversation?.id;
  return payload?.conversationId;
}

export interface EventLog {
  socket: ClientSocket;
  entries: { event: string; payload: any }[];
  /** The payloads of `event` about `conversationId`, in arrival order. */
  of<T = any>(event: string, conversationId: string): T[];
  /** Every event about `conversationId`, by name, in arrival order. */
  about(conversationId: string): { event: string; payload: any }[];
}

/** Records every server event `socket` receives from now on. */
export function eventLog(socket: ClientSocket): EventLog {
  const entries: { event: string; payload: any }[] = [];
  (socket as unknown as Socket).onAny((event: string, payload: unknown) => entries.push({ event, payload }));
  const about = (conversationId: string) => entries.filter((entry) => conversationOf(entry.event, entry.payload) === conversationId);
  return {
    socket,
    entries,
    about,
    of: (event, conversationId) => about(conversationId).filter((entry) => entry.event === event).map((entry) => entry.payload),
  };
}

/** A round trip on each socket: whatever the server sent them before has arrived afterwards. */
export async function settle(sockets: readonly ClientSocket[]): Promise<void> {
  await Promise.all(sockets.map(roundTrip));
}

/** After settling, asserts that none of `logs` received anything about `conversationId` (besides `allowed` events). */
export async function assertNothingAbout(logs: readonly EventLog[], conversationId: string, what: string, allowed: readonly string[] = []): Promise<void> {
  await settle(logs.map((log) => log.socket));
  for (const log of logs) {
    const seen = log.about(conversationId).filter((entry) => !allowed.includes(entry.event));
    assert.deepEqual(seen, [], `${what}: got ${JSON.stringify(seen)}`);
  }
}

/** Every REST request of the conversation surface, made by `callerId` about member `memberId` and outsider `outsiderId`. */
function conversationRequests(conversationId: string, ids: { callerId: string; memberId: string; outsiderId: string }) {
  return [
    { method: 'GET', path: `${api}/conversations/${conversationId}` },
    { method: 'GET', path: `${api}/conversations/${conversationId}/members` },
    { method: 'GET', path: `${api}/conversations/${conversationId}/messages` },
    { method: 'PATCH', path: `${api}/groups/${conversationId}`, body: { title: 'taken over' } },
    { method: 'POST', path: `${api}/groups/${conversationId}/members`, body: { userIds: [ids.outsiderId] } },
    { method: 'POST', path: `${api}/groups/${conversationId}/members`, body: { userIds: [ids.callerId] } },
    { method: 'PATCH', path: `${api}/groups/${conversationId}/members/${ids.memberId}`, body: { role: 'admin' } },
    { method: 'PATCH', path: `${api}/groups/${conversationId}/members/${ids.callerId}`, body: { role: 'admin' } },
    { method: 'DELETE', path: `${api}/groups/${conversationId}/members/${ids.memberId}` },
    { method: 'DELETE', path: `${api}/groups/${conversationId}/members/${ids.callerId}` },
  ];
}

/** Every socket event that acts in a conversation, about its message `messageId`. */
function conversationEvents(conversationId: string, messageId: string): [event: string, payload: unknown][] {
  return [
    ['CHAT_MESSAGE', { conversationId, text: 'let me in' }],
    ['CHAT_MESSAGE', { conversationId, text: 'let me in', clientMessageId: randomUUID() }],
    ['CHAT_TYPING', { conversationId }],
    ['CHAT_STOP_TYPING', { conversationId }],
    ['MESSAGE_READ', { messageId }],
    ['MESSAGE_DELIVERED', { messageId }],
  ];
}

/**
 * Asserts that `caller` is a stranger to the conversation: 404 NOT_FOUND on every REST path, NOT_FOUND
 * on every socket event, and the conversation is in none of their lists.
 */
export async function assertNoAccess(
  baseUrl: string,
  caller: { id: string; token: string; socket: ClientSocket },
  conversationId: string,
  known: { memberId: string; outsiderId: string; messageId: string },
): Promise<void> {
  for (const { method, path: route, body } of conversationRequests(conversationId, { callerId: caller.id, ...known })) {
    const result = await request(baseUrl, method, route, { token: caller.token, ...(body ? { body } : {}) });
    assert.equal(result.status, 404, `${method} ${route} by a stranger: ${result.status} ${JSON.stringify(result.body)}`);
    assertError(result, 404, 'NOT_FOUND');
  }
  for (const [event, payload] of conversationEvents(conversationId, known.messageId)) {
    assert.equal(await refusedWith(caller.socket, event, payload), 'NOT_FOUND', `${event} ${JSON.stringify(payload)}`);
  }
  const listed = await listConversations(baseUrl, caller.token, '?limit=100');
  assert.ok(!listed.conversations.some((conversation) => conversation.id === conversationId), 'not in the conversation list');
}

/** Users made straight in storage (no password to check, no registration budget): set-up for big groups. */
export async function storedUsers(server: SuiteApp, count: number, name = 'Member'): Promise<UserRecord[]> {
  const users: UserRecord[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, index) =>
      server.app.storage.users.create({
        id: newId(),
        email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
        name: `${name} ${start + index}`,
        passwordHash: `$argon2id$unusable$${randomUUID()}`,
        createdAt: new Date(),
      }),
    );
    for (const user of await Promise.all(batch)) {
      if (!user) throw new Error('a stored user could not be created');
      users.push(user);
    }
  }
  return users;
}

/** An access token for a user made in storage: a session of theirs, and a token signed as the server signs. */
export async function mintAccessToken(server: SuiteApp, userId: string): Promise<string> {
  const now = new Date();
  const session = await server.app.storage.sessions.create(
    { id: newId(), userId, deviceName: 'test device', userAgent: null, ip: null, createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) },
    randomUUID(),
  );
  return forgeAccessToken({ sub: userId, sid: session.id, issuer: server.config.jwt.issuer, audience: server.config.jwt.audience, exp: Math.floor(now.getTime() / 1000) + 3600 });
}

/** Where an app's database is: its PostgreSQL server, or the PGlite data dir. */
export interface DatabaseLocation {
  kind: DatabaseKind;
  databaseUrl: string | undefined;
  dataDir: string;
}

type Query = <Row>(text: string, params?: unknown[]) => Promise<Row[]>;

/**
 * Runs `use` with a query function on the database at `location`. PGlite takes one connection, so the
 * app on it must be stopped: its data dir is opened directly.
 */
async function withDatabase<T>(location: DatabaseLocation, use: (query: Query) => Promise<T>): Promise<T> {
  if (location.kind === 'postgres') {
    const client = new pg.Client({ connectionString: location.databaseUrl });
    await client.connect();
    try {
      return await use(async (text, params) => (await client.query(text, params)).rows);
    } finally {
      await client.end();
    }
  }
  const db = await PGlite.create(path.join(location.dataDir, 'pglite'));
  try {
    return await use(async <Row>(text: string, params?: unknown[]) => (await db.query<Row>(text, params)).rows);
  } finally {
    await db.close();
  }
}

const tablesQuery = `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`;

/** The number of rows in every table of a database (with the app on PGlite stopped). */
export function tableRowCounts(location: DatabaseLocation): Promise<Map<string, number>> {
  return withDatabase(location, async (query) => {
    const counts = new Map<string, number>();
    for (const { table_name } of await query<{ table_name: string }>(tablesQuery)) {
      counts.set(table_name, Number((await query<{ n: string | number }>(`select count(*) as n from "${table_name}"`))[0]!.n));
    }
    return counts;
  });
}

/** The tables with a row that holds `needle` anywhere in it (every column, as text), with the app on PGlite stopped. */
export function tablesHolding(location: DatabaseLocation, needle: string): Promise<string[]> {
  return withDatabase(location, async (query) => {
    const holding: string[] = [];
    for (const { table_name } of await query<{ table_name: string }>(tablesQuery)) {
      const [found] = await query<{ found: boolean }>(`select exists (select 1 from "${table_name}" t where strpos(t::text, $1) > 0) as found`, [needle]);
      if (found!.found) holding.push(table_name);
    }
    return holding;
  });
}

/** For each needle, how many rows of `table` hold it anywhere (every column, as text), with the app on PGlite stopped. */
export function rowsHolding(location: DatabaseLocation, table: string, needles: readonly string[]): Promise<Map<string, number>> {
  return withDatabase(location, async (query) => {
    const counts = new Map<string, number>();
    for (const needle of needles) {
      const [row] = await query<{ n: number }>(`select count(*)::int as n from "${table}" t where strpos(t::text, $1) > 0`, [needle]);
      counts.set(needle, row!.n);
    }
    return counts;
  });
}

/** Rows of the messages table by id, as stored (with the app on PGlite stopped). */
export function storedMessageRows(location: DatabaseLocation, ids: readonly string[]): Promise<Record<string, unknown>[]> {
  return withDatabase(location, (query) => query(`select * from messages where id = any($1::uuid[]) order by id`, [ids]));
}
