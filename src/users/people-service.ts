import type { PeopleSearchResponse, PersonDto, PresenceEvent } from '../protocol/people.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import { paginate } from '../shared/pagination.js';
import type { PersonRecord, UsersRepository } from '../storage/ports.js';
import type { PresenceTracker } from './presence-tracker.js';

export interface PeopleServiceDeps {
  users: UsersRepository;
  presence: PresenceTracker;
  delivery: Delivery;
  now?: () => Date;
}

/** Finding other users and knowing whether they are online. */
export class PeopleService {
  private readonly now: () => Date;

  constructor(private readonly deps: PeopleServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async search(callerId: string, input: { query: string; after?: string | undefined; limit: number }): Promise<PeopleSearchResponse> {
    const found = await this.deps.users.search(input.query, { after: input.after, limit: input.limit + 1, excludeId: callerId });
    const { items, nextCursor } = paginate(found, input.limit, (person) => person.id);
    return { users: await this.describe(items), nextCursor };
  }

  async get(userId: string): Promise<PersonDto> {
    const [person] = await this.describe(await this.deps.users.findPeople([userId]));
    if (!person) throw new AppError('NOT_FOUND', 'No such user');
    return person;
  }

  /** People as others see them, with whether they are online now. */
  async describe(records: readonly PersonRecord[]): Promise<PersonDto[]> {
    const online = await this.deps.presence.onlineAmong(records.map((record) => record.id));
    return records.map((record) => ({
      id: record.id,
      name: record.name,
      online: online.has(record.id),
      lastSeenAt: record.lastSeenAt?.toISOString() ?? null,
    }));
  }

  /** The current presence of the active users among `userIds`; unknown ones are left out. */
  async presenceOf(userIds: readonly string[]): Promise<PresenceEvent[]> {
    const people = await this.describe(await this.deps.users.findPeople([...new Set(userIds)]));
    return people.map((person) => ({ userId: person.id, online: person.online, lastSeenAt: person.lastSeenAt }));
  }

  async connected(userId: string): Promise<void> {
    if (await this.deps.presence.connected(userId)) await this.publish(userId);
  }

  /** On a user's last disconnect: remember when they were last seen and tell their watchers. */
  async disconnected(userId: string): Promise<void> {
    if (!(await this.deps.presence.disconnected(userId))) return;
    await this.deps.users.setLastSeen(userId, this.now());
    await this.publish(userId);
  }

  /**
   * Publishes the state as it is when the event leaves, not the change that triggered it: when a user
   * flaps, the last event watchers get is the state the user settled in.
   */
  private async publish(userId: string): Promise<void> {
    const user = await this.deps.users.findById(userId);
    if (!user) return;
    const online = (await this.deps.presence.onlineAmong([userId])).has(userId);
    this.deps.delivery.toPresenceWatchers(userId, { userId, online, lastSeenAt: user.lastSeenAt?.toISOString() ?? null });
  }
}
