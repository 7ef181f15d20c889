import { setTimeout as sleep } from 'node:timers/promises';
import type { SendResult, Sender } from '../support/load-commands.js';
import { connectAll, disconnectAll, type Figures, type Scenario, type ScenarioContext } from '../support/scenario.js';
import { percentile, round } from '../support/stats.js';

const MB = 2 ** 20;

/**
 * `pairs` pairs of users message each other (both ways), each pair on one load client. Saturation
 * keeps `window` messages unacknowledged per sender; a fixed rate offers `rate` messages a second in all.
 */
async function chat(context: ScenarioContext, tag: string, load: { window: number } | { rate: number }, phases: { warmupMs: number; measureMs: number }) {
  const { sizes, users, loads } = context;
  const shares = loads.map(() => ({ auths: [] as Record<string, unknown>[], senders: [] as Sender[] }));
  for (let pair = 0; pair < sizes.pairs; pair += 1) {
    const share = shares[pair % loads.length]!;
    const [a, b] = [users[2 * pair]!, users[2 * pair + 1]!];
    share.senders.push({ socket: share.auths.length, target: { to: b.id } }, { socket: share.auths.length + 1, target: { to: a.id } });
    share.auths.push(a.auth, b.auth);
  }
  await connectAll(context, shares.map((share) => share.auths));
  await context.target.process.eventLoopStats();
  const cpuBefore = await context.target.process.cpuMicros();
  const pace = 'window' in load ? { window: load.window } : { ratePerSender: load.rate / (2 * sizes.pairs) };
  const results = await Promise.all(
    shares.map((share, w) =>
      loads[w]!.run<SendResult>({ type: 'send', tag, senders: share.senders, receivers: 1, ...pace, ...phases, drainMs: 10_000 }),
    ),
  );
  const { eventLoopDelayMs } = await context.target.process.eventLoopStats();
  const cpuMicros = (await context.target.process.cpuMicros()) - cpuBefore;
  await disconnectAll(context);
  const sentInAll = results.reduce((sum, result) => sum + result.sentInAll, 0);
  return { ...merge(results), eventLoopDelayMs, cpuMicrosPerMessage: cpuMicros / Math.max(1, sentInAll) };
}

export function merge(results: SendResult[]) {
  const latencies = results.flatMap((result) => result.sendToLastReceiptMs);
  return {
    sent: results.reduce((sum, result) => sum + result.sent, 0),
    completed: results.reduce((sum, result) => sum + result.completed, 0),
    completedInWindow: results.reduce((sum, result) => sum + result.completedInWindow, 0),
    failures: results.reduce((sum, result) => sum + result.failures + result.duplicates, 0),
    latency: (p: number) => round(percentile(latencies, p)),
  };
}

export const chatThroughput: Scenario = {
  name: 'chat',
  description: 'chat throughput: pairs messaging at saturation; stored = acknowledged and delivered',
  againstRelay: true,
  async run(context) {
    const { sizes, target } = context;
    // From a new process each round: the memory figures are then of this load alone.
    if (sizes.freshProcess) await target.restart();
    await sleep(sizes.settleMs);
    const rssBefore = await target.process.rss();
    const result = await chat(context, 'chat', { window: sizes.window }, sizes);
    const rssEnd = await target.process.rss();
    await sleep(sizes.rssWaitMs);
    const rssAfter = await target.process.rss();
    return {
      'stored+delivered msg/s': round(result.completedInWindow / (sizes.measureMs / 1000)),
      'send->receive p50 ms': result.latency(50),
      'send->receive p99 ms': result.latency(99),
      'failed or duplicated': result.failures,
      'event-loop delay p99 ms': result.eventLoopDelayMs.p99,
      'process CPU us per message': round(result.cpuMicrosPerMessage),
      'RSS before MB': round(rssBefore / MB),
      'RSS at end MB': round(rssEnd / MB),
      [`RSS ${sizes.rssWaitMs / 1000} s after MB`]: round(rssAfter / MB),
      [`RSS ${sizes.rssWaitMs / 1000} s after / before`]: round(rssAfter / rssBefore, 2),
    } satisfies Figures;
  },
};

export const chatLatency: Scenario = {
  name: 'latency',
  description: 'send->receive latency at a fixed offered rate, all pairs together',
  againstRelay: true,
  async run(context) {
    const { sizes } = context;
    const result = await chat(context, 'latency', { rate: sizes.fixedRate }, { warmupMs: sizes.shortWarmupMs, measureMs: sizes.shortMeasureMs });
    return {
      'offered msg/s': sizes.fixedRate,
      'achieved msg/s': round(result.completedInWindow / (sizes.shortMeasureMs / 1000)),
      'completed %': round((100 * result.completed) / Math.max(1, result.sent)),
      'send->receive p50 ms': result.latency(50),
      'send->receive p95 ms': result.latency(95),
      'send->receive p99 ms': result.latency(99),
      'event-loop delay p99 ms': result.eventLoopDelayMs.p99,
      'process CPU us per message': round(result.cpuMicrosPerMessage),
    } satisfies Figures;
  },
};
