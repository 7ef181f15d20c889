import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { ConversationResponse } from '../../src/protocol/conversations.js';
import { freshPgliteDataDir } from '../../test/support/databases.js';
import { registerUser, request } from '../../test/support/http.js';
import { startRelayProcess, startServerProcess, type BenchDatabase, type ServerProcess } from './server-process.js';

export interface BenchUser {
  id: string;
  /** The Socket.io handshake `auth` this user connects with. */
  auth: Record<string, unknown>;
}

/**
 * What a scenario runs against. Only the set-up differs between the real server and the relay
 * (accounts, tokens, groups); the load clients drive both the same way.
 */
export interface Target {
  name: 'server' | 'relay';
  /** The running process; replaced by `restart`. */
  process: ServerProcess;
  /** A new process on the same state (the server's database), so a figure starts from a fresh heap. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  users(count: number): Promise<BenchUser[]>;
  /** A group of `owner` and `members`; their sockets connected from now on receive its messages. */
  group(owner: BenchUser, members: BenchUser[], title: string): Promise<string>;
}

/** Registrations at once: each hashes a password (argon2id) on the server's thread pool. */
const REGISTER_CONCURRENCY = 25;
const ADD_BATCH = 100;

export async function startServerTarget(database: BenchDatabase, env: Record<string, string> = {}): Promise<Target> {
  // A copy of a migrated template (creating a PGlite cluster takes seconds), kept across restarts.
  const dataDir = database === 'pglite' ? await freshPgliteDataDir() : undefined;
  const start = () => startServerProcess(database, env, dataDir ? { dataDir } : {});
  const target: Target = {
    name: 'server',
    process: await start(),
    async restart() {
      await target.process.stop();
      target.process = await start();
    },
    async stop() {
      await target.process.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async users(count) {
      const server = target.process;
      const users: BenchUser[] = [];
      for (let start = 0; start < count; start += REGISTER_CONCURRENCY) {
        const batch = Array.from({ length: Math.min(REGISTER_CONCURRENCY, count - start) }, (_, offset) => registerUser(server.baseUrl, `Bench ${start + offset}`));
        for (const registered of await Promise.all(batch)) users.push({ id: registered.user.id, auth: { token: registered.accessToken } });
      }
      return users;
    },
    async group(owner, members, title) {
      const groupRequest = async (token: string, method: string, path: string, body: unknown, status: number) => {
        const result = await request<ConversationResponse>(target.process.baseUrl, method, `/api/chat/groups${path}`, { token, body });
        if (result.status !== status) throw new Error(`${method} /api/chat/groups${path}: ${result.status} ${JSON.stringify(result.body)}`);
        return result.body.conversation.id;
      };
      const token = owner.auth['token'] as string;
      const ids = members.map((member) => member.id);
      // The creator is one of the first hundred.
      const id = await groupRequest(token, 'POST', '', { title, memberIds: ids.slice(0, ADD_BATCH - 1) }, 201);
      for (let start = ADD_BATCH - 1; start < ids.length; start += ADD_BATCH) {
        await groupRequest(token, 'POST', `/${id}/members`, { userIds: ids.slice(start, start + ADD_BATCH) }, 200);
      }
      return id;
    },
  };
  return target;
}

export async function startRelayTarget(): Promise<Target> {
  const target: Target = {
    name: 'relay',
    process: await startRelayProcess(),
    async restart() {
      await target.process.stop();
      target.process = await startRelayProcess();
    },
    stop: async () => void (await target.process.stop()),
    async users(count) {
      return Array.from({ length: count }, () => {
        const id = randomUUID();
        return { id, auth: { userId: id, groups: [] as string[] } };
      });
    },
    async group(owner, members) {
      const id = randomUUID();
      for (const member of [owner, ...members]) (member.auth['groups'] as string[]).push(id);
      return id;
    },
  };
  return target;
}
