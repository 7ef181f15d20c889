import type { Redis } from 'ioredis';
import { fromRedisJson, toRedisJson } from '../shared/redis-json.js';
import type { LiveCall, LiveCalls } from './live-calls.js';

/** Adds a call unless one of its two users is in a call already: one script, so two processes never both win. */
const ADD = `
if redis.call('exists', KEYS[2]) == 1 or redis.call('exists', KEYS[3]) == 1 then return 0 end
redis.call('set', KEYS[1], ARGV[2])
redis.call('set', KEYS[2], ARGV[1])
redis.call('set', KEYS[3], ARGV[1])
redis.call('sadd', KEYS[4], ARGV[1])
return 1`;

/** Removes a call and the pointers of its users that still point at it. */
const REMOVE = `
redis.call('del', KEYS[1])
redis.call('srem', KEYS[4], ARGV[1])
for i = 2, 3 do
  if redis.call('get', KEYS[i]) == ARGV[1] then redis.call('del', KEYS[i]) end
end
return 1`;

/**
 * Live 1:1 calls in Redis, shared by every process: one JSON document per call, a pointer per user in a
 * call (so busy is one atomic check over both users) and the set of live call ids. Each call's changes run
 * one at a time cluster-wide (its serializer), so a document is never written by two processes at once.
 */
export class RedisLiveCalls implements LiveCalls {
  readonly sharedAcrossProcesses = true;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async add(live: LiveCall): Promise<boolean> {
    const { id, callerId, calleeId } = live.call;
    const added = await this.redis.eval(ADD, 4, this.callKey(id), this.userKey(callerId), this.userKey(calleeId), this.setKey(), id, toRedisJson(live));
    return added === 1;
  }

  async get(callId: string): Promise<LiveCall | undefined> {
    const text = await this.redis.get(this.callKey(callId));
    return text === null ? undefined : fromRedisJson<LiveCall>(text);
  }

  async ofUser(userId: string): Promise<LiveCall | undefined> {
    const callId = await this.redis.get(this.userKey(userId));
    return callId === null ? undefined : this.get(callId);
  }

  async save(live: LiveCall): Promise<void> {
    await this.redis.set(this.callKey(live.call.id), toRedisJson(live), 'XX');
  }

  async remove(callId: string): Promise<void> {
    const live = await this.get(callId);
    if (!live) return;
    const { callerId, calleeId } = live.call;
    await this.redis.eval(REMOVE, 4, this.callKey(callId), this.userKey(callerId), this.userKey(calleeId), this.setKey(), callId);
  }

  async all(): Promise<LiveCall[]> {
    const ids = await this.redis.smembers(this.setKey());
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => this.callKey(id)));
    return texts.flatMap((text) => (text === null ? [] : [fromRedisJson<LiveCall>(text)]));
  }

  private callKey(callId: string): string {
    return `${this.prefix}call:${callId}`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}call-of-user:${userId}`;
  }

  private setKey(): string {
    return `${this.prefix}calls`;
  }
}
