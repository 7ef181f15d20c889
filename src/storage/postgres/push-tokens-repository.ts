import type { Kysely } from 'kysely';
import type { PushTokensRepository } from '../ports.js';
import type { Database } from './schema.js';

export function createPushTokensRepository(db: Kysely<Database>): PushTokensRepository {
  return {
    async upsert(token) {
      await db
        .insertInto('push_tokens')
        .values({ token: token.token, user_id: token.userId, device_id: token.deviceId, updated_at: token.updatedAt })
        .onConflict((oc) =>
          oc.column('token').doUpdateSet({ user_id: token.userId, device_id: token.deviceId, updated_at: token.updatedAt }),
        )
        .execute();
    },
    async listByUser(userId) {
      const rows = await db.selectFrom('push_tokens').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').execute();
      return rows.map((row) => ({ token: row.token, userId: row.user_id, deviceId: row.device_id, updatedAt: row.updated_at }));
    },
    async remove(token) {
      await db.deleteFrom('push_tokens').where('token', '=', token).execute();
    },
  };
}
