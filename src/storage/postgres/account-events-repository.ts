import { sql, type Kysely } from 'kysely';
import type { AccountEvent, AccountEventsRepository } from '../ports.js';
import type { Database } from './schema.js';

export function createAccountEventsRepository(db: Kysely<Database>): AccountEventsRepository {
  return {
    async since(since) {
      const [rows, clock] = await Promise.all([
        db.selectFrom('account_events').selectAll().where('created_at', '>=', since).orderBy('seq').execute(),
        sql<{ now: Date }>`select statement_timestamp() as now`.execute(db),
      ]);
      const events = rows.map((row): AccountEvent & { seq: string } =>
        row.kind === 'sessions_revoked'
          ? { seq: row.seq, kind: 'sessionsRevoked', userId: row.user_id, sessionIds: row.session_ids ?? [] }
          : { seq: row.seq, kind: 'accountChanged', userId: row.user_id, status: row.status ?? 'active' },
      );
      return { events, now: clock.rows[0]!.now };
    },
    async prune(before) {
      await db.deleteFrom('account_events').where('created_at', '<', before).execute();
    },
  };
}
