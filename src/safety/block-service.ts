import type { BlockDto, BlocksResponse } from '../protocol/safety.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { paginate } from '../shared/pagination.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { BlocksRepository, UsersRepository } from '../storage/ports.js';

export interface BlockServiceDeps {
  blocks: BlocksRepository;
  users: Pick<UsersRepository, 'findById'>;
  delivery: Delivery;
  events: DomainEvents;
  /** Blocks and unblocks per user, together. */
  changes: RateLimit;
  now?: () => Date;
}

/**
 * A user blocks another: from then on the blocked user's direct messages and calls to them answer as if
 * they did not exist, neither sees the other's presence, and the blocked user cannot add them to groups
 * (chat, calls, people and groups each apply it where they decide). The blocked user is never told.
 */
export class BlockService {
  private readonly now: () => Date;

  constructor(private readonly deps: BlockServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async block(blockerId: string, userId: string): Promise<{ block: BlockDto; created: boolean }> {
    if (userId === blockerId) throw new AppError('VALIDATION_FAILED', 'You cannot block yourself', { details: [{ path: 'body.userId', message: 'must be another user' }] });
    await this.deps.changes.consume(blockerId);
    const user = await this.deps.users.findById(userId);
    if (!user || user.status === 'deleted') throw new AppError('NOT_FOUND', 'No such user');
    const { created, blockedAt } = await this.deps.blocks.block(blockerId, userId, this.now());
    // Watching stops both ways at once; a new subscription is refused by the presence rule.
    if (created) {
      this.deps.events.emit('blocksChanged', { blockerId, blockedId: userId });
      this.deps.delivery.unwatchPresence([blockerId], userId);
      this.deps.delivery.unwatchPresence([userId], blockerId);
    }
    return { block: { userId, name: user.name, blockedAt: blockedAt.toISOString() }, created };
  }

  async unblock(blockerId: string, userId: string): Promise<void> {
    await this.deps.changes.consume(blockerId);
    if (await this.deps.blocks.unblock(blockerId, userId)) this.deps.events.emit('blocksChanged', { blockerId, blockedId: userId });
  }

  async list(blockerId: string, page: { after?: string | undefined; limit: number }): Promise<BlocksResponse> {
    const rows = await this.deps.blocks.list(blockerId, { after: page.after, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (block) => block.userId);
    return { blocks: items.map((block) => ({ userId: block.userId, name: block.name, blockedAt: block.blockedAt.toISOString() })), nextCursor };
  }
}
