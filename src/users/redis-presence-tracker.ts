import type { Redis } from 'ioredis';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import type { PresenceChanges, PresenceTracker } from './presence-tracker.js';

/** Users written or discounted per script run, so Redis is never held long by one. */
const BATCH = 500;

// Key names are built inside the scripts from a prefix (one Redis, not a Redis Cluster). The set of
// online users (ARGV[4]) is kept beside the counts, so counting them is one SCARD.
// ARGV: user key prefix, process id, the process's user set, the online set, user id.
const CONNECT = `
local key = ARGV[1] .. ARGV[5]
local count = redis.call('HINCRBY', key, ARGV[2], 1)
redis.call('SADD', ARGV[3], ARGV[5])
redis.call('SADD', ARGV[4], ARGV[5])
if count == 1 and redis.call('HLEN', key) == 1 then return 1 end
return 0`;

const DISCONNECT = `
local key = ARGV[1] .. ARGV[5]
if redis.call('HINCRBY', key, ARGV[2], -1) > 0 then return 0 end
redis.call('HDEL', key, ARGV[2])
redis.call('SREM', ARGV[3], ARGV[5])
if redis.call('EXISTS', key) == 0 then
  redis.call('SREM', ARGV[4], ARGV[5])
  return 1
end
return 0`;

// ARGV: user key prefix, process id, the process's user set, the online set, then user id and count pairs.
// Returns the users nobody was counted for before.
const RESTORE = `
local back = {}
for i = 5, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then table.insert(back, ARGV[i]) end
  redis.call('HSET', key, ARGV[2], ARGV[i + 1])
  redis.call('SADD', ARGV[3], ARGV[i])
  redis.call('SADD', ARGV[4], ARGV[i])
end
return back`;

// ARGV: user key prefix, dead process id, its user set, the online set, batch size.
// Takes up to a batch of the dead process's users (SPOP: two survivors never take the same user),
// discounts its connections and returns the users now counted nowhere.
const REAP = `
local users = redis.call('SPOP', ARGV[3], ARGV[5])
local gone = {}
for _, user in ipairs(users) do
  local key = ARGV[1] .. user
  redis.call('HDEL', key, ARGV[2])
  if redis.call('EXISTS', key) == 0 then
    redis.call('SREM', ARGV[4], user)
    table.insert(gone, user)
  end
end
return gone`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/**
 * EVAL with the script's text every time, not EVALSHA: a script Redis does not hold yet (first use, or
 * after a restart) would be sent again after the commands sent meanwhile, and these must run in the
 * order they were sent (see countAgain). The scripts are a few hundred bytes, sent once per connect.
 */
function script(client: Redis, lua: string): Script {
  return (...args) => client.eval(lua, 0, ...args);
}

/** The heartbeat with counting again, and the look for dead processes with the announcements. */
type Chain = 'renewal' | 'look';
const FAILED: Record<Chain, string> = {
  renewal: 'presence: could not renew the heartbeat or count again; trying again',
  look: 'presence: could not look for dead processes; trying again',
};

export interface RedisPresenceOptions {
  client: Redis;
  /** The start of every key. */
  prefix: string;
  logger: Logger;
  /**
   * A process that has not renewed its heartbeat for this long counts as dead: the survivors discount
   * its connections. Heartbeats and the look for dead processes run every fifth of it.
   */
  processTtlMs: number;
}

/**
 * Presence shared by every process. Per user, a hash of process id to that process's connection count
 * (`presence:user:<id>`): online while it has a field. Per process, the set of its users
 * (`presence:process:<id>`) and a heartbeat key that expires `processTtlMs` after its last renewal. Every
 * process looks for the processes in `presence:processes` whose heartbeat is gone and discounts their
 * users, which costs as much as the dead process had users, and reports those now offline. The set of
 * online users (`presence:online`) changes with the counts, in the same scripts.
 *
 * This process also keeps its own counts in memory. When its heartbeat was found gone (Redis restarted
 * and lost everything, or the process was cut off longer than the TTL and taken for dead) or a write
 * failed, it counts again under a new process id from those, and the old id's counts are discounted
 * like a dead process's: whatever happened to them meanwhile, the old id is never written again.
 * The heartbeat and counting again never wait for a look, whose announcements write to the database
 * for every user of a dead process.
 */
export class RedisPresenceTracker implements PresenceTracker {
  private readonly counts = new Map<string, number>();
  /** Users whose connection could not be written: whether they came online is not known. */
  private readonly unannounced = new Set<string>();
  private processId = newId();
  /** The counts in Redis may be wrong (a write failed, the heartbeat was gone): count again. */
  private stale = false;
  private changes: PresenceChanges | undefined;
  /**
   * Changes the next look announces: users counted again where nobody counted them, or whose connect
   * could not be written, came online; users of a discounted process counted nowhere now went offline.
   */
  private readonly pending: Record<keyof PresenceChanges, Set<string>> = { cameOnline: new Set(), wentOffline: new Set() };
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private looking: Promise<void> | undefined;
  /** Whether the last renewal and the last look failed, so an outage is logged once, not every tick. */
  private readonly failing: Record<Chain, boolean> = { renewal: false, look: false };
  private readonly run: { connect: Script; disconnect: Script; restore: Script; reap: Script };

  constructor(private readonly options: RedisPresenceOptions) {
    const { client } = options;
    this.run = {
      connect: script(client, CONNECT),
      disconnect: script(client, DISCONNECT),
      restore: script(client, RESTORE),
      reap: script(client, REAP),
    };
  }

  private get userPrefix(): string {
    return `${this.options.prefix}presence:user:`;
  }
  private get processes(): string {
    return `${this.options.prefix}presence:processes`;
  }
  private usersOf(processId: string): string {
    return `${this.options.prefix}presence:process:${processId}`;
  }
  private get online(): string {
    return `${this.options.prefix}presence:online`;
  }
  private heartbeatOf(processId: string): string {
    return `${this.options.prefix}presence:alive:${processId}`;
  }

  async connected(userId: string): Promise<boolean> {
    this.counts.set(userId, (this.counts.get(userId) ?? 0) + 1);
    try {
      return (await this.write(this.run.connect, userId)) === 1;
    } catch (error) {
      // Nobody was told: counting again tells them (the write may still land before, when Redis is back).
      this.unannounced.add(userId);
      throw error;
    }
  }

  async disconnected(userId: string): Promise<boolean> {
    const count = this.counts.get(userId);
    if (count === undefined) return false;
    if (count > 1) this.counts.set(userId, count - 1);
    else this.counts.delete(userId);
    return (await this.write(this.run.disconnect, userId)) === 1;
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const results = await this.options.client.pipeline(userIds.map((id) => ['exists', this.userPrefix + id])).exec();
    const online = new Set<string>();
    userIds.forEach((id, index) => {
      const [error, exists] = results?.[index] ?? [new Error('no reply')];
      if (error) throw error;
      if (exists === 1) online.add(id);
    });
    return online;
  }

  async onlineCount(): Promise<number> {
    return this.options.client.scard(this.online);
  }

  start(changes: PresenceChanges): void {
    this.changes = changes;
    const every = Math.max(50, Math.floor(this.options.processTtlMs / 5));
    // Two chains: a look that announces thousands of users (database writes for each) must not hold up
    // the heartbeat, or this process would be taken for dead while it works.
    const tick = () => {
      this.renewing ??= this.attempt('renewal', () => this.renew()).finally(() => (this.renewing = undefined));
      this.lookNow();
    };
    // Registered before the first connection can be counted (commands run in the order they are sent).
    this.register(this.processId).catch(() => {
      this.stale = true;
    });
    this.timer = setInterval(tick, every);
    this.timer.unref();
  }

  private async register(processId: string): Promise<void> {
    await this.options.client.multi().set(this.heartbeatOf(processId), '1', 'PX', this.options.processTtlMs).sadd(this.processes, processId).exec();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.changes = undefined;
    await Promise.all([this.renewing, this.looking]);
    // Whatever is still counted under this id (connections whose disconnect could not be written), the
    // others discount at their next look.
    await this.options.client.del(this.heartbeatOf(this.processId)).catch(() => undefined);
  }

  /** Sends `command` for `userId` under the current process id (read as it is sent, so it matches the counts). */
  private async write(command: Script, userId: string): Promise<unknown> {
    try {
      return await command(this.userPrefix, this.processId, this.usersOf(this.processId), this.online, userId);
    } catch (error) {
      this.stale = true;
      throw error;
    }
  }

  private async attempt(chain: Chain, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      this.failing[chain] = false;
    } catch (error) {
      if (!this.failing[chain]) this.options.logger.warn({ err: error }, FAILED[chain]);
      this.failing[chain] = true;
    }
  }

  private lookNow(): void {
    this.looking ??= this.attempt('look', () => this.look()).finally(() => (this.looking = undefined));
  }

  private async renew(): Promise<void> {
    const renewed = await this.options.client.set(this.heartbeatOf(this.processId), '1', 'PX', this.options.processTtlMs, 'XX');
    if (renewed === null) this.stale = true;
    if (!this.stale) return;
    await this.countAgain();
    // Announces who came back or went at once, not a tick later.
    this.lookNow();
  }

  private async look(): Promise<void> {
    await this.discountDeadProcesses();
    for (const change of ['wentOffline', 'cameOnline'] as const) {
      const users = [...this.pending[change]];
      this.pending[change].clear();
      try {
        if (users.length > 0) await this.changes?.[change](users);
      } catch (error) {
        for (const userId of users) this.pending[change].add(userId);
        throw error;
      }
    }
  }

  /** Writes this process's counts under a new id, then discounts the old one's. */
  private async countAgain(): Promise<void> {
    const previous = this.processId;
    this.processId = newId();
    this.stale = false;
    const unannounced = [...this.unannounced];
    this.unannounced.clear();
    try {
      await this.register(this.processId);
      const userIds = [...this.counts.keys()];
      for (let from = 0; from < userIds.length; from += BATCH) {
        // Counts read as each batch is sent: connections meanwhile were written under the new id already.
        const pairs = userIds.slice(from, from + BATCH).flatMap((userId) => {
          const count = this.counts.get(userId);
          return count === undefined ? [] : [userId, count];
        });
        if (pairs.length === 0) continue;
        const back = (await this.run.restore(this.userPrefix, this.processId, this.usersOf(this.processId), this.online, ...pairs)) as string[];
        for (const userId of back) this.pending.cameOnline.add(userId);
      }
      for (const userId of unannounced) if (this.counts.has(userId)) this.pending.cameOnline.add(userId);
      await this.options.client.del(this.heartbeatOf(previous));
      await this.discount(previous);
    } catch (error) {
      this.stale = true;
      for (const userId of unannounced) this.unannounced.add(userId);
      throw error;
    }
  }

  private async discountDeadProcesses(): Promise<void> {
    const { client } = this.options;
    const others = (await client.smembers(this.processes)).filter((id) => id !== this.processId);
    if (others.length === 0) return;
    const alive = await client.pipeline(others.map((id) => ['exists', this.heartbeatOf(id)])).exec();
    for (const [index, id] of others.entries()) {
      const [error, exists] = alive?.[index] ?? [new Error('no reply')];
      if (error) throw error;
      if (exists === 0) await this.discount(id);
    }
  }

  private async discount(deadId: string): Promise<void> {
    for (;;) {
      const gone = (await this.run.reap(this.userPrefix, deadId, this.usersOf(deadId), this.online, BATCH)) as string[];
      if (gone.length > 0) {
        this.options.logger.info({ processId: deadId, users: gone.length }, 'presence: users of a stopped process went offline');
        for (const userId of gone) this.pending.wentOffline.add(userId);
      }
      if ((await this.options.client.scard(this.usersOf(deadId))) === 0) {
        await this.options.client.srem(this.processes, deadId);
        return;
      }
    }
  }
}
