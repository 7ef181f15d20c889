import type { Kysely, Selectable } from 'kysely';
import type { AbuseReportRecord, AbuseReportsRepository } from '../ports.js';
import type { AbuseReportsTable, Database } from './schema.js';

const toReport = (row: Selectable<AbuseReportsTable>): AbuseReportRecord => ({
  id: row.id,
  reporterId: row.reporter_id,
  reportedUserId: row.reported_user_id,
  messageId: row.message_id,
  reason: row.reason,
  details: row.details,
  createdAt: row.created_at,
});

export function createAbuseReportsRepository(db: Kysely<Database>): AbuseReportsRepository {
  return {
    async create(report) {
      await db
        .insertInto('abuse_reports')
        .values({
          id: report.id,
          reporter_id: report.reporterId,
          reported_user_id: report.reportedUserId,
          message_id: report.messageId,
          reason: report.reason,
          details: report.details,
          created_at: report.createdAt,
        })
        .execute();
    },

    async list(page) {
      let query = db.selectFrom('abuse_reports').selectAll();
      if (page.before) query = query.where('id', '<', page.before);
      return (await query.orderBy('id', 'desc').limit(page.limit).execute()).map(toReport);
    },
  };
}
