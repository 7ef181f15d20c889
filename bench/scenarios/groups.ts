import type { SendResult } from '../support/load-commands.js';
import { connectAll, disconnectAll, type Scenario, type ScenarioContext } from '../support/scenario.js';
import { round } from '../support/stats.js';
import { merge } from './chat.js';

/** `connected` first members of a group on the first load client; `senders` of them send, each with `window` unacknowledged. */
async function groupRun(context: ScenarioContext, conversationId: string, connected: number, senders: number, window: number, tag: string) {
  const { sizes, users, loads } = context;
  await connectAll(context, [users.slice(0, connected).map((user) => user.auth)]);
  const result = await loads[0]!.run<SendResult>({
    type: 'send',
    tag,
    senders: Array.from({ length: senders }, (_, socket) => ({ socket, target: { conversationId } })),
    receivers: connected - 1,
    window,
    warmupMs: sizes.shortWarmupMs,
    measureMs: sizes.shortMeasureMs,
    drainMs: 10_000,
  });
  await disconnectAll(context);
  return merge([result]);
}

export const groupFanout: Scenario = {
  name: 'groups',
  description: 'a busy group (every member sending) and fan-out in a large group (its owner sending one at a time): send -> last receiver',
  againstRelay: true,
  async run(context) {
    const { sizes, groups } = context;
    const busy = await groupRun(context, groups.busy, sizes.busyGroupMembers, sizes.busyGroupMembers, sizes.busyGroupWindow, 'busy');
    const fanout = await groupRun(context, groups.fanout, sizes.fanoutConnected, 1, 1, 'fanout');
    const busyLabel = `busy ${sizes.busyGroupMembers}-member group`;
    const fanoutLabel = `${sizes.fanoutGroupMembers}-member group, ${sizes.fanoutConnected} connected`;
    return {
      [`${busyLabel}: delivered to all msg/s`]: round(busy.completedInWindow / (sizes.shortMeasureMs / 1000)),
      [`${busyLabel}: send->last p99 ms`]: busy.latency(99),
      [`${fanoutLabel}: send->last p50 ms`]: fanout.latency(50),
      [`${fanoutLabel}: send->last p99 ms`]: fanout.latency(99),
      'failed or duplicated': busy.failures + fanout.failures,
    };
  },
};
