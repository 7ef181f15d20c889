import pLimit from 'p-limit';
import type { PeopleSearchResponse, PersonDto, PresenceEvent } from '../protocol/people.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import { paginate } from '../shared/pagination.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { MessagesRepository, PersonRecord, UsersRepository } from '../storage/ports.js';
import type { PresenceChanges, PresenceTracker } from './presence-tracker.js';

/** Users whose presence change is written and published at once, when a process's users go offline together. */
const CHANGES_AT_ONCE = 8;

export interface PeopleServiceDeps {
  users: UsersRepository;
  /** Who counts as whose contact: a viewer sees the presence of their contacts only. */
  contacts: Pick<MessagesRepository, 'contactsAmong'>;
  presence: PresenceTracker;
  delivery: Delivery;
  /** Searches per user, so the directory cannot be read out quickly. */
  searchLimit: RateLimit;
  now?: () => Date;
}

/**
 * Finding other users and knowing whether they are online. A viewer sees the presence of their contacts
 * (the people who have written to them) and their own, nobody else's: writing to someone shares your
 * presence with them, never theirs with you, so a stranger cannot follow when someone is online.
 */
export class PeopleService {
  private readonly now: () => Date;

  constructor(private readonly deps: PeopleServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async search(callerId: string, input: { query: string; after?: string | undefined; limit: number }): Promise<PeopleSearchResponse> {
    await this.deps.searchLimit.consume(callerId);
    const found = await this.deps.users.search(input.query, { after: input.after, limit: input.limit + 1, excludeId: callerId });
    const { items, nextCursor } = paginate(found, input.limit, (person) => person.id);
    return { users: await this.describe(callerId, items), nextCursor };
  }

  async get(viewerId: string, userId: string): Promise<PersonDto> {
    const [person] = await this.describe(viewerId, await this.deps.users.findPeople([userId]));
    if (!person) throw new AppError('NOT_FOUND', 'No such user');
    return person;
  }

  /** People as `viewerId` sees them: with whether they are online now where the viewer may know it. */
  async describe(viewerId: string, records: readonly PersonRecord[]): Promise<PersonDto[]> {
    const visible = new Set(await this.visibleTo(viewerId, records.map((record) => record.id)));
    const online = await this.deps.presence.onlineAmong([...visible]);
    return records.map((record) =>
      visible.has(record.id)
        ? { id: record.id, name: record.name, online: online.has(record.id), lastSeenAt: record.lastSeenAt?.toISOString() ?? null }
        : { id: record.id, name: record.name, online: null, lastSeenAt: null },
    );
  }

  /** The users among `userIds` (once each) whose presence `viewerId` may see: themself and their contacts. */
  async visibleTo(viewerId: string, userIds: readonly string[]): Promise<string[]> {
    const unique = [...new Set(userIds)];
    const contacts = await this.deps.contacts.contactsAmong(viewerId, unique.filter((id) => id !== viewerId));
    return unique.filter((id) => id === viewerId || contacts.has(id));
  }

  /** The current presence of the active users among `userIds`, which the asker may see (see visibleTo). */
  async presenceOf(userIds: readonly string[]): Promise<PresenceEvent[]> {
    const people = await this.deps.users.findPeople(userIds);
    const online = await this.deps.presence.onlineAmong(people.map((person) => person.id));
    return people.map((person) => ({ userId: person.id, online: online.has(person.id), lastSeenAt: person.lastSeenAt?.toISOString() ?? null }));
  }

  /**
   * Counts a new connection of `userId`. Resolves once it is counted, with `told`: telling their watchers
   * they came online when it is their first connection anywhere, still under way.
   */
  async connected(userId: string): Promise<{ told: Promise<void> }> {
    const first = await this.deps.presence.connected(userId);
    return { told: first ? this.publish(userId) : Promise.resolve() };
  }

  /** On a user's last disconnect: remember when they were last seen and tell their watchers. */
  async disconnected(userId: string): Promise<void> {
    if (!(await this.deps.presence.disconnected(userId))) return;
    await this.deps.users.setLastSeen(userId, this.now());
    await this.publish(userId);
  }

  /**
   * Presence changes no connection of this process made: users whose last connections were on a process
   * that died went offline (last seen now, as on a last disconnect), users counted again came online.
   */
  readonly changes: PresenceChanges = {
    wentOffline: (userIds) =>
      this.eachOf(userIds, async (userId) => {
        await this.deps.users.setLastSeen(userId, this.now());
        await this.publish(userId);
      }),
    cameOnline: (userIds) => this.eachOf(userIds, (userId) => this.publish(userId)),
  };

  private async eachOf(userIds: readonly string[], work: (userId: string) => Promise<void>): Promise<void> {
    const limit = pLimit(CHANGES_AT_ONCE);
    await Promise.all(userIds.map((userId) => limit(work, userId)));
  }

  /**
   * Publishes the state as it is when the event leaves, not the change that triggered it: when a user
   * flaps, the last event watchers get is the state the user settled in. Watchers are sockets that
   * subscribed while allowed to see the user (see registerPresenceEvents).
   */
  private async publish(userId: string): Promise<void> {
    const user = await this.deps.users.findById(userId);
    if (!user) return;
    const online = (await this.deps.presence.onlineAmong([userId])).has(userId);
    this.deps.delivery.toPresenceWatchers(userId, { userId, online, lastSeenAt: user.lastSeenAt?.toISOString() ?? null });
  }
}
