// temporary micro-benchmark (not part of the repo): storage-level create throughput
import { randomUUID } from 'node:crypto';
import { newId } from './src/shared/ids.js';
import { createLogger } from './src/shared/logger.js';
import { openPostgresStorage } from './src/storage/postgres/postgres-storage.js';
import { freshPgliteDataDir } from './test/support/databases.js';

const url = process.env['DATABASE_URL'];
const dataDir = url ? '/nonexistent' : await freshPgliteDataDir();
const storage = await openPostgresStorage({ databaseUrl: url, dataDir, logger: createLogger({ level: 'silent', pretty: false }) });
const PAIRS = Number(process.env['PAIRS'] ?? 50);
const WINDOW = Number(process.env['WINDOW'] ?? 4);
const PER = Number(process.env['PER'] ?? 200);
const senders: { id: string; to: string; conv: string }[] = [];
for (let i = 0; i < PAIRS; i++) {
  const [a, b] = await Promise.all([0, 1].map(() => storage.users.create({ id: newId(), email: `${randomUUID()}@x.com`, name: 'x', passwordHash: 'x', createdAt: new Date() })));
  const conv = await storage.conversations.ensureDirect(a!.id, b!.id, new Date());
  senders.push({ id: a!.id, to: b!.id, conv }, { id: b!.id, to: a!.id, conv });
}
const lat: number[] = [];
const started = performance.now();
await Promise.all(senders.flatMap((s) => Array.from({ length: WINDOW }, async (_, lane) => {
  for (let n = lane; n < PER; n += WINDOW) {
    const t = performance.now();
    const r = await storage.messages.create({ id: newId(), conversationId: s.conv, senderId: s.id, recipientId: s.to, text: `hello ${n}`, clientMessageId: randomUUID(), createdAt: new Date() });
    if (r.outcome !== 'stored') throw new Error('not stored');
    lat.push(performance.now() - t);
  }
})));
const secs = (performance.now() - started) / 1000;
lat.sort((x, y) => x - y);
const cpu = process.cpuUsage();
console.log(JSON.stringify({ backend: url ? 'postgres' : 'pglite', rows: lat.length, perSecond: Math.round(lat.length / secs), p50: lat[Math.floor(lat.length / 2)]!.toFixed(1), p99: lat[Math.floor(lat.length * 0.99)]!.toFixed(1), nodeCpuUsPerRow: Math.round((cpu.user + cpu.system) / lat.length) }));
await storage.close();
