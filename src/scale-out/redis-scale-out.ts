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
import { RedisPresenceTracker } from '../users/redis-presence-tracker.js';
import { RedisClaims } from './redis-claims.js';
import { relayDomainEvents } from './redis-event-relay.js';
import { redisProcessRequests } from './redis-process-requests.js';
import { StoreWithInsurance } from './store-with-insurance.js';
import type { ScaleOut } from './scale-out.js';

/** How long a command may wait for Redis: beyond it budgets and HTTP limits count in this process, presence counts again later. */
const COMMAND_TIMEOUT_MS = 1_000;
/** How long a request waits for another process's answer: longer than that process's own bound on a media server request. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How often a request still waiting checks that the process asked did not die with it. */
const REQUEST_CHECK_EVERY_MS = 1_000;

export interface RedisScaleOutOptions {
  url: string;
  /** The start of every key and channel name. */
  prefix: string;
  logger: Logger;
  /** See RedisPresenceOptions.processTtlMs. */
  presenceProcessTtlMs: number;
  /** This process's id (as in ProcessLiveness), which the others address their requests to. */
  processId: string;
}

/**
 * Several processes as one through Redis: Socket.io rooms over the Redis streams adapter, budgets and
 * HTTP rate limits in Redis counters, presence, live calls and their timers in Redis, and requests from
 * one process to another over pub/sub.
 */
export async function redisScaleOut(options: RedisScaleOutOptions): Promise<ScaleOut> {
  const { prefix, logger } = options;
  const client = await connectRedis(options.url, logger, 'commands', { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  const adapterClient = await connectRedis(options.url, logger, 'socket.io');
  // The adapter sends its requests to the other processes (fetchSockets) with a PUBLISH whose failure it
  // never handles: while Redis is away that would be an unhandled rejection, which ends the process. The
  // request still fails its caller, by its own timeout.
  const publish = adapterClient.publish.bind(adapterClient);
  adapterClient.publish = ((...args: Parameters<typeof publish>) => {
    const sent = publish(...args);
    sent.catch(() => undefined);
    return sent;
  }) as typeof adapterClient.publish;
  // A connection in subscriber mode takes no other commands: the relayed events have one of their own.
  const subscriber = await connectRedis(options.url, logger, 'events', { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  const eventsChannel = `${prefix}domain-events`;
  let requests;
  try {
    await subscriber.subscribe(eventsChannel);
    requests = await redisProcessRequests({
      publisher: client,
      subscriber,
      prefix,
      processId: options.processId,
      logger,
      timeoutMs: REQUEST_TIMEOUT_MS,
      checkEveryMs: REQUEST_CHECK_EVERY_MS,
    });
  } catch (error) {
    for (const connection of [client, adapterClient, subscriber]) connection.disconnect();
    throw error;
  }
  /** Every kind of call's timers, which stop polling at close. */
  const timers: { close(): void }[] = [];
  return {
    mode: 'redis',
    attach(io) {
      // The streams adapter, not the pub/sub one: a process that loses Redis for a while reads the
      // stream on from where it was when it comes back, so no broadcast is lost to the outage.
      io.adapter(createAdapter(adapterClient, { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io` }));
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
      new StoreWithInsurance(
        new RedisStore({
          prefix: `${prefix}http-limit:${name}:`,
          sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as never,
        }),
        name,
        logger,
      ),
    relay: (events) => relayDomainEvents({ publisher: client, subscriber, channel: eventsChannel, events, logger }),
    presence: new RedisPresenceTracker({ client, prefix, logger, processTtlMs: options.presenceProcessTtlMs }),
    liveCalls: new RedisLiveCalls(client, prefix),
    liveGroupCalls: new RedisLiveGroupCalls(client, prefix),
    callTimers<T extends string>(kind: string) {
      const kindTimers = new RedisCallTimers<T>(client, `${prefix}${kind}-timers:`, logger);
      timers.push(kindTimers);
      return kindTimers;
    },
    serializer: (kind) => new RedisSerializer(client, `${prefix}${kind}-lock:`, logger),
    claims: (kind) => new RedisClaims(client, `${prefix}${kind}-holder:`),
    requests,
    async ping() {
      await client.ping();
    },
    async close() {
      for (const kindTimers of timers) kindTimers.close();
      subscriber.disconnect();
      adapterClient.disconnect();
      client.disconnect();
    },
  };
}
