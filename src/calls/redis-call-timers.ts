import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import type { CallTimerHandler, CallTimers } from './call-timers.js';

/** How often each process looks for timers that ran out: the precision of every call timer. */
const POLL_MS = 100;
/** Timers taken per look; more wait for the next. */
const BATCH = 100;

/** Redis's clock in ms, so every process agrees on when a timer runs out. */
const NOW = `local t = redis.call('time'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: the deadlines (zset), the attempts (hash), the call's timer names (set). ARGV: member, delay ms, attempt, name. */
const START = `${NOW}
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('hset', KEYS[2], ARGV[1], ARGV[3])
redis.call('sadd', KEYS[3], ARGV[4])
return 1`;

/**
 * Takes the timers that ran out: whoever removes one from the deadlines runs it, holding a lease on it
 * (in the running set, with its attempt) until it is done; a lease that runs out is of a process that
 * died running it, and is taken again. KEYS: deadlines, attempts, running, running attempts.
 * ARGV: batch, the names key prefix, lease ms.
 */
const TAKE_DUE = `${NOW}
local lease = now + tonumber(ARGV[3])
local taken = {}
local due = redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  redis.call('zrem', KEYS[1], member)
  local attempt = redis.call('hget', KEYS[2], member) or '0'
  redis.call('hdel', KEYS[2], member)
  local sep = string.find(member, '|', 1, true)
  redis.call('srem', ARGV[2] .. string.sub(member, 1, sep - 1), string.sub(member, sep + 1))
  redis.call('zadd', KEYS[3], lease, member)
  redis.call('hset', KEYS[4], member, attempt)
  table.insert(taken, member)
  table.insert(taken, attempt)
end
local abandoned = redis.call('zrangebyscore', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(abandoned) do
  redis.call('zadd', KEYS[3], lease, member)
  table.insert(taken, member)
  table.insert(taken, redis.call('hget', KEYS[4], member) or '0')
end
return taken`;

/** The expiry is done: its lease goes. KEYS: running, running attempts. ARGV: member. */
const DONE = `
redis.call('zrem', KEYS[1], ARGV[1])
redis.call('hdel', KEYS[2], ARGV[1])
return 1`;

/**
 * KEYS: deadlines, attempts, the call's timer names, running, running attempts. ARGV: the call id; the
 * timer names to cancel (all when none; only those not running yet are known then).
 */
const CANCEL = `
local names = {}
if #ARGV > 1 then
  for i = 2, #ARGV do table.insert(names, ARGV[i]) end
else
  names = redis.call('smembers', KEYS[3])
end
for _, name in ipairs(names) do
  local member = ARGV[1] .. '|' .. name
  redis.call('zrem', KEYS[1], member)
  redis.call('hdel', KEYS[2], member)
  redis.call('srem', KEYS[3], name)
  redis.call('zrem', KEYS[4], member)
  redis.call('hdel', KEYS[5], member)
end
return 1`;

/** How long a process may run an expiry before another counts it dead and runs it again. */
const LEASE_MS = 30_000;

/**
 * Call timers shared by every process: deadlines in a sorted set on Redis's clock, looked at by every
 * process every POLL_MS; the process whose script takes a timer runs it, so each fires once
 * cluster-wide, and a timer outlives the process that started it. A process that dies while running
 * one leaves its lease to run out (`leaseMs`), and another process runs it again.
 */
export class RedisCallTimers<T extends string> implements CallTimers<T> {
  private handler: CallTimerHandler<T> = async () => undefined;
  private readonly poller: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly leaseMs = LEASE_MS,
  ) {
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
  }

  onExpiry(handler: CallTimerHandler<T>): void {
    this.handler = handler;
  }

  async start(callId: string, timer: T, delayMs: number, attempt = 0): Promise<void> {
    await this.redis.eval(START, 3, this.deadlinesKey(), this.attemptsKey(), this.namesKey(callId), `${callId}|${timer}`, String(delayMs), String(attempt), timer);
  }

  async cancel(callId: string, timer: T): Promise<void> {
    await this.redis.eval(CANCEL, 5, this.deadlinesKey(), this.attemptsKey(), this.namesKey(callId), this.runningKey(), this.runningAttemptsKey(), callId, timer);
  }

  async cancelAll(callId: string): Promise<void> {
    await this.redis.eval(CANCEL, 5, this.deadlinesKey(), this.attemptsKey(), this.namesKey(callId), this.runningKey(), this.runningAttemptsKey(), callId);
  }

  /** Stops looking for timers; those running out meanwhile are run by the other processes (or the next to start). */
  close(): void {
    clearInterval(this.poller);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const taken = (await this.redis.eval(
        TAKE_DUE,
        4,
        this.deadlinesKey(),
        this.attemptsKey(),
        this.runningKey(),
        this.runningAttemptsKey(),
        String(BATCH),
        this.namesKey(''),
        String(this.leaseMs),
      )) as string[];
      for (let i = 0; i < taken.length; i += 2) {
        const member = taken[i]!;
        const sep = member.indexOf('|');
        void this.handler(member.slice(0, sep), member.slice(sep + 1) as T, Number(taken[i + 1]))
          .catch((error: unknown) => this.logger.error({ err: error, member }, 'a call timer failed'))
          .then(() => this.redis.eval(DONE, 2, this.runningKey(), this.runningAttemptsKey(), member))
          .catch((error: unknown) => this.logger.warn({ err: error, member }, 'could not mark a call timer done: it runs again after its lease'));
      }
    } catch (error) {
      // Redis away: the timers wait there and run once it is back.
      this.logger.debug({ err: error }, 'could not look for call timers');
    } finally {
      this.polling = false;
    }
  }

  private deadlinesKey(): string {
    return `${this.prefix}deadlines`;
  }

  private attemptsKey(): string {
    return `${this.prefix}attempts`;
  }

  private runningKey(): string {
    return `${this.prefix}running`;
  }

  private runningAttemptsKey(): string {
    return `${this.prefix}running-attempts`;
  }

  private namesKey(callId: string): string {
    return `${this.prefix}timers:${callId}`;
  }
}
