import { LRUCache } from 'lru-cache';
import type { DomainEvents } from '../shared/domain-events.js';
import type { BlocksRepository } from '../storage/ports.js';

type Between = Awaited<ReturnType<BlocksRepository['between']>>;

/**
 * Whether two users block each other, as the checks before a call rings (and before typing, edits and
 * direct-conversation events) ask it, kept so that a call request rings without waiting for a database
 * read. A block or unblock (`blocksChanged`, relayed to every process) evicts the pair at once; an
 * outage of the relay between processes forgets every pair (`relayResumed`: a change may have been
 * missed); nothing is kept longer than the TTL. A read that a change overtook is not kept.
 */
export class KnownBlocks implements Pick<BlocksRepository, 'between'> {
  /** The answer of between(userId, otherId), by `userId otherId`. */
  private readonly cache = new LRUCache<string, Between>({ max: 50_000, ttl: 30_000 });
  private changes = 0;

  constructor(
    private readonly blocks: Pick<BlocksRepository, 'between'>,
    events: DomainEvents,
  ) {
    events.on('blocksChanged', ({ blockerId, blockedId }) => {
      this.changes += 1;
      this.cache.delete(`${blockerId} ${blockedId}`);
      this.cache.delete(`${blockedId} ${blockerId}`);
    });
    events.on('relayResumed', () => {
      this.changes += 1;
      this.cache.clear();
    });
  }

  async between(userId: string, otherId: string): Promise<Between> {
    const key = `${userId} ${otherId}`;
    const known = this.cache.get(key);
    if (known) return known;
    const changesBefore = this.changes;
    const found = await this.blocks.between(userId, otherId);
    if (this.changes === changesBefore) this.cache.set(key, found);
    return found;
  }
}
