import { LRUCache } from 'lru-cache';
import type { DomainEvents } from '../shared/domain-events.js';
import type { UsersRepository } from '../storage/ports.js';

/**
 * The names of active users, as a call request needs them (the caller's for the ring, the callee's to
 * know they can be called), kept so that a request rings without waiting for a database read. Names
 * never change; a change of an account's status or role (a ban, a deletion: `accountChanged`, which
 * every process hears through the account-events feed) evicts the user at once, and nothing is kept
 * longer than the TTL, like the sessions the Authenticator keeps.
 */
export class CallPartyNames {
  private readonly cache = new LRUCache<string, string>({ max: 50_000, ttl: 30_000 });
  private accountChanges = 0;

  constructor(
    private readonly users: Pick<UsersRepository, 'findPeople'>,
    events: DomainEvents,
  ) {
    events.on('accountChanged', ({ userId }) => {
      this.accountChanges += 1;
      this.cache.delete(userId);
    });
  }

  /** The names of the active users among `ids`, by id: the others are not in the map. */
  async of(ids: readonly string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const unknown: string[] = [];
    for (const id of ids) {
      const name = this.cache.get(id);
      if (name === undefined) unknown.push(id);
      else names.set(id, name);
    }
    if (unknown.length === 0) return names;
    const changesBefore = this.accountChanges;
    const people = await this.users.findPeople(unknown);
    // A change heard while the read ran may have been evicted before the read's answer came: keep nothing then.
    const keep = this.accountChanges === changesBefore;
    for (const person of people) {
      names.set(person.id, person.name);
      if (keep) this.cache.set(person.id, person.name);
    }
    return names;
  }
}
