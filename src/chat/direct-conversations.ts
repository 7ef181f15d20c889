import { LRUCache } from 'lru-cache';
import type { ConversationsRepository } from '../storage/ports.js';

/** Pairs whose conversation id is kept: about 200 bytes each. */
const CACHED_PAIRS = 100_000;

/**
 * The direct conversation of two users, by pair. Its id never changes once it exists (direct
 * conversations are never deleted), so a pair that has one needs no database to find it again. Sends
 * racing to a pair's first lookup share it: a burst of first messages is one query, not one each.
 */
export class DirectConversations {
  private readonly ids = new LRUCache<string, Promise<string>>({ max: CACHED_PAIRS });

  constructor(private readonly conversations: Pick<ConversationsRepository, 'ensureDirect'>) {}

  /** `check` runs (and may throw) before the database is asked, which may create the conversation. */
  ensure(userA: string, userB: string, at: Date, check: () => Promise<void>): Promise<string> {
    const key = userA < userB ? `${userA} ${userB}` : `${userB} ${userA}`;
    const cached = this.ids.get(key);
    if (cached) return cached;
    const lookup = check().then(() => this.conversations.ensureDirect(userA, userB, at));
    this.ids.set(key, lookup);
    // A failed lookup (the other user is not active, the database is down) is not remembered.
    lookup.catch(() => {
      if (this.ids.get(key) === lookup) this.ids.delete(key);
    });
    return lookup;
  }
}
