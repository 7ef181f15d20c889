import type { Redis } from 'ioredis';
import type { Claims } from './claims.js';

/** Sets the key unless it is set; returns its value either way. */
const CLAIM = `
if redis.call('set', KEYS[1], ARGV[1], 'NX') then return ARGV[1] end
return redis.call('get', KEYS[1])`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1`;

const PASS = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) end
return 1`;

/** Claims shared by every process: one Redis string per key, set only if absent, deleted or passed on only by its holder. */
export class RedisClaims implements Claims {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async claim(key: string, holder: string): Promise<string> {
    return String(await this.redis.eval(CLAIM, 1, this.prefix + key, holder));
  }

  async holderOf(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async release(key: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.prefix + key, holder);
  }

  async pass(key: string, holder: string, successor: string): Promise<void> {
    await this.redis.eval(PASS, 1, this.prefix + key, holder, successor);
  }
}
