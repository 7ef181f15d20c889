import { type Scenario } from '../support/scenario.js';
import { percentile, round } from '../support/stats.js';

export const loginBurst: Scenario = {
  name: 'login',
  description: 'a burst of concurrent logins (argon2id on the thread pool) and the event-loop delay meanwhile',
  againstRelay: false,
  async run(context) {
    const { sizes, loads, target, login } = context;
    await target.process.eventLoopStats();
    const results = await Promise.all(
      loads.map((load) =>
        load.run<{ loginMs: number[]; failures: number }>({
          type: 'logins',
          url: target.process.baseUrl,
          ...login!,
          concurrency: Math.ceil(sizes.loginConcurrency / loads.length),
          durationMs: sizes.loginMs,
        }),
      ),
    );
    const { eventLoopDelayMs } = await target.process.eventLoopStats();
    const latencies = results.flatMap((result) => result.loginMs);
    return {
      'logins/s': round(latencies.length / (sizes.loginMs / 1000)),
      'login p99 ms': round(percentile(latencies, 99)),
      'event-loop delay p99 ms': eventLoopDelayMs.p99,
      'failed logins': results.reduce((sum, result) => sum + result.failures, 0),
    };
  },
};
