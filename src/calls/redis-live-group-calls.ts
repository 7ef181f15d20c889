import type { Redis } from 'ioredis';
import { fromRedisJson, toRedisJson } from '../shared/redis-json.js';
import { ringingMembers, type LiveGroupCall, type LiveGroupCalls } from './live-group-calls.js';

/** Adds a call unless its group has one already. */
const ADD = `
if redis.call('set', KEYS[2], ARGV[1], 'NX') == false then return 0 end
redis.call('set', KEYS[1], ARGV[2])
redis.call('sadd', KEYS[3], ARGV[1])
return 1`;

/**
 * Writes a call's document and moves its index entries: ARGV[1] the call id, ARGV[2] the document
 * ('' to delete the call), ARGV[3] how many participant keys follow, then the keys to point at the call,
 * then those to unpoint (only if they still point at it); the ringing sets to add the id to and to take
 * it from, split the same way by the counts in ARGV[4..6].
 */
const WRITE = `
local id = ARGV[1]
if ARGV[2] == '' then
  redis.call('del', KEYS[1])
  redis.call('srem', KEYS[3], id)
  if redis.call('get', KEYS[2]) == id then redis.call('del', KEYS[2]) end
else
  redis.call('set', KEYS[1], ARGV[2])
end
local counts = { tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) }
local k = 4
for i = 1, counts[1] do redis.call('set', KEYS[k], id); k = k + 1 end
for i = 1, counts[2] do
  if redis.call('get', KEYS[k]) == id then redis.call('del', KEYS[k]) end
  k = k + 1
end
for i = 1, counts[3] do redis.call('sadd', KEYS[k], id); k = k + 1 end
for i = 1, counts[4] do redis.call('srem', KEYS[k], id); k = k + 1 end
return 1`;

const participantIds = (live: LiveGroupCall | undefined) => new Set(live?.participants.map((entry) => entry.userId) ?? []);
const ringingIds = (live: LiveGroupCall | undefined) => new Set(live ? ringingMembers(live) : []);
const minus = (a: Set<string>, b: Set<string>) => [...a].filter((id) => !b.has(id));

/**
 * Live group calls in Redis, shared by every process: one JSON document per call, a pointer per group
 * and per participant, a set of ringing calls per rung member, and the set of live call ids. As with 1:1
 * calls, each call's changes run one at a time cluster-wide, so the index is moved from the document
 * before the change to the one after it.
 */
export class RedisLiveGroupCalls implements LiveGroupCalls {
  readonly sharedAcrossProcesses = true;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async add(live: LiveGroupCall): Promise<boolean> {
    const { id, conversationId } = live.call;
    const added = await this.redis.eval(ADD, 3, this.callKey(id), this.groupKey(conversationId), this.setKey(), id, toRedisJson(live));
    if (added !== 1) return false;
    await this.write(id, conversationId, undefined, live);
    return true;
  }

  async get(callId: string): Promise<LiveGroupCall | undefined> {
    const text = await this.redis.get(this.callKey(callId));
    return text === null ? undefined : fromRedisJson<LiveGroupCall>(text);
  }

  async ofConversation(conversationId: string): Promise<LiveGroupCall | undefined> {
    return this.via(this.groupKey(conversationId));
  }

  async ofUser(userId: string): Promise<LiveGroupCall | undefined> {
    return this.via(this.userKey(userId));
  }

  async ringingFor(userId: string): Promise<LiveGroupCall[]> {
    const ids = await this.redis.smembers(this.ringingKey(userId));
    return this.many(ids);
  }

  async save(live: LiveGroupCall): Promise<void> {
    const previous = await this.get(live.call.id);
    if (previous) await this.write(live.call.id, live.call.conversationId, previous, live);
  }

  async remove(callId: string): Promise<void> {
    const previous = await this.get(callId);
    if (previous) await this.write(callId, previous.call.conversationId, previous, undefined);
  }

  async all(): Promise<LiveGroupCall[]> {
    return this.many(await this.redis.smembers(this.setKey()));
  }

  private async write(callId: string, conversationId: string, before: LiveGroupCall | undefined, after: LiveGroupCall | undefined): Promise<void> {
    const [inBefore, inAfter] = [participantIds(before), participantIds(after)];
    const [rungBefore, rungAfter] = [ringingIds(before), ringingIds(after)];
    const point = [...inAfter].map((id) => this.userKey(id));
    const unpoint = minus(inBefore, inAfter).map((id) => this.userKey(id));
    const ring = [...rungAfter].map((id) => this.ringingKey(id));
    const unring = minus(rungBefore, rungAfter).map((id) => this.ringingKey(id));
    const keys = [this.callKey(callId), this.groupKey(conversationId), this.setKey(), ...point, ...unpoint, ...ring, ...unring];
    const counts = [point, unpoint, ring, unring].map((list) => String(list.length));
    await this.redis.eval(WRITE, keys.length, ...keys, callId, after ? toRedisJson(after) : '', ...counts);
  }

  private async via(pointer: string): Promise<LiveGroupCall | undefined> {
    const callId = await this.redis.get(pointer);
    return callId === null ? undefined : this.get(callId);
  }

  private async many(ids: string[]): Promise<LiveGroupCall[]> {
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => this.callKey(id)));
    return texts.flatMap((text) => (text === null ? [] : [fromRedisJson<LiveGroupCall>(text)]));
  }

  private callKey(callId: string): string {
    return `${this.prefix}group-call:${callId}`;
  }

  private groupKey(conversationId: string): string {
    return `${this.prefix}group-call-of-group:${conversationId}`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}group-call-of-user:${userId}`;
  }

  private ringingKey(userId: string): string {
    return `${this.prefix}group-calls-ringing:${userId}`;
  }

  private setKey(): string {
    return `${this.prefix}group-calls`;
  }
}
