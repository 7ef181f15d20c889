import { connectAll, disconnectAll, type Scenario } from '../support/scenario.js';
import { percentile, round } from '../support/stats.js';

// A browser's audio+video offer before gathering is 4-6 KB.
const OFFER = { type: 'offer', sdp: `v=0\r\n${'a=x-bench-attribute-line-of-a-realistic-length\r\n'.repeat(100)}` };

export const callSetup: Scenario = {
  name: 'calls',
  description: 'concurrent call setups: CALL_REQUEST sent -> the callee receives it (each call is then accepted and hung up)',
  againstRelay: true,
  async run(context) {
    const { sizes, users, loads } = context;
    const shares = loads.map(() => ({ auths: [] as Record<string, unknown>[], pairs: [] as { caller: number; callee: number; calleeId: string }[] }));
    for (let call = 0; call < sizes.calls; call += 1) {
      const share = shares[call % loads.length]!;
      const [caller, callee] = [users[2 * call]!, users[2 * call + 1]!];
      share.pairs.push({ caller: share.auths.length, callee: share.auths.length + 1, calleeId: callee.id });
      share.auths.push(caller.auth, callee.auth);
    }
    await connectAll(context, shares.map((share) => share.auths));
    const results = await Promise.all(
      shares.map((share, w) =>
        loads[w]!.run<{ requestToCalleeMs: number[]; failures: number }>({ type: 'calls', pairs: share.pairs, rounds: sizes.callRounds, offer: OFFER }),
      ),
    );
    await disconnectAll(context);
    const latencies = results.flatMap((result) => result.requestToCalleeMs);
    return {
      [`${sizes.calls} at once: request->callee p50 ms`]: round(percentile(latencies, 50)),
      [`${sizes.calls} at once: request->callee p99 ms`]: round(percentile(latencies, 99)),
      'failed acks': results.reduce((sum, result) => sum + result.failures, 0),
    };
  },
};
