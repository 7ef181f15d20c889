import type { AuditDetails, AuditQuery, AuditResponse, AuditType } from '../protocol/audit.js';
import type { ClientContext } from '../shared/client-context.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { paginate } from '../shared/pagination.js';
import type { AuditEntryRecord, AuditStore } from './audit-store.js';

/** Who did an audited action and how it reached the server; `actorId` null when it is not known. */
export interface AuditEntryInput<T extends AuditType> {
  actorId: string | null;
  targetUserId: string | null;
  /** Null for an action that came through no request (the command line). */
  client: ClientContext | null;
  details: AuditDetails<T>;
}

const USER_AGENT_MAX = 300;

/**
 * Records audited actions and reads them back for admins. An entry is written after its action, awaited
 * by the action, but a failed write never fails the action: it is logged with the whole entry instead
 * (nothing in an entry is secret), so the rare lost entry can still be found in the logs.
 */
export class AuditLog {
  private readonly now: () => Date;

  constructor(private readonly deps: { store: AuditStore; logger: Logger; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
  }

  async record<T extends AuditType>(type: T, input: AuditEntryInput<T>): Promise<void> {
    const entry = {
      id: newId(),
      at: this.now(),
      type,
      actorId: input.actorId,
      targetUserId: input.targetUserId,
      ip: input.client?.ip ?? null,
      userAgent: input.client?.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      details: input.details,
    } as AuditEntryRecord;
    try {
      await this.deps.store.append(entry);
    } catch (error) {
      this.deps.logger.error({ err: error, audit: entry }, 'could not record an audit entry');
    }
  }

  async list(query: AuditQuery): Promise<AuditResponse> {
    const rows = await this.deps.store.list({
      userId: query.userId,
      types: query.type,
      from: query.from,
      to: query.to,
      before: query.before,
      limit: query.limit + 1,
    });
    const { items, nextCursor } = paginate(rows, query.limit, (entry) => entry.id);
    return { entries: items.map((entry) => ({ ...entry, at: entry.at.toISOString() })), nextCursor };
  }
}
