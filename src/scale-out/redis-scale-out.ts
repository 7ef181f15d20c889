import { createAdapter } from '@socket.io/redis-streams-adapter';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisStore } from 'rate-limit-redis';
import { RedisCallTimers } from '../calls/redis-call-timers.js';
import { RedisLiveCalls } from '../calls/redis-live-calls.js';
import { RedisLiveGroupCalls } from '../calls/redis-live-group-calls.js';
import type { Logger } from '../shared/logger.js';
import { rateLimitFrom } from '../shared/rate-limit.js';
import { connectRedis } from '../shared/redis.js';
import { RedisSerializer } from '../shared/redis-serializer.js';
import { LocalPresenceTracker } from '../users/presence-tracker.js';
import type { ScaleOut } from './scale-out.js';

export interface RedisScaleOutOptions {
  url: string;
  /** The start of every key and channel name. */
  prefix: string;
  logger: Logger;
}

/**
 * Several processes as one through Redis: Socket.io rooms over the Redis streams adapter, budgets and
 * HTTP rate limits in Redis counters, presence, live calls and their timers in Redis.
 */
export async function redisScaleOut(options: RedisScaleOutOptions): Promise<ScaleOut> {
  const { prefix, logger } = options;
  const client = await connectRedis(options.url, logger, 'commands');
  const timers: { close(): void }[] = [];
  return {
    mode: 'redis',
    attach(io) {
      // The streams adapter, not the pub/sub one: a process that loses Redis for a while reads the
      // stream on from where it was when it comes back, so no broadcast is lost to the outage.
      io.adapter(createAdapter(client, { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io` }));
    },
    budget(settings, what) {
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${prefix}budget:${what}`,
        points: settings.points,
        duration: settings.windowSeconds,
        // While Redis is away, each process counts alone rather than refusing everything.
        insuranceLimiter: new RateLimiterMemory({ points: settings.points, duration: settings.windowSeconds }),
      });
      return rateLimitFrom(limiter, what);
    },
    httpRateLimitStore: (name) =>
      new RedisStore({
        prefix: `${prefix}http-limit:${name}:`,
        sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as never,
      }),
    relay: () => undefined,
    presence: new LocalPresenceTracker(),
    liveCalls: new RedisLiveCalls(client, prefix),
    liveGroupCalls: new RedisLiveGroupCalls(client, prefix),
    callTimers<T extends string>(kind: string) {
      const kindTimers = new RedisCallTimers<T>(client, `${prefix}${kind}-timers:`, logger);
      timers.push(kindTimers);
      return kindTimers;
    },
    serializer: (kind) => new RedisSerializer(client, `${prefix}${kind}-lock:`, logger),
    async ping() {
      await client.ping();
    },
    async close() {
      for (const kindTimers of timers) kindTimers.close();
      client.disconnect();
    },
  };
}
