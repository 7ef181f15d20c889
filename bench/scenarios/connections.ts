import { setTimeout as sleep } from 'node:timers/promises';
import { connectAll, disconnectAll, type Scenario } from '../support/scenario.js';
import { round } from '../support/stats.js';

export const idleConnections: Scenario = {
  name: 'connections',
  description: 'idle authenticated sockets: connection setup with handshake auth, and resident memory per socket',
  againstRelay: true,
  async run(context) {
    const { sizes, users, loads, target } = context;
    const shares = loads.map(() => [] as Record<string, unknown>[]);
    for (let n = 0; n < sizes.idleSockets; n += 1) shares[n % loads.length]!.push(users[n % users.length]!.auth);
    // In a new process: one that carried the chat load keeps that heap, and new sockets would fit into it.
    if (sizes.freshProcess) await target.restart();
    await sleep(sizes.settleMs);
    const rssBefore = await target.process.rss();
    const connectMs = await connectAll(context, shares);
    await sleep(sizes.settleMs);
    const rssAfter = await target.process.rss();
    await disconnectAll(context);
    await sleep(sizes.settleMs);
    return {
      'connections/s': round(sizes.idleSockets / (connectMs / 1000)),
      [`RSS per idle socket KB (${sizes.idleSockets} sockets)`]: round((rssAfter - rssBefore) / sizes.idleSockets / 1024),
    };
  },
};
