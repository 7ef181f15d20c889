import { InProcessCallTimers } from '../calls/call-timers.js';
import { InProcessLiveCalls } from '../calls/live-calls.js';
import { InProcessLiveGroupCalls } from '../calls/live-group-calls.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import { memoryRateLimit } from '../shared/rate-limit.js';
import { LocalPresenceTracker } from '../users/presence-tracker.js';
import { InMemoryClaims } from './claims.js';
import { onlyThisProcess } from './process-requests.js';
import type { ScaleOut } from './scale-out.js';

/** One process: everything shared lives in this process's memory, and every event is heard here already. */
export function singleProcess(): ScaleOut {
  return {
    mode: 'single-process',
    attach: () => undefined,
    budget: memoryRateLimit,
    httpRateLimitStore: () => undefined,
    relay: () => undefined,
    presence: new LocalPresenceTracker(),
    liveCalls: new InProcessLiveCalls(),
    liveGroupCalls: new InProcessLiveGroupCalls(),
    callTimers: () => new InProcessCallTimers(),
    serializer: () => new KeyedQueue(),
    claims: () => new InMemoryClaims(),
    requests: onlyThisProcess(),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
