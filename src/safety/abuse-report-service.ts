import type { AbuseReportsResponse, ReportBody } from '../protocol/safety.js';
import { AppError } from '../shared/app-error.js';
import { newId } from '../shared/ids.js';
import { paginate } from '../shared/pagination.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { AbuseReportRecord, AbuseReportsRepository, ConversationsRepository, MessagesRepository, UsersRepository } from '../storage/ports.js';

export interface AbuseReportServiceDeps {
  reports: AbuseReportsRepository;
  users: Pick<UsersRepository, 'findById'>;
  messages: Pick<MessagesRepository, 'findById'>;
  conversations: Pick<ConversationsRepository, 'membership'>;
  /** Reports per user. */
  budget: RateLimit;
  now?: () => Date;
}

const present = (report: AbuseReportRecord) => ({ ...report, createdAt: report.createdAt.toISOString() });

/**
 * Reports of abuse, recorded for admins: who reports whom, for what, and optionally which message (one
 * the reporter can read, sent by the reported user). The report points at the message; it keeps no copy
 * of its content, so a message deleted for everyone is gone for admins too.
 */
export class AbuseReportService {
  private readonly now: () => Date;

  constructor(private readonly deps: AbuseReportServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async report(reporterId: string, input: ReportBody): Promise<{ id: string; createdAt: string }> {
    if (input.userId === reporterId) {
      throw new AppError('VALIDATION_FAILED', 'You cannot report yourself', { details: [{ path: 'body.userId', message: 'must be another user' }] });
    }
    await this.deps.budget.consume(reporterId);
    const user = await this.deps.users.findById(input.userId);
    if (!user || user.status === 'deleted') throw new AppError('NOT_FOUND', 'No such user');
    if (input.messageId !== undefined) {
      const message = await this.deps.messages.findById(input.messageId);
      const readable = message && message.senderId === input.userId && (await this.deps.conversations.membership(message.conversationId, reporterId));
      if (!readable) throw new AppError('NOT_FOUND', 'No such message', { details: [{ path: 'body.messageId', message: 'no message of this user that you can read' }] });
    }
    const report: AbuseReportRecord = {
      id: newId(),
      reporterId,
      reportedUserId: input.userId,
      messageId: input.messageId ?? null,
      reason: input.reason,
      details: input.details ?? null,
      createdAt: this.now(),
    };
    await this.deps.reports.create(report);
    return { id: report.id, createdAt: report.createdAt.toISOString() };
  }

  async list(page: { before?: string | undefined; limit: number }): Promise<AbuseReportsResponse> {
    const rows = await this.deps.reports.list({ before: page.before, limit: page.limit + 1 });
    const { items, nextCursor } = paginate(rows, page.limit, (report) => report.id);
    return { reports: items.map(present), nextCursor };
  }
}
