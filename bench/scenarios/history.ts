import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { io } from 'socket.io-client';
import { freshPgliteDataDir } from '../../test/support/databases.js';
import { registerUser } from '../../test/support/http.js';
import { createScratchDatabase } from '../../test/support/scratch-database.js';
import { type Scenario } from '../support/scenario.js';
import { startServerProcess, type BenchDatabase, type ServerProcess } from '../support/server-process.js';
import { percentile, round } from '../support/stats.js';

const PAGE = 50;
const WARMUP_REQUESTS = 10;

/**
 * Adds messages numbered (from, to] to a direct conversation, older than the one real message in it,
 * alternating its two users, in one statement. Ids are UUIDv7-shaped from the timestamps, as the
 * server's own ids are; the change position comes from the column defaults.
 */
const insertStatement = (conversationId: string, a: string, b: string, from: number, to: number) => `
  insert into messages (id, conversation_id, sender_id, recipient_id, text, created_at)
  select (lpad(to_hex((extract(epoch from g.at) * 1000)::bigint), 12, '0') || '7' || substr(g.h, 1, 3) || '8' || substr(g.h, 4, 15))::uuid,
    '${conversationId}', case when g.i % 2 = 0 then '${a}'::uuid else '${b}'::uuid end, case when g.i % 2 = 0 then '${b}'::uuid else '${a}'::uuid end,
    'stored message number ' || g.i, g.at
  from (select i, now() - interval '1 hour' - i * interval '1 millisecond' as at, md5(i::text || random()::text) as h
        from generate_series(${from + 1}, ${to}) i) g`;

/** The database of one history run, which outlives its server processes. */
interface Store {
  start(): Promise<ServerProcess>;
  execute(statement: string): Promise<void>;
  drop(): Promise<void>;
}

async function openStore(database: BenchDatabase): Promise<Store> {
  if (database === 'postgres') {
    const scratch = await createScratchDatabase('call_app_bench_history');
    return {
      start: () => startServerProcess(database, { DATABASE_URL: scratch.url }),
      async execute(statement) {
        const client = new pg.Client({ connectionString: scratch.url });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      },
      drop: () => scratch.drop(),
    };
  }
  const dataDir = await freshPgliteDataDir();
  return {
    start: () => startServerProcess(database, {}, { dataDir }),
    // The server is stopped meanwhile: PGlite's files are opened by one process at a time.
    async execute(statement) {
      const db = await PGlite.create(path.join(dataDir, 'pglite'));
      try {
        await db.exec(statement);
      } finally {
        await db.close();
      }
    },
    drop: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export const historyPage: Scenario = {
  name: 'history',
  description: `a ${PAGE}-message history page (GET /api/chat/conversations/:id/messages) with few and with many messages stored`,
  againstRelay: false,
  // Three server starts and a million-row insert: once is enough for figures that need no baseline.
  rounds: 1,
  async run(context) {
    const { sizes, database, loads } = context;
    const [small, large] = sizes.history[database];
    const store = await openStore(database);
    let server = await store.start();
    try {
      const [a, b] = await Promise.all([registerUser(server.baseUrl, 'History A'), registerUser(server.baseUrl, 'History B')]);
      const socket = io(server.baseUrl, { auth: { token: a.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
      const ack = (await socket.timeout(10_000).emitWithAck('CHAT_MESSAGE', { to: b.user.id, text: 'the newest message' })) as { message: { conversationId: string } };
      socket.disconnect();
      const conversationId = ack.message.conversationId;
      const figures: Record<string, number> = {};
      let stored = 1;
      for (const count of [small, large]) {
        await server.stop();
        await store.execute(insertStatement(conversationId, a.user.id, b.user.id, stored, count));
        stored = count;
        server = await store.start();
        const url = `${server.baseUrl}/api/chat/conversations/${conversationId}/messages?limit=${PAGE}`;
        await loads[0]!.run({ type: 'gets', url, token: a.accessToken, count: WARMUP_REQUESTS });
        const { requestMs, failures } = await loads[0]!.run<{ requestMs: number[]; failures: number }>({ type: 'gets', url, token: a.accessToken, count: sizes.history.requests });
        if (failures > 0) throw new Error(`${failures} history requests failed`);
        figures[`page p50 ms, ${count.toLocaleString('en')} stored`] = round(percentile(requestMs, 50));
        figures[`page p99 ms, ${count.toLocaleString('en')} stored`] = round(percentile(requestMs, 99));
      }
      return figures;
    } finally {
      await server.stop();
      await store.drop();
    }
  },
};
