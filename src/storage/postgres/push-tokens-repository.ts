import type { Kysely, Selectable } from 'kysely';
import type { PushTokenRecord, PushTokensRepository } from '../ports.js';
import type { Database, PushTokensTable } from './schema.js';

const toPushToken = (row: Selectable<PushTokensTable>): PushTokenRecord => ({
  token: row.token,
  userId: row.user_id,
  sessionId: row.session_id,
  deviceId: row.device_id,
  updatedAt: row.updated_at,
});

export function createPushTokensRepository(db: Kysely<Database>): PushTokensRepository {
  return {
    register(token) {
      return db.transaction().execute(async (trx) => {
        // Locking the session serialises registrations from one session and waits out a revocation in
        // flight: a revoked session registers nothing. (A revocation that starts while this runs does not
        // see the new row; listByUser leaves such a token out and the session's deletion cascades to it.)
        const session = await trx
          .selectFrom('sessions')
          .select('id')
          .where('id', '=', token.sessionId)
          .where('user_id', '=', token.userId)
          .where('revoked_at', 'is', null)
          .forNoKeyUpdate()
          .executeTakeFirst();
        if (!session) return false;
        await trx
          .deleteFrom('push_tokens')
          .where('token', '!=', token.token)
          .where((eb) => {
            const ofSession = eb('session_id', '=', token.sessionId);
            return token.deviceId === null
              ? ofSession
              : eb.or([ofSession, eb.and([eb('user_id', '=', token.userId), eb('device_id', '=', token.deviceId)])]);
          })
          .execute();
        const values = { user_id: token.userId, session_id: token.sessionId, device_id: token.deviceId, updated_at: token.updatedAt };
        await trx
          .insertInto('push_tokens')
          .values({ token: token.token, ...values })
          .onConflict((oc) => oc.column('token').doUpdateSet(values))
          .execute();
        // A token that moved from another account must not carry that account's pushes. After the upsert:
        // an enqueue for the previous owner holds the token row, so the upsert waited for its pushes.
        await trx.deleteFrom('push_outbox').where('token', '=', token.token).where('user_id', '!=', token.userId).execute();
        return true;
      });
    },
    async listByUser(userId) {
      const rows = await db
        .selectFrom('push_tokens')
        .leftJoin('sessions', 'sessions.id', 'push_tokens.session_id')
        .selectAll('push_tokens')
        .where('push_tokens.user_id', '=', userId)
        .where('sessions.revoked_at', 'is', null)
        .orderBy('push_tokens.updated_at', 'desc')
        .execute();
      return rows.map(toPushToken);
    },
    async removeForUser(userId, token) {
      const row = await db.deleteFrom('push_tokens').where('token', '=', token).where('user_id', '=', userId).returningAll().executeTakeFirst();
      return row ? toPushToken(row) : null;
    },
  };
}
