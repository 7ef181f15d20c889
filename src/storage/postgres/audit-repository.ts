import type { Kysely, Selectable } from 'kysely';
import type { AuditEntryRecord, AuditStore } from '../../audit/audit-store.js';
import type { AuditLogTable, Database } from './schema.js';

const toEntry = (row: Selectable<AuditLogTable>) =>
  ({
    id: row.id,
    at: row.at,
    type: row.type,
    actorId: row.actor_id,
    targetUserId: row.target_user_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  }) as AuditEntryRecord;

export function createAuditRepository(db: Kysely<Database>): AuditStore {
  return {
    async append(entry) {
      await db
        .insertInto('audit_log')
        .values({
          id: entry.id,
          at: entry.at,
          type: entry.type,
          actor_id: entry.actorId,
          target_user_id: entry.targetUserId,
          ip: entry.ip,
          user_agent: entry.userAgent,
          details: JSON.stringify(entry.details),
        })
        .execute();
    },

    async list(filter) {
      const { userId, types, from, to, before } = filter;
      if (types?.length === 0) return [];
      let query = db.selectFrom('audit_log').selectAll();
      if (userId) query = query.where((eb) => eb.or([eb('actor_id', '=', userId), eb('target_user_id', '=', userId)]));
      if (types) query = query.where('type', 'in', types);
      if (from) query = query.where('at', '>=', from);
      if (to) query = query.where('at', '<', to);
      if (before) query = query.where('id', '<', before);
      return (await query.orderBy('id', 'desc').limit(filter.limit).execute()).map(toEntry);
    },

    async deleteOlderThan(before, limit) {
      // Another process's cleanup deleting at the same time takes other rows instead of waiting for these.
      const oldest = db.selectFrom('audit_log').select('id').where('at', '<', before).orderBy('at').limit(limit).forUpdate().skipLocked();
      const result = await db.deleteFrom('audit_log').where('id', 'in', oldest).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
